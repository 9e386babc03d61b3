package statusnotcounted

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"

	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
)

// deps are the test's stand-ins for what Toxiproxy does on the dependency leg.
func deps(t *testing.T) map[string]string {
	t.Helper()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	}))
	status500 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	// reset_peer: the connection dies before any answer.
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	// A disabled proxy: nothing listens any more.
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close()
	t.Cleanup(func() { ok.Close(); status500.Close(); reset.Close() })
	return map[string]string{"ok": ok.URL, "500": status500.URL, "reset": reset.URL, "refused": refused.URL}
}

func TestAnswers(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after deps' cleanup
	urls := deps(t)
	client := pool.NewClient(pool.New(), 10)
	defer client.CloseIdleConnections()
	failCode := map[string]int{
		"answer-500":       http.StatusInternalServerError,
		"answer-502":       http.StatusBadGateway,
		"answer-200-error": http.StatusOK,
		"answer-503":       http.StatusServiceUnavailable,
	}
	for variant, ctor := range Variants {
		for dep, url := range urls {
			for _, method := range Pattern.Methods {
				h := ctor(svc.Env{Client: client, DependencyURL: url, Replica: "t"})
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(method, "/api/item", nil))
				var body struct {
					OK    bool
					Error string
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("%s %s %s: body %q: %v", variant, dep, method, rec.Body, err)
				}
				wantCode, wantOK := failCode[variant], false
				if dep == "ok" {
					wantCode, wantOK = http.StatusOK, true
				}
				if rec.Code != wantCode || body.OK != wantOK || (!wantOK && body.Error == "") {
					t.Errorf("%s, dependency %s, %s: %d %s, want %d ok=%v", variant, dep, method, rec.Code, rec.Body, wantCode, wantOK)
				}
				retry := rec.Header().Get("Retry-After")
				if want := map[bool]string{true: "1"}[variant == "answer-503" && dep != "ok"]; retry != want {
					t.Errorf("%s, dependency %s: Retry-After %q, want %q", variant, dep, retry, want)
				}
			}
		}
	}
}
