// Package metrics instruments the service port: in-flight requests and
// responses by status code, plus a build_info gauge.
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Instrument wraps h with gatewaylab_inflight_requests and
// gatewaylab_requests_total{code}, registered on reg.
func Instrument(reg prometheus.Registerer, h http.Handler) (http.Handler, error) {
	inflight := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "gatewaylab_inflight_requests", Help: "Service-port requests in flight.",
	})
	total := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatewaylab_requests_total", Help: "Service-port responses by status code.",
	}, []string{"code"})
	for _, c := range []prometheus.Collector{inflight, total} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Inc()
		defer inflight.Dec()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		total.WithLabelValues(strconv.Itoa(sw.code)).Inc()
	}), nil
}

// RegisterBuildInfo sets gatewaylab_build_info{pattern,variant,replica} = 1.
func RegisterBuildInfo(reg prometheus.Registerer, pattern, variant, replica string) error {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "gatewaylab_build_info",
		Help:        "Which pattern and variant this replica runs.",
		ConstLabels: prometheus.Labels{"pattern": pattern, "variant": variant, "replica": replica},
	})
	g.Set(1)
	return reg.Register(g)
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
