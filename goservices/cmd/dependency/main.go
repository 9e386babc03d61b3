// Command dependency is the downstream service the replicas call. It never
// sleeps: latency and faults are injected by Toxiproxy in front of it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"gatewaylab/goservices/internal/loopback"
)

// ~2 KB body: big enough that an unread body is a real response, small
// enough to sit fully in the client's read buffer.
var pad = strings.Repeat("x", 2000)

func main() {
	fs := flag.NewFlagSet("dependency", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address, loopback only (e.g. 127.0.0.1:4567)")
	tcpAddr := fs.String("tcp-addr", "", "optional raw TCP line-protocol listen address, loopback only (e.g. 127.0.0.1:4568)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if err := loopback.CheckAddr(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "dependency: -addr:", err)
		os.Exit(2)
	}
	if *tcpAddr != "" {
		if err := loopback.CheckAddr(*tcpAddr); err != nil {
			fmt.Fprintln(os.Stderr, "dependency: -tcp-addr:", err)
			os.Exit(2)
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *tcpAddr, log); err != nil {
		log.Error("fatal", "err", err)
		os.Exit(1)
	}
}

func newMux() *http.ServeMux {
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item", func(w http.ResponseWriter, r *http.Request) {
		body := fmt.Sprintf(`{"ok":true,"id":%d,"pad":"%s"}`, n.Add(1), pad)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write([]byte(body))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	})
	return mux
}

func run(addr, tcpAddr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errc := make(chan error, 2)
	if tcpAddr != "" {
		tln, err := net.Listen("tcp", tcpAddr)
		if err != nil {
			ln.Close()
			return err
		}
		tctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); errc <- serveTCP(tctx, tln) }()
		defer func() { cancel(); <-done }()
	}
	srv := &http.Server{Handler: newMux(), ReadHeaderTimeout: 5 * time.Second}
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", addr, "tcp_addr", tcpAddr)
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	return nil
}
