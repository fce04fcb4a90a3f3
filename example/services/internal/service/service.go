// Package service is the start-up every command of the example stack
// shares, so that each main.go holds only what its service adds: log lines
// with UTC timestamps, one "<name>: <error>" line and exit status 1 on
// failure, and for the HTTP services the server on $PORT that drains on
// SIGTERM (httpx.Serve) and the /healthz and /readyz probes.
package service

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/db"
	"codex.example/services/internal/httpx"
)

// ReadyTimeout bounds one /readyz check of a database-backed service: the
// database ping, retried as httpx.Retry does.
const ReadyTimeout = 2 * time.Second

// QueryTimeout bounds the database work of one request of a database-backed
// service.
const QueryTimeout = 3 * time.Second

// Main runs the command name: it sets the log format and calls run; when run
// fails it logs "<name>: <error>" and exits 1, the status a Job or a
// restarting container reports.
func Main(name string, run func() error) {
	log.SetFlags(log.LstdFlags | log.LUTC)
	if err := run(); err != nil {
		log.Printf("%s: %v", name, err)
		os.Exit(1)
	}
}

// Serve is Main for an HTTP service: setup builds the handler (an error
// there, such as a malformed setting, ends the command at once), which is
// served on httpx.ListenAddr until SIGTERM or SIGINT.
func Serve(name string, setup func() (http.Handler, error)) {
	Main(name, func() error {
		handler, err := setup()
		if err != nil {
			return err
		}
		return httpx.Serve(name, httpx.ListenAddr(), handler)
	})
}

// ServeWithDatabase is Serve for a service backed by PostgreSQL
// ($DATABASE_URL, see db.URL). The pool connects lazily, so /healthz answers
// at once and /readyz reports whether the database answers a ping; routes
// adds the service's own endpoints to the mux that already has both.
func ServeWithDatabase(name string, routes func(mux *http.ServeMux, pool *pgxpool.Pool)) {
	var pool *pgxpool.Pool
	Serve(name, func() (http.Handler, error) {
		var err error
		if pool, err = db.NewPool(context.Background(), db.URL()); err != nil {
			return nil, err
		}
		return databaseMux(pool, routes), nil
	})
	// Serve returns only after a clean shutdown (it exits on failure): the
	// pool exists and its connections are closed politely.
	pool.Close()
}

// databaseMux answers /healthz, /readyz (the database ping within
// ReadyTimeout) and what routes adds.
func databaseMux(pool *pgxpool.Pool, routes func(mux *http.ServeMux, pool *pgxpool.Pool)) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.Handle("GET /readyz", httpx.Readyz(ReadyTimeout, pool.Ping))
	routes(mux, pool)
	return mux
}

// QueryJSON is the handler of an endpoint that answers from the database:
// query runs within QueryTimeout and its result is the 200 JSON reply. An
// error is a 503 {"error": …}, "database: <error>" or, for an ErrorReply,
// its text as it is.
func QueryJSON[T any](pool *pgxpool.Pool, query func(ctx context.Context, pool *pgxpool.Pool) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), QueryTimeout)
		defer cancel()
		v, err := query(ctx, pool)
		var reply ErrorReply
		switch {
		case errors.As(err, &reply):
			httpx.WriteError(w, http.StatusServiceUnavailable, reply.Error())
		case err != nil:
			httpx.WriteError(w, http.StatusServiceUnavailable, "database: "+err.Error())
		default:
			httpx.WriteJSON(w, http.StatusOK, v)
		}
	}
}

// ErrorReply is a query error the service can explain better than the
// driver (a row the migrations should have created, say): QueryJSON replies
// with its text instead of the driver's.
type ErrorReply string

func (e ErrorReply) Error() string { return string(e) }
