// Package loopback refuses listen/dial addresses that are not on this host:
// the reference services are deliberately broken and must never be reachable
// from outside the machine.
package loopback

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// CheckAddr accepts "host:port" where host is localhost or a loopback IP.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("address %q: bad port %q", addr, port)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("address %q: host must be 127.0.0.1, localhost or ::1 (loopback only)", addr)
	}
	return nil
}

// CheckURL accepts an http:// base URL whose host is loopback.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %v", raw, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("url %q: scheme must be http", raw)
	}
	if u.Port() == "" {
		return fmt.Errorf("url %q: port is required", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("url %q: host must be 127.0.0.1, localhost or ::1 (loopback only)", raw)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
