package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
