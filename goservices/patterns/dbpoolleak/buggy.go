package dbpoolleak

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// BUG: rows are never closed. The handler takes the first row and returns;
// the rest of the result is never read, so database/sql never gives the
// connection back to the pool. No deadline either: once every connection of
// the pool is held by forgotten rows, each new query waits for one forever.
func Buggy(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.Background()
		rows, err := env.DB.QueryContext(ctx, featured)
		if err != nil {
			fail(w, ctx, err)
			return
		}
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.ID, &it.Name); err != nil {
				fail(w, ctx, err)
				return
			}
			svc.OK(w, env.Replica)
			return // the first row is all we want: the connection stays with rows
		}
		if err := rows.Err(); err != nil {
			fail(w, ctx, err)
			return
		}
		notFound(w)
	})
}
