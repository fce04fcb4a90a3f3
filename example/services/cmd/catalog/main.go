// Command catalog is an internal service of the example stack.
//
//	GET /healthz  200 "ok" while the process serves HTTP (liveness)
//	GET /readyz   200 once the database answers a ping, 503 before
//	GET /items    [{"id":1,"name":"Widget","priceCents":1999}, …] from table items, by id
//
// Env: PORT (default 8080), DATABASE_URL.
package main

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/service"
)

func main() {
	service.ServeWithDatabase("catalog", func(mux *http.ServeMux, pool *pgxpool.Pool) {
		mux.HandleFunc("GET /items", service.QueryJSON(pool, items))
	})
}

// Item is one row of table items.
type Item struct {
	ID         int32  `json:"id"`
	Name       string `json:"name"`
	PriceCents int32  `json:"priceCents"`
}

// items reads table items by id.
func items(ctx context.Context, pool *pgxpool.Pool) ([]Item, error) {
	rows, err := pool.Query(ctx, "SELECT id, name, price_cents FROM items ORDER BY id")
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
		var it Item
		err := row.Scan(&it.ID, &it.Name, &it.PriceCents)
		return it, err
	})
	if out == nil {
		out = []Item{} // an empty table is [], not null
	}
	return out, err
}
