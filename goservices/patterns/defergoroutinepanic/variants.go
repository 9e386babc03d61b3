// Package defergoroutinepanic is the "defer-goroutine-panic" scenario: a
// handler's defer starts an "async audit log" goroutine that assumes the
// dependency call succeeded. A recover in the handler cannot catch a panic
// in another goroutine, so one failed call (reset, refused) kills the whole
// replica (exit status 2).
package defergoroutinepanic

import (
	"io"
	"log/slog"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "defer-goroutine-panic"

// Variants maps -variant values to handler constructors.
var Variants = map[string]svc.Constructor{
	"buggy": Buggy,
	"fixed": Fixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, no params.
var Pattern = svc.Pattern{Name: Name, Variants: Variants}

// call does the dependency call, body drained and closed. resp is nil when
// the call failed at the transport (reset, refused).
func call(r *http.Request, env svc.Env) (*http.Response, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, env.DependencyURL+"/item", nil)
	if err != nil {
		return nil, err
	}
	resp, err := env.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp, nil
}

// audit is the "async audit log". It reads resp without checking err, so a
// failed call (resp == nil) is a nil dereference. Debug is below refsvc's
// log level: the line is dropped, but its fields are read all the same.
func audit(resp *http.Response, err error) {
	slog.Debug("audit", "status", resp.StatusCode, "err", err)
}
