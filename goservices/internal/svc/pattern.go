package svc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pattern describes one scenario: its variants, the paths and methods its
// handler answers and the -param keys it accepts.
type Pattern struct {
	Name     string
	Variants map[string]Constructor
	Methods  []string       // methods for every path; nil means GET only
	Paths    []string       // paths the handler is mounted on (it dispatches on r.URL.Path); nil means /api/item only
	Params   map[string]any // key -> default; the default's type (time.Duration or int) sets how a value parses
	// Servers tweaks the service-port http.Server per variant (e.g. its
	// WriteTimeout); variants not listed keep refsvc's settings.
	Servers map[string]func(Env, *http.Server)
	// Hooks gives a variant its own /livez, /readyz and SIGTERM handling;
	// variants not listed answer 200 to both and stop as refsvc does.
	Hooks map[string]HooksFunc
	// Setup prepares the database the pattern queries (schema, rows); it may
	// run more than once. A pattern with a Setup needs refsvc's -database.
	Setup func(context.Context, *sql.DB) error
}

// RouteMethods returns p.Methods, or GET when none are declared.
func (p Pattern) RouteMethods() []string {
	if len(p.Methods) == 0 {
		return []string{"GET"}
	}
	return p.Methods
}

// RoutePaths returns p.Paths, or /api/item when none are declared.
func (p Pattern) RoutePaths() []string {
	if len(p.Paths) == 0 {
		return []string{"/api/item"}
	}
	return p.Paths
}

// CheckParams rejects unknown keys and values that do not parse, so a bad
// -param stops refsvc at start-up instead of inside a handler.
func (p Pattern) CheckParams(given map[string]string) error {
	env := Env{Params: given}
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(given)) {
		var err error
		switch def := p.Params[key].(type) {
		case time.Duration:
			_, err = env.Duration(key, def)
		case int:
			_, err = env.Int(key, def)
		default:
			known := "none"
			if len(p.Params) > 0 {
				known = strings.Join(slices.Sorted(maps.Keys(p.Params)), ", ")
			}
			err = fmt.Errorf("-param %s: unknown for pattern %q (known: %s)", key, p.Name, known)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Duration reads param key as a duration >= 0, or def when it is unset.
func (e Env) Duration(key string, def time.Duration) (time.Duration, error) {
	s, ok := e.Params[key]
	if !ok {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return def, fmt.Errorf("-param %s=%q: want a duration >= 0, e.g. %v", key, s, def)
	}
	return d, nil
}

// Int reads param key as an integer >= 0, or def when it is unset.
func (e Env) Int(key string, def int) (int, error) {
	s, ok := e.Params[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return def, fmt.Errorf("-param %s=%q: want an integer >= 0, e.g. %d", key, s, def)
	}
	return n, nil
}
