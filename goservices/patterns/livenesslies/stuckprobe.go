package livenesslies

import (
	"fmt"
	"net/http"
	"time"

	"gatewaylab/goservices/internal/svc"
)

// StuckProbe fails while the oldest in-flight request is older than
// stuck_after. A deadlocked process still answers a probe that checks
// nothing; this one checks whether its requests finish.
func StuckProbe(env svc.Env, t *svc.Tracker) http.Handler {
	after, err := env.Duration("stuck_after", DefaultStuckAfter)
	if err != nil {
		panic(err) // refsvc checks params at start-up
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if age := t.OldestInFlight(); age > after {
			svc.ProbeFail(w, fmt.Sprintf("stuck: a request has been in flight for %v (stuck_after %v)", age.Round(time.Millisecond), after))
			return
		}
		svc.ProbeOK(w, r)
	})
}
