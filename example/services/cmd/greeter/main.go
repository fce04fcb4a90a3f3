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
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/service"
)

func main() {
	service.ServeWithDatabase("greeter", func(mux *http.ServeMux, pool *pgxpool.Pool) {
		mux.HandleFunc("GET /greeting", service.QueryJSON(pool, greeting))
	})
}

// Greeting is the /greeting response body.
type Greeting struct {
	Service      string `json:"service"`
	Message      string `json:"message"`
	FromDatabase string `json:"fromDatabase"`
}

// greeting is Message with the text of greetings row 1.
func greeting(ctx context.Context, pool *pgxpool.Pool) (Greeting, error) {
	var text string
	err := pool.QueryRow(ctx, "SELECT text FROM greetings WHERE id = 1").Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return Greeting{}, service.ErrorReply("greetings row 1 is missing: have the migrations run?")
	}
	return Greeting{Service: "greeter", Message: Message, FromDatabase: text}, err
}
