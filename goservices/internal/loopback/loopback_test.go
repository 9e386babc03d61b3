package loopback

import "testing"

func TestCheckAddr(t *testing.T) {
	good := []string{"127.0.0.1:8080", "localhost:0", "[::1]:9000", "127.0.0.2:1"}
	bad := []string{":8080", "0.0.0.0:8080", "10.0.0.1:80", "[::]:80", "example.com:80", "127.0.0.1", "127.0.0.1:x", ""}
	for _, a := range good {
		if err := CheckAddr(a); err != nil {
			t.Errorf("CheckAddr(%q) = %v, want nil", a, err)
		}
	}
	for _, a := range bad {
		if err := CheckAddr(a); err == nil {
			t.Errorf("CheckAddr(%q) = nil, want error", a)
		}
	}
}

func TestCheckURL(t *testing.T) {
	good := []string{"http://127.0.0.1:4567", "http://localhost:1/", "http://[::1]:80"}
	bad := []string{"https://127.0.0.1:443", "http://10.1.1.1:80", "http://127.0.0.1", "127.0.0.1:80", "http://example.com:80"}
	for _, u := range good {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v, want nil", u, err)
		}
	}
	for _, u := range bad {
		if err := CheckURL(u); err == nil {
			t.Errorf("CheckURL(%q) = nil, want error", u)
		}
	}
}
