// Command greeter is an internal service of the example stack.
//
//	GET /healthz   200 "ok" while the process serves HTTP (liveness)
//	GET /readyz    200 once the database answers a ping, 503 before
//	GET /greeting  {"service":"greeter","message":Message,"fromDatabase":<greetings row 1>}
//
// Env: PORT (default 8080), DATABASE_URL.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/db"
	"codex.example/services/internal/httpx"
)

// Greeting is the /greeting response body.
type Greeting struct {
	Service      string `json:"service"`
	Message      string `json:"message"`
	FromDatabase string `json:"fromDatabase"`
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	pool, err := db.NewPool(context.Background(), db.URL())
	if err != nil {
		log.Fatalf("greeter: %v", err)
	}
	defer pool.Close()
	if err := httpx.Serve("greeter", httpx.ListenAddr(), routes(pool)); err != nil {
		log.Printf("greeter: %v", err)
		os.Exit(1)
	}
}

func routes(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /readyz", httpx.Readyz(2*time.Second, pool.Ping))
	mux.HandleFunc("GET /greeting", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		var text string
		err := pool.QueryRow(ctx, "SELECT text FROM greetings WHERE id = 1").Scan(&text)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			httpx.WriteError(w, http.StatusServiceUnavailable, "greetings row 1 is missing: have the migrations run?")
			return
		case err != nil:
			httpx.WriteError(w, http.StatusServiceUnavailable, "database: "+err.Error())
			return
		}
		httpx.WriteJSON(w, http.StatusOK, Greeting{Service: "greeter", Message: Message, FromDatabase: text})
	})
	return mux
}
