// Package svc holds what every pattern handler needs, so the pattern files
// themselves show only the code under study.
package svc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Env is what a pattern variant is built from.
type Env struct {
	Client        *http.Client      // the one shared outbound client of this process
	DependencyURL string            // base URL, e.g. http://127.0.0.1:4567
	DependencyTCP string            // raw TCP line-protocol address, e.g. 127.0.0.1:4568; "" unless -dependency-tcp
	Replica       string            // replica name, echoed in answers
	ClientTimeout time.Duration     // used by variants that set http.Client.Timeout
	Params        map[string]string // -param key=value; refsvc checks them against Pattern.Params at start-up
	DB            *sql.DB           // the process's one database pool; nil unless -database (patterns with a Setup)
}

// Constructor builds one variant's handler.
type Constructor func(Env) http.Handler

// OK answers 200 {"ok":true,"replica":...}.
func OK(w http.ResponseWriter, replica string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "replica": replica})
}

// Degraded answers 200 {"ok":true,"degraded":true,"replica":...}: a fallback
// answer, so the gateway sees success.
func Degraded(w http.ResponseWriter, replica string) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "degraded": true, "replica": replica})
}

// Fail answers 502 {"ok":false,"error":...} for a failed outbound call.
func Fail(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadGateway, map[string]any{"ok": false, "error": err.Error()})
}

// Error answers code {"ok":false,"error":...}; code may even be 200.
func Error(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]any{"ok": false, "error": err.Error()})
}

// Unavailable answers 503 {"ok":false,"error":...} with Retry-After: 1: an
// honest "not now" that a gateway can count (nginx: http_503) and retry.
func Unavailable(w http.ResponseWriter, err error) {
	w.Header().Set("Retry-After", "1")
	writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ok": false, "error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// Fetch calls the dependency's /item the correct way: with ctx, the body
// drained and closed; a non-200 answer is an error. Patterns whose bug is
// elsewhere use it, so their files show only that bug.
func (env Env) Fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.DependencyURL+"/item", nil)
	if err != nil {
		return err
	}
	resp, err := env.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dependency answered %d", resp.StatusCode)
	}
	return nil
}
