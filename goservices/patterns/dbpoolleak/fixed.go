package dbpoolleak

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// FIX: rows are always closed (defer rows.Close()), and the query has a
// deadline (-param budget) below the gateway's proxy_read_timeout, from
// r.Context(): a slow database costs a request at most the budget, then an
// honest 503 the gateway can retry elsewhere; no connection is held longer.
func Fixed(env svc.Env) http.Handler {
	budget := budget(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
		rows, err := env.DB.QueryContext(ctx, featured)
		if err != nil {
			fail(w, ctx, err)
			return
		}
		defer rows.Close()
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.ID, &it.Name); err != nil {
				fail(w, ctx, err)
				return
			}
			svc.OK(w, env.Replica)
			return // rows.Close (deferred) gives the connection back
		}
		if err := rows.Err(); err != nil {
			fail(w, ctx, err)
			return
		}
		notFound(w)
	})
}
