package ctxnotpropagated

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"gatewaylab/goservices/internal/svc"
)

// FIX: hand ctx to the socket. Its deadline becomes the conn's deadline, and
// a cancelled request (client gone) closes the conn, so the read always ends
// within the budget and the gateway gets a fast 504.
func Fixed(env svc.Env) http.Handler {
	budget := budget(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		// A new connection per request: the simplest client, one fd per call.
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", env.DependencyTCP)
		if err != nil {
			fail(w, ctx, err)
			return
		}
		defer conn.Close()
		if d, ok := ctx.Deadline(); ok {
			conn.SetDeadline(d)
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		defer stop()
		io.WriteString(conn, "GET item\n")
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			fail(w, ctx, err)
			return
		}
		if !strings.HasPrefix(line, "OK ") {
			svc.Fail(w, fmt.Errorf("dependency answered %q", line))
			return
		}
		svc.OK(w, env.Replica)
	})
}

// fail answers 504 when the budget ran out (the conn deadline can fire just
// before ctx's own timer does), 502 for any other error.
func fail(w http.ResponseWriter, ctx context.Context, err error) {
	if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
		svc.Error(w, http.StatusGatewayTimeout, errors.New("dependency timeout"))
		return
	}
	svc.Fail(w, err)
}
