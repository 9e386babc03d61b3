package headerlimits

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
)

// serve runs a variant on a real server (MaxHeaderBytes is enforced by net/http's reader, not the handler).
func serve(t *testing.T, variant string) string {
	t.Helper()
	dep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"ok":true}`)) }))
	client := pool.NewClient(pool.New(), 10)
	env := svc.Env{Client: client, DependencyURL: dep.URL, Replica: "t"}
	s := &http.Server{Handler: Variants[variant](env)}
	if tweak := Pattern.Servers[variant]; tweak != nil {
		tweak(env, s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close(); client.CloseIdleConnections(); dep.Close() })
	return "http://" + ln.Addr().String()
}

// get sends headers of the given sizes (a JWT and cookies, each under nginx's 8 KB line buffer).
func get(t *testing.T, url string, sizes ...int) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/item", nil)
	for i, n := range sizes {
		req.Header.Set([]string{"Authorization", "Cookie", "X-Extra"}[i], strings.Repeat("t", n))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestMaxHeader8kRefusesWhatTheGatewayLetsThrough(t *testing.T) {
	url := serve(t, "max-header-8k")
	if code := get(t, url, 7000, 6000).StatusCode; code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("13 KB of headers under MaxHeaderBytes 8 KB: %d, want 431", code)
	}
	if code := get(t, url, 2000).StatusCode; code != http.StatusOK {
		t.Errorf("2 KB of headers: %d, want 200", code)
	}
}

func TestDefaultLimitTakesTheSameHeaders(t *testing.T) {
	if code := get(t, serve(t, "default-limit"), 7000, 6000).StatusCode; code != http.StatusOK {
		t.Errorf("13 KB of headers under Go's default (1 MB): %d, want 200", code)
	}
}

func TestBigResponseHeaderSendsTheCookie(t *testing.T) {
	resp := get(t, serve(t, "big-response-header"))
	if n := len(resp.Header.Get("Set-Cookie")); resp.StatusCode != http.StatusOK || n != DefaultResponseHeaderBytes {
		t.Errorf("status %d, Set-Cookie of %d bytes; want 200 and %d", resp.StatusCode, n, DefaultResponseHeaderBytes)
	}
}
