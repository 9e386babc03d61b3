// inventory is a small service that is not one of gatewaylab's reference
// services: it stands in for "your own Go service" in the tests of the
// user-service contract (README, "Your own service").
//
// It listens on 127.0.0.1:$PORT, serves /metrics and /debug/pprof/ on
// 127.0.0.1:$METRICS_PORT, and answers GET /api/item by asking its
// dependency ($DEPENDENCY_URL/item). With LEAK=1 it forgets to close the
// dependency's response body: each request keeps a connection, and the
// handlers pile up waiting for one.
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	port, metricsPort, dep := os.Getenv("PORT"), os.Getenv("METRICS_PORT"), os.Getenv("DEPENDENCY_URL")
	if port == "" || metricsPort == "" || dep == "" {
		log.Fatal("PORT, METRICS_PORT and DEPENDENCY_URL must be set")
	}
	leak := os.Getenv("LEAK") == "1"
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 10, MaxIdleConnsPerHost: 10}}

	api := http.NewServeMux()
	api.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	api.HandleFunc("/api/item", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Get(dep + "/item")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if !leak {
			defer resp.Body.Close()
		}
		var buf [64]byte
		n, _ := io.ReadFull(resp.Body, buf[:]) // reads a little, as a JSON decoder that stops early would
		if !leak {
			io.Copy(io.Discard, resp.Body)
		}
		fmt.Fprintf(w, "item: %q\n", buf[:n])
	})

	http.Handle("/metrics", promhttp.Handler()) // go_goroutines, process_open_fds, ... from the default registry
	go func() { log.Fatal(http.ListenAndServe("127.0.0.1:"+metricsPort, nil)) }()
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: api, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
