// Package migrations applies the example stack's embedded SQL migrations.
//
// Each file in sql/ is named NNNN_description.sql; files run in ascending
// numeric order, each in its own transaction together with the row that
// records it in schema_migrations, so a migration is either fully applied and
// recorded or not at all. Running Apply again applies nothing.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
)

//go:embed sql/*.sql
var embedded embed.FS

// Embedded is the set of migrations compiled into the binary.
func Embedded() fs.FS {
	sub, err := fs.Sub(embedded, "sql")
	if err != nil {
		// fs.Sub only fails for an invalid path literal, which is a build bug.
		panic(err)
	}
	return sub
}

// Migration is one SQL file.
type Migration struct {
	Version int64
	Name    string // file name, e.g. 0001_create_greetings.sql
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]+)_[A-Za-z0-9_.-]+\.sql$`)

// Load reads every *.sql file at the root of fsys and returns them ordered by
// version. Numeric ordering (not lexical) keeps 10_x after 9_x even when the
// prefixes are not zero-padded; two files with one version are an error
// because their order would be ambiguous.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %q: name must look like 0001_description.sql", e.Name())
		}
		version, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("migration %q: %w", e.Name(), err)
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", other, e.Name(), version)
		}
		seen[version] = e.Name()
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: e.Name(), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Pending returns the migrations whose version is not in applied, in order.
func Pending(all []Migration, applied map[int64]bool) []Migration {
	var out []Migration
	for _, m := range all {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out
}

// lockKey is an arbitrary constant for pg_advisory_lock: it serialises
// concurrent runs (a retried Job overlapping its predecessor).
const lockKey = 7_426_001

// Apply brings the database up to date and returns the names of the
// migrations it applied (empty when there was nothing to do).
func Apply(ctx context.Context, conn *pgx.Conn, all []Migration) ([]string, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return nil, fmt.Errorf("taking migration lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey) }()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    bigint PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}

	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("reading schema_migrations: %w", err)
	}
	applied := map[int64]bool{}
	for _, v := range versions {
		applied[v] = true
	}

	var done []string
	for _, m := range Pending(all, applied) {
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: pgx sends this over the simple protocol, which
			// accepts several statements in one string.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		}); err != nil {
			return done, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	return done, nil
}
