package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/db"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestQueryJSONReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		query  func(ctx context.Context, pool *pgxpool.Pool) ([]string, error)
		status int
		body   string
	}{
		{"the result as JSON",
			func(context.Context, *pgxpool.Pool) ([]string, error) { return []string{"a"}, nil },
			http.StatusOK, "[\"a\"]\n"},
		{"a driver error under database:",
			func(context.Context, *pgxpool.Pool) ([]string, error) { return nil, errors.New("conn refused") },
			http.StatusServiceUnavailable, "{\"error\":\"database: conn refused\"}\n"},
		{"an ErrorReply as it is, also wrapped",
			func(context.Context, *pgxpool.Pool) ([]string, error) {
				return nil, fmt.Errorf("reading: %w", ErrorReply("row 1 is missing"))
			},
			http.StatusServiceUnavailable, "{\"error\":\"row 1 is missing\"}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, QueryJSON(nil, tc.query), "/")
			if status != tc.status || body != tc.body {
				t.Fatalf("reply = %d %q, want %d %q", status, body, tc.status, tc.body)
			}
		})
	}
}

func TestQueryJSONBoundsTheQuery(t *testing.T) {
	var left time.Duration
	h := QueryJSON(nil, func(ctx context.Context, _ *pgxpool.Pool) (int, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			return 0, errors.New("no deadline")
		}
		left = time.Until(deadline)
		return 0, nil
	})
	if status, body := get(t, h, "/"); status != http.StatusOK {
		t.Fatalf("reply = %d %q", status, body)
	}
	if left <= 0 || left > QueryTimeout {
		t.Fatalf("query had %s left, want at most %s", left, QueryTimeout)
	}
}

// The pool connects lazily: without a database /healthz still answers and
// /readyz says why it is not ready.
func TestDatabaseMuxProbesWithoutADatabase(t *testing.T) {
	pool, err := db.NewPool(context.Background(), "postgres://codex:codex@127.0.0.1:1/codex?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	mux := databaseMux(pool, func(mux *http.ServeMux, _ *pgxpool.Pool) {
		mux.HandleFunc("GET /own", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("own\n")) })
	})
	for _, tc := range []struct {
		path   string
		status int
		body   string // prefix
	}{
		{"/healthz", http.StatusOK, "ok\n"},
		{"/readyz", http.StatusServiceUnavailable, "not ready: "},
		{"/own", http.StatusOK, "own\n"},
	} {
		if status, body := get(t, mux, tc.path); status != tc.status || !strings.HasPrefix(body, tc.body) {
			t.Errorf("%s = %d %q, want %d %q…", tc.path, status, body, tc.status, tc.body)
		}
	}
}
