package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"gatewaylab/goservices/internal/svc"
)

func TestServiceMuxMethods(t *testing.T) {
	item := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct {
		methods []string
		method  string
		path    string
		want    int
	}{
		{[]string{"GET"}, "GET", "/api/item", 200},
		{[]string{"GET"}, "POST", "/api/item", 405},
		{[]string{"POST"}, "POST", "/api/item", 200},
		{[]string{"POST"}, "GET", "/api/item", 405},
		{[]string{"POST"}, "GET", "/healthz", 200},
	} {
		rec := httptest.NewRecorder()
		serviceMux(tc.methods, item).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want {
			t.Errorf("methods %v: %s %s = %d, want %d", tc.methods, tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

func TestWithProbes(t *testing.T) {
	var hits int
	service := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ })
	fail := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	for _, tc := range []struct {
		hooks        svc.Hooks
		method, path string
		want, hits   int
	}{
		{svc.Hooks{}, "GET", "/livez", 200, 0},
		{svc.Hooks{}, "GET", "/readyz", 200, 0},
		{svc.Hooks{Ready: fail}, "GET", "/readyz", 503, 0},
		{svc.Hooks{Ready: fail}, "GET", "/livez", 200, 0},
		{svc.Hooks{Live: fail}, "GET", "/livez", 503, 0},
		{svc.Hooks{}, "GET", "/api/item", 200, 1},
		{svc.Hooks{}, "GET", "/healthz", 200, 1},
		{svc.Hooks{}, "POST", "/livez", 200, 1}, // not a probe: the service mux answers it
	} {
		hits = 0
		rec := httptest.NewRecorder()
		withProbes(service, tc.hooks).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.want || hits != tc.hits {
			t.Errorf("%s %s: %d (service hit %d), want %d (%d)", tc.method, tc.path, rec.Code, hits, tc.want, tc.hits)
		}
	}
}
