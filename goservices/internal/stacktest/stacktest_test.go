package stacktest

import (
	"testing"
	"time"
)

func park(stop chan struct{}) { <-stop }

func TestCount(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	for range 3 {
		go park(stop)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		n, b := Count("stacktest.park", "stacktest_test.go:8")
		if n == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Count = %d, want 3; block:\n%s", n, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
