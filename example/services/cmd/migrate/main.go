// Command migrate applies the example stack's embedded SQL migrations and
// exits: 0 when the schema is up to date, 1 otherwise. It runs as the
// migrations-phase Job; it waits up to 60 s for the database because the Job
// may start while PostgreSQL is still initialising.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"codex.example/services/internal/db"
	"codex.example/services/internal/migrations"
)

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	if err := run(); err != nil {
		log.Printf("migrate: %v", err)
		os.Exit(1)
	}
}

func run() error {
	all, err := migrations.Load(migrations.Embedded())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := db.ConnectWithRetry(ctx, db.URL(), 60*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	applied, err := migrations.Apply(ctx, conn, all)
	for _, name := range applied {
		log.Printf("migrate: applied %s", name)
	}
	if err != nil {
		return err
	}
	log.Printf("migrate: schema up to date (%d migrations known, %d applied now)", len(all), len(applied))
	return nil
}
