package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestInstrument(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := Instrument(reg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusBadGateway)
		}
		w.Write([]byte("x"))
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := RegisterBuildInfo(reg, "unclosed-body", "buggy", "a"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/", "/bad"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	want := `
# HELP gatewaylab_requests_total Service-port responses by status code.
# TYPE gatewaylab_requests_total counter
gatewaylab_requests_total{code="200"} 2
gatewaylab_requests_total{code="502"} 1
# HELP gatewaylab_build_info Which pattern and variant this replica runs.
# TYPE gatewaylab_build_info gauge
gatewaylab_build_info{pattern="unclosed-body",replica="a",variant="buggy"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"gatewaylab_requests_total", "gatewaylab_build_info"); err != nil {
		t.Fatal(err)
	}
}
