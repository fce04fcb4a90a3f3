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

// connectTimeout bounds one connection attempt. Short on purpose: a network
// policy engine allows a new pod's traffic a moment after the pod starts (it
// learns the pod's IP from the API server), and a connection whose first SYN
// was dropped in that moment would otherwise wait for TCP's retransmission
// backoff (1 s, 3 s, 7 s …) although the path opened long before. A fresh
// attempt sends a fresh SYN; on a cluster network a connection and
// PostgreSQL's authentication take milliseconds.
const connectTimeout = time.Second

// NewPool creates a pool without connecting: the HTTP services start serving
// /healthz at once and report the database state through /readyz; pgxpool
// reconnects by itself once the database is reachable.
func NewPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.ConnectTimeout = connectTimeout
	cfg.ConnConfig.DialFunc = httpx.Dialer().DialContext
	return pgxpool.NewWithConfig(ctx, cfg)
}

// retryInterval is the pause between two attempts of ConnectWithRetry. Short:
// a new pod's first connections are refused (or dropped) until the policy
// engine has its address, which it learns once the kubelet reports the pod
// running, a few hundred milliseconds after the Job's container started.
// Watched on the local cluster, the second attempt 250 ms later was the first
// to get through; a refused attempt costs nothing, so the pause sets the delay.
const retryInterval = 50 * time.Millisecond

// ConnectWithRetry opens one connection, retrying every retryInterval until
// it succeeds or wait has passed. Used by the migration Job, which may start
// while PostgreSQL is still initialising its data directory, or before the
// network policy lets the Job's new pod reach it.
func ConnectWithRetry(ctx context.Context, url string, wait time.Duration) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parsing DATABASE_URL: %w", err)
	}
	cfg.ConnectTimeout = connectTimeout
	cfg.DialFunc = httpx.Dialer().DialContext
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			if err = conn.Ping(ctx); err == nil {
				return conn, nil
			}
			_ = conn.Close(ctx)
		}
		if time.Now().Add(retryInterval).After(deadline) {
			return nil, fmt.Errorf("database not reachable after %s (%d attempts): %w", wait, attempt, err)
		}
		log.Printf("database not reachable yet (attempt %d): %v", attempt, err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(retryInterval):
		}
	}
}
