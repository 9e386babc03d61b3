// Package livenesslies is the "liveness-lies" scenario: a handler whose
// error path returns with a mutex still locked deadlocks its replica after
// one failed dependency call. What happens next depends on the probes: a
// shallow liveness probe keeps the stuck process alive forever; a readiness
// probe that sees the stuck requests takes it out of the upstream group but
// nothing restarts it; a liveness probe that sees them gets it restarted;
// and a deep liveness probe that calls the dependency restarts every healthy
// replica during a dependency outage.
package livenesslies

import (
	"time"

	"gatewaylab/goservices/internal/svc"
)

// Name is the -pattern value for this scenario.
const Name = "liveness-lies"

// DefaultStuckAfter is -param stuck_after: how old the oldest in-flight
// request may be before the readiness/liveness probes call the replica stuck.
const DefaultStuckAfter = 2 * time.Second

// deepTimeout bounds deep-liveness's dependency call.
const deepTimeout = time.Second

// Variants maps -variant values to handler constructors: three builds keep
// the bug and differ only in their probes.
var Variants = map[string]svc.Constructor{
	"buggy":         Buggy,
	"readiness":     Buggy,
	"liveness":      Buggy,
	"deep-liveness": Fixed,
	"fixed":         Fixed,
}

// Pattern is this scenario as refsvc registers it: GET /api/item, param
// stuck_after, probes per variant (buggy and fixed: shallow, always 200).
var Pattern = svc.Pattern{
	Name:     Name,
	Variants: Variants,
	Params:   map[string]any{"stuck_after": DefaultStuckAfter},
	Hooks: map[string]svc.HooksFunc{
		"readiness": func(env svc.Env, t *svc.Tracker) svc.Hooks {
			return svc.Hooks{Ready: StuckProbe(env, t)}
		},
		"liveness": func(env svc.Env, t *svc.Tracker) svc.Hooks {
			p := StuckProbe(env, t)
			return svc.Hooks{Live: p, Ready: p}
		},
		"deep-liveness": func(env svc.Env, t *svc.Tracker) svc.Hooks {
			return svc.Hooks{Live: DeepLiveness(env)}
		},
	},
}
