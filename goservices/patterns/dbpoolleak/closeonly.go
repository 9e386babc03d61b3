package dbpoolleak

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// HALF FIX: rows are closed, so the pool no longer leaks. But the query has
// no deadline: when the database is slow, each query holds its connection for
// as long as the database takes - long after the gateway gave up - and the
// queries behind it wait for a connection, without limit.
func CloseOnly(env svc.Env) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.Background()
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
