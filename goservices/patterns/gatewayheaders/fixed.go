package gatewayheaders

import (
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"

	"gatewaylab/goservices/internal/svc"
)

// trustedProxies are the addresses the gateway's requests come from. Here the
// gateway->replica leg runs through Toxiproxy on loopback, so the replica sees
// 127.0.0.1; in production: the gateway's (or load balancer's) addresses only.
var trustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// FIX: trust X-Forwarded-Proto and X-Forwarded-Host only from the gateway,
// and build both the host check and the redirect from what the client used.
// A client that reaches the service directly cannot choose them.
func Fixed(env svc.Env) http.Handler {
	return fixed(env, trustedProxies)
}

func fixed(env svc.Env, trusted []netip.Prefix) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/item", func(w http.ResponseWriter, r *http.Request) {
		_, host := publicOrigin(r, trusted)
		if !servedHost(host) {
			misdirected(w, host)
			return
		}
		svc.OK(w, env.Replica)
	})
	mux.HandleFunc("/api/login", func(w http.ResponseWriter, r *http.Request) {
		scheme, host := publicOrigin(r, trusted)
		http.Redirect(w, r, scheme+"://"+host+"/api/item", http.StatusFound)
	})
	return mux
}

var hostSyntax = regexp.MustCompile(`^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$`)

// publicOrigin is the scheme and host the client used: from the connection,
// or from X-Forwarded-Proto/-Host when the request comes from a trusted
// proxy. Of a list the last value counts: the one the gateway added (nginx's
// proxy_set_header replaces a client's value; a gateway that appends leaves
// the client's first). Anything that is not a plain scheme or host is ignored.
func publicOrigin(r *http.Request, trusted []netip.Prefix) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if !fromTrusted(r.RemoteAddr, trusted) {
		return scheme, host
	}
	if p := strings.ToLower(last(r.Header.Values("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	if h := last(r.Header.Values("X-Forwarded-Host")); hostSyntax.MatchString(h) {
		host = h
	}
	return scheme, host
}

func fromTrusted(remoteAddr string, trusted []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range trusted {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// last is the last value of a header that may come as several lines or a
// comma-separated list.
func last(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.TrimSpace(v)
}
