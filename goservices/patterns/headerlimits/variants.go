// Package headerlimits is the "header-limits" scenario: headers too large
// for one of the layers. A request header (a large JWT, cookies) can be
// refused by the gateway (nginx's large_client_header_buffers: 400) or by
// the Go server (MaxHeaderBytes: 431); a response header larger than the
// gateway's proxy_buffer_size is "upstream sent too big header": a 502 that
// nginx counts against a replica that answered correctly.
package headerlimits

import (
	"net/http"
	"strings"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "header-limits"

// Param defaults; each variant reads only its own.
const (
	// The article's advice: MaxHeaderBytes 8 KB (Go's default is 1 MB; Go allows 4 KB of slack above it).
	DefaultMaxHeaderBytes = 8 << 10 // -param max_header_bytes (max-header-8k)
	// A session cookie larger than nginx's default proxy_buffer_size (one memory page, 4 KB here).
	DefaultResponseHeaderBytes = 6000 // -param response_header_bytes (big-response-header)
)

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"max-header-8k":       Answer,
	"default-limit":       Answer,
	"big-response-header": BigResponseHeader,
}

// Pattern is this scenario as refsvc registers it.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Params: map[string]any{
		"max_header_bytes":      DefaultMaxHeaderBytes,
		"response_header_bytes": DefaultResponseHeaderBytes,
	},
	Servers: map[string]func(svc.Env, *http.Server){"max-header-8k": MaxHeader8k},
}

// Answer fetches the dependency and answers: a healthy handler.
func Answer(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := env.Fetch(r.Context()); err != nil {
			svc.Error(w, http.StatusBadGateway, err)
			return
		}
		svc.OK(w, env.Replica)
	})
}

// BUG: the article's "MaxHeaderBytes 8 KB": a request whose headers pass the gateway gets 431 from Go.
func MaxHeader8k(env svc.Env, s *http.Server) {
	s.MaxHeaderBytes = intParam(env, "max_header_bytes", DefaultMaxHeaderBytes)
}

// BUG: a session cookie larger than the gateway's proxy_buffer_size. The answer is right; the gateway
// cannot read its headers and answers 502 itself.
func BigResponseHeader(env svc.Env) http.Handler {
	cookie := "session=" + strings.Repeat("s", max(0, intParam(env, "response_header_bytes", DefaultResponseHeaderBytes)-len("session=")))
	next := Answer(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", cookie)
		next.ServeHTTP(w, r)
	})
}

func intParam(env svc.Env, key string, def int) int {
	n, err := env.Int(key, def)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return n
}
