package dbpoolleak

import (
	"context"
	"net/http"

	"gatewaylab/goservices/internal/svc"
)

// HALF FIX: a deadline on the query, rows still never closed. It looks like
// it does nothing for the leak - yet database/sql watches the query's context
// and closes the rows when that context ends: here the deferred cancel, as
// the handler returns (r.Context() alone would end too, a moment later). The
// forgotten Close is masked, not fixed: the same code under a context that
// never ends (context.Background(), db.Query) is the buggy build.
func DeadlineOnly(env svc.Env) http.Handler {
	budget := budget(env)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), budget)
		defer cancel()
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
