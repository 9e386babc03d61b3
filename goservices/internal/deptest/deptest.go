// Package deptest gives pattern tests a fake dependency and an Env that calls
// it through a counted pool, cleaned up with the test.
package deptest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"gatewaylab/goservices/internal/pool"
	"gatewaylab/goservices/internal/svc"
)

// Env starts h as the dependency and returns an Env whose client (at most
// maxConns connections) calls it. Faults are simulated in h, never in the
// service code under test.
func Env(t testing.TB, maxConns int, h http.HandlerFunc) svc.Env {
	t.Helper()
	dep := httptest.NewServer(h)
	client := pool.NewClient(pool.New(), maxConns)
	t.Cleanup(func() {
		client.CloseIdleConnections()
		dep.Close()
	})
	return svc.Env{Client: client, DependencyURL: dep.URL, Replica: "t"}
}
