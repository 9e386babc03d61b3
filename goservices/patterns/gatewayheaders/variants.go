// Package gatewayheaders is the "gateway-headers" scenario (seed chapter 1):
// behind a TLS-terminating gateway the service sees plain HTTP and whatever
// Host the gateway sends. /api/item answers only for the public host (a host
// allow-list, as tenant routing or origin checks do); /api/login redirects to
// an absolute URL built from the request, as auth flows do.
//
// The buggy build reads r.TLS and r.Host: nginx's default Host is the
// upstream's name, so the check rejects every request (421), and redirects
// say http:// even when the gateway announced X-Forwarded-Proto: https. The
// fixed build believes X-Forwarded-Proto/-Host only from the gateway's
// address and builds both the check and the redirect from them.
package gatewayheaders

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "gateway-headers"

// PublicHost is the name clients use for the API: the scenario's
// gateway.public_host (the load sends it as Host; the traffic still goes to
// 127.0.0.1).
const PublicHost = "api.example.test"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item (host
// check) and GET /api/login (absolute redirect), no params.
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Paths:    []string{"/api/item", "/api/login"},
}

// servedHost reports whether host (an optional :port ignored) is the public
// host. Which host a build asks about is the difference under study.
func servedHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.EqualFold(host, PublicHost)
}

// misdirected answers 421 Misdirected Request: this service is not
// configured for that host (what a host allow-list answers; some say 403).
func misdirected(w http.ResponseWriter, host string) {
	svc.Error(w, http.StatusMisdirectedRequest, fmt.Errorf("host %q is not served here (want %s)", host, PublicHost))
}
