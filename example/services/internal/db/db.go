// Package db opens the PostgreSQL connection the example services share.
package db

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"codex.example/services/internal/httpx"
)

// DefaultURL matches the postgres unit of the example stack (Service name
// "postgres", user/password/database "codex"), so the services run in the
// cluster without any configuration.
const DefaultURL = "postgres://codex:codex@postgres:5432/codex?sslmode=disable"

// URL returns $DATABASE_URL or DefaultURL.
func URL() string {
	return httpx.Getenv("DATABASE_URL", DefaultURL)
}

// NewPool creates a pool without connecting: the HTTP services start serving
// /healthz at once and report the database state through /readyz; pgxpool
// reconnects by itself once the database is reachable.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	return pgxpool.NewWithConfig(ctx, cfg)
}

// ConnectWithRetry opens one connection, retrying every second until it
// succeeds or wait has passed. Used by the migration Job, which may start
// while PostgreSQL is still initialising its data directory.
func ConnectWithRetry(ctx context.Context, url string, wait time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if err = conn.Ping(ctx); err == nil {
				return conn, nil
			}
			_ = conn.Close(ctx)
		}
		if time.Now().Add(time.Second).After(deadline) {
			return nil, fmt.Errorf("database not reachable after %s (%d attempts): %w", wait, attempt, err)
		}
		log.Printf("database not reachable yet (attempt %d): %v", attempt, err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
