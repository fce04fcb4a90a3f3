// Command migrate applies the example stack's embedded SQL migrations and
// exits: 0 when the schema is up to date, 1 otherwise. It runs as the
// migrations-phase Job; it waits up to 60 s for the database because the Job
// may start while PostgreSQL is still initialising.
package main

import (
	"context"
	"log"
	"time"

	"codex.example/services/internal/db"
	"codex.example/services/internal/migrations"
	"codex.example/services/internal/service"
)

func main() {
	service.Main("migrate", run)
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
