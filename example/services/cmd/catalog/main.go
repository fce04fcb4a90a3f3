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
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/db"
	"codex.example/services/internal/httpx"
)

// Item is one row of table items.
type Item struct {
	ID         int32  `json:"id"`
	Name       string `json:"name"`
	PriceCents int32  `json:"priceCents"`
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	pool, err := db.NewPool(context.Background(), db.URL())
	if err != nil {
		log.Fatalf("catalog: %v", err)
	}
	defer pool.Close()
	if err := httpx.Serve("catalog", httpx.ListenAddr(), routes(pool)); err != nil {
		log.Printf("catalog: %v", err)
		os.Exit(1)
	}
}

func routes(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /readyz", httpx.Readyz(2*time.Second, pool.Ping))
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		rows, err := pool.Query(ctx, "SELECT id, name, price_cents FROM items ORDER BY id")
		if err != nil {
			httpx.WriteError(w, http.StatusServiceUnavailable, "database: "+err.Error())
			return
		}
		items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Item, error) {
			var it Item
			err := row.Scan(&it.ID, &it.Name, &it.PriceCents)
			return it, err
		})
		if err != nil {
			httpx.WriteError(w, http.StatusServiceUnavailable, "database: "+err.Error())
			return
		}
		if items == nil {
			items = []Item{} // an empty table is [], not null
		}
		httpx.WriteJSON(w, http.StatusOK, items)
	})
	return mux
}
