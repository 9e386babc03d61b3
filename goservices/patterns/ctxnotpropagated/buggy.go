package ctxnotpropagated

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"gatewaylab/goservices/internal/svc"
)

// BUG: ctx bounds only the dial. The write and the read ignore it, so when
// the dependency holds the connection the read blocks forever: past the
// budget, past nginx's timeout, one goroutine and one socket leaked per request.
func Buggy(env svc.Env) http.Handler {
	budget := budget(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		// A new connection per request: the simplest client, one fd per call.
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", env.DependencyTCP)
		if err != nil {
			svc.Fail(w, err)
			return
		}
		defer conn.Close()
		io.WriteString(conn, "GET item\n")
		line, err := bufio.NewReader(conn).ReadString('\n') // no deadline: may never return
		// Checked only after the read returns: by then the budget is long spent.
		if ctx.Err() != nil {
			svc.Error(w, http.StatusGatewayTimeout, errors.New("dependency timeout"))
			return
		}
		if err != nil {
			svc.Fail(w, err)
			return
		}
		if !strings.HasPrefix(line, "OK ") {
			svc.Fail(w, fmt.Errorf("dependency answered %q", line))
			return
		}
		svc.OK(w, env.Replica)
	})
}
