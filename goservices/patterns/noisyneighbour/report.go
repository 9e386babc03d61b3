package noisyneighbour

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"gatewaylab/goservices/internal/svc"
)

// reportCalls is how many dependency calls one report makes at once: this
// fan-out is what lets a few reports take a whole pool.
const reportCalls = 8

// report calls the dependency reportCalls times in parallel through client
// (each body drained and closed, by Fetch); it fails if any call fails.
func report(ctx context.Context, env svc.Env, client *http.Client) error {
	env.Client = client
	errs := make([]error, reportCalls)
	var wg sync.WaitGroup
	for i := range reportCalls {
		wg.Go(func() { errs[i] = env.Fetch(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
