package gatewayheaders

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/svc"
)

// What reaches the replica, per hop. nginx's defaults (measured, 1.22):
// Host $proxy_host = the upstream group's name, "app"; a client's own
// X-Forwarded-* pass through untouched unless the gateway sets them.
const (
	gatewayAddr = "127.0.0.1:40001"   // the gateway leg, through Toxiproxy on loopback
	directAddr  = "203.0.113.7:50123" // a client that reaches the replica without the gateway
	upstream    = "app"               // nginx's default Host: the upstream group's name
	evil        = "evil.example.test" // what a spoofing client would like redirects to say
)

type req struct {
	path, remote, host string
	headers            map[string]string
}

func serve(h http.Handler, q req) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, q.path, nil)
	r.RemoteAddr, r.Host = q.remote, q.host
	for k, v := range q.headers {
		r.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

var env = svc.Env{Replica: "t"}

var behindTLSGateway = map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": PublicHost}

// The buggy build checks r.Host: nginx's default Host ("app") is rejected,
// though the client asked for the public host.
func TestBuggyRejectsTheHostNginxSendsByDefault(t *testing.T) {
	h := Buggy(env)
	if rec := serve(h, req{"/api/item", gatewayAddr, upstream, behindTLSGateway}); rec.Code != http.StatusMisdirectedRequest {
		t.Errorf("Host %q (nginx default): %d %s, want 421", upstream, rec.Code, rec.Body)
	}
	if rec := serve(h, req{"/api/item", gatewayAddr, PublicHost, nil}); rec.Code != http.StatusOK {
		t.Errorf("Host %q (proxy_set_header Host $host): %d %s, want 200", PublicHost, rec.Code, rec.Body)
	}
}

// The buggy build ignores X-Forwarded-Proto: behind a TLS gateway every
// redirect says http://, whatever the gateway announces.
func TestBuggyRedirectsToHTTP(t *testing.T) {
	h := Buggy(env)
	for host, want := range map[string]string{
		PublicHost: "http://" + PublicHost + "/api/item", // Host $host: the seed's http:// redirect
		upstream:   "http://app/api/item",                // nginx's default Host; proxy_redirect default rewrites this one
	} {
		rec := serve(h, req{"/api/login", gatewayAddr, host, behindTLSGateway})
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
			t.Errorf("Host %q: %d Location %q, want 302 %q", host, rec.Code, rec.Header().Get("Location"), want)
		}
	}
}

func TestFixedBelievesTheGateway(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	h := Fixed(env)
	for _, host := range []string{upstream, PublicHost} { // either Host: the forwarded one counts
		if rec := serve(h, req{"/api/item", gatewayAddr, host, behindTLSGateway}); rec.Code != http.StatusOK {
			t.Errorf("item, Host %q: %d %s, want 200", host, rec.Code, rec.Body)
		}
		rec := serve(h, req{"/api/login", gatewayAddr, host, behindTLSGateway})
		if want := "https://" + PublicHost + "/api/item"; rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
			t.Errorf("login, Host %q: %d Location %q, want 302 %q", host, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	// Without the forwarded headers it can only fall back to the connection:
	// the fix needs the gateway's half (proxy_set_header X-Forwarded-*).
	if rec := serve(h, req{"/api/item", gatewayAddr, upstream, nil}); rec.Code != http.StatusMisdirectedRequest {
		t.Errorf("no X-Forwarded-Host, Host %q: %d, want 421", upstream, rec.Code)
	}
	rec := serve(h, req{"/api/login", gatewayAddr, upstream, nil})
	if got := rec.Header().Get("Location"); got != "http://app/api/item" {
		t.Errorf("no forwarded headers: Location %q", got)
	}
}

// A client that does not come through the gateway cannot choose the scheme
// or host the service believes in.
func TestFixedIgnoresSpoofedHeadersFromOthers(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	h := Fixed(env)
	spoof := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": evil}
	rec := serve(h, req{"/api/login", directAddr, PublicHost, spoof})
	if want := "http://" + PublicHost + "/api/item"; rec.Header().Get("Location") != want {
		t.Errorf("direct client: Location %q, want %q (its own connection, not its headers)", rec.Header().Get("Location"), want)
	}
	claim := map[string]string{"X-Forwarded-Host": PublicHost}
	if rec := serve(h, req{"/api/item", directAddr, upstream, claim}); rec.Code != http.StatusMisdirectedRequest {
		t.Errorf("direct client claiming the public host: %d, want 421", rec.Code)
	}
	// The same headers from the gateway are believed: trusting the gateway is
	// only as good as the gateway overwriting them (nginx passes a client's
	// X-Forwarded-Host through unless it sets its own).
	rec = serve(h, req{"/api/login", gatewayAddr, PublicHost, spoof})
	if want := "https://" + evil + "/api/item"; rec.Header().Get("Location") != want {
		t.Errorf("from the gateway: Location %q, want %q", rec.Header().Get("Location"), want)
	}
}

// What the seed recommends, a ProxyHeaders middleware that believes every
// client, is the buggy build's opposite mistake: trusting everyone.
func TestFixedWithEveryoneTrustedIsSpoofable(t *testing.T) {
	h := fixed(env, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")})
	rec := serve(h, req{"/api/login", directAddr, PublicHost, map[string]string{"X-Forwarded-Host": evil}})
	if want := "http://" + evil + "/api/item"; rec.Header().Get("Location") != want {
		t.Errorf("trust-all: Location %q, want %q (an open redirect)", rec.Header().Get("Location"), want)
	}
}

func TestFixedRejectsMalformedForwardedValues(t *testing.T) {
	h := Fixed(env)
	for _, c := range []struct{ proto, host, want string }{
		{"http, https", evil + ", " + PublicHost, "https://" + PublicHost + "/api/item"}, // a client's, then the gateway's
		{"javascript", PublicHost, "http://" + PublicHost + "/api/item"},
		{"https", evil + "/x?y", "https://" + PublicHost + "/api/item"},
		{"https", "user@" + evil, "https://" + PublicHost + "/api/item"},
		{"HTTPS", PublicHost + ":8443", "https://" + PublicHost + ":8443/api/item"},
	} {
		rec := serve(h, req{"/api/login", gatewayAddr, PublicHost, map[string]string{"X-Forwarded-Proto": c.proto, "X-Forwarded-Host": c.host}})
		if got := rec.Header().Get("Location"); got != c.want {
			t.Errorf("proto %q host %q: Location %q, want %q", c.proto, c.host, got, c.want)
		}
	}
}

// Over a real loopback connection RemoteAddr is 127.0.0.1 for the gateway
// and for any other local client alike: on one machine the trusted-proxy
// check cannot tell them apart (the scenario's gateway must therefore set,
// not pass through, every header the service trusts).
func TestLoopbackPeersAreAllTrusted(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	srv := httptest.NewServer(Fixed(env))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() { client.CloseIdleConnections(); srv.Close() })
	r, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/login", nil)
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("X-Forwarded-Host", PublicHost)
	resp, err := client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://" + PublicHost + "/api/item"; resp.Header.Get("Location") != want {
		t.Errorf("Location %q, want %q", resp.Header.Get("Location"), want)
	}
}
