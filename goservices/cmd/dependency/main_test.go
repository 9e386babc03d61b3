package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestItem(t *testing.T) {
	rec := httptest.NewRecorder()
	newMux().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/item", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Length") == "" {
		t.Fatalf("bad response %d %v", rec.Code, rec.Header())
	}
	if n := rec.Body.Len(); n < 1900 || n > 2200 {
		t.Errorf("body %d bytes, want ~2 KB", n)
	}
	var v struct {
		OK bool `json:"ok"`
		ID int  `json:"id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || !v.OK || v.ID != 1 {
		t.Errorf("body %+v err %v", v, err)
	}
}
