package svc

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestTracker(t *testing.T) {
	var tr Tracker
	if tr.OldestInFlight() != 0 || tr.InFlight() != 0 {
		t.Fatal("idle tracker reports requests")
	}
	release := make(chan struct{})
	entered := make(chan struct{}, 2)
	h := tr.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	done := make(chan struct{})
	serve := func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		done <- struct{}{}
	}
	go serve()
	<-entered
	time.Sleep(20 * time.Millisecond)
	go serve()
	<-entered
	if n := tr.InFlight(); n != 2 {
		t.Errorf("InFlight = %d, want 2", n)
	}
	if age := tr.OldestInFlight(); age < 20*time.Millisecond {
		t.Errorf("OldestInFlight = %v, want the first request's age (>= 20ms)", age)
	}
	close(release)
	<-done
	<-done
	if tr.OldestInFlight() != 0 || tr.InFlight() != 0 {
		t.Errorf("after return: %v, %d in flight", tr.OldestInFlight(), tr.InFlight())
	}
}

func TestTrackerForgetsPanickedRequest(t *testing.T) {
	var tr Tracker
	h := tr.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() { recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	if tr.InFlight() != 0 {
		t.Error("a panicked request stays in flight")
	}
}
