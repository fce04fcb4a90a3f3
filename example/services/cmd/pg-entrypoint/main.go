// Command pg-entrypoint starts PostgreSQL in the example stack's postgres
// image. It is a static Go program so the entrypoint itself needs no shell.
//
// On every start it:
//  1. creates $PGDATA (mode 0700) if missing;
//  2. if $PGDATA holds no cluster yet, runs initdb with POSTGRES_USER as the
//     superuser and POSTGRES_PASSWORD as its password (password auth over
//     TCP, trust over the local socket);
//  3. rewrites pg_hba.conf and codex-entrypoint.conf (included from
//     postgresql.conf) from the environment, so the listen address, port and
//     auth method follow the pod spec on every restart;
//  4. the first time only, creates POSTGRES_DB in single-user mode;
//  5. runs postgres and stays as its parent, turning SIGTERM into SIGINT.
//
// Why not exec postgres directly: Kubernetes stops a pod with SIGTERM, which
// is PostgreSQL's "smart" shutdown — it waits for every client to disconnect,
// and the services' connection pools never do, so the pod would sit out its
// whole grace period and then be SIGKILLed (forcing crash recovery on the
// next start). SIGINT is PostgreSQL's "fast" shutdown: roll back, checkpoint,
// exit cleanly.
//
// Env (defaults in brackets): POSTGRES_USER [codex], POSTGRES_PASSWORD
// [codex], POSTGRES_DB [codex], PGDATA [/var/lib/postgresql/data/pgdata],
// PGPORT [5432], POSTGRES_LISTEN_ADDRESSES [0.0.0.0],
// POSTGRES_HOST_AUTH_METHOD [scram-sha-256; or md5],
// POSTGRES_SOCKET_DIR [/tmp: always writable, whatever UID the pod runs
// as; set PGHOST=/tmp for psql inside the container],
// PG_BINDIR [/usr/lib/postgresql/15/bin].
//
// POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB only matter the first time;
// like the official postgres image, later changes do not alter an existing
// cluster.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// Config is everything the entrypoint reads from the environment.
type Config struct {
	User, Password, Database string
	DataDir                  string
	Port                     string
	ListenAddresses          string
	AuthMethod               string
	SocketDir                string
	BinDir                   string
}

// initMarker is written into $PGDATA once POSTGRES_DB exists, so an init that
// was interrupted after initdb is completed on the next start.
const initMarker = ".codex-entrypoint-initialized"

// confInclude is the file we own inside $PGDATA; postgresql.conf includes it.
const confInclude = "codex-entrypoint.conf"

func getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// ConfigFromEnv reads the environment and rejects values that would produce
// a broken or insecure configuration.
func ConfigFromEnv() (Config, error) {
	c := Config{
		User:            getenv("POSTGRES_USER", "codex"),
		Password:        getenv("POSTGRES_PASSWORD", "codex"),
		Database:        getenv("POSTGRES_DB", "codex"),
		DataDir:         getenv("PGDATA", "/var/lib/postgresql/data/pgdata"),
		Port:            getenv("PGPORT", "5432"),
		ListenAddresses: getenv("POSTGRES_LISTEN_ADDRESSES", "0.0.0.0"),
		AuthMethod:      getenv("POSTGRES_HOST_AUTH_METHOD", "scram-sha-256"),
		SocketDir:       getenv("POSTGRES_SOCKET_DIR", "/tmp"),
		BinDir:          getenv("PG_BINDIR", "/usr/lib/postgresql/15/bin"),
	}
	if c.AuthMethod != "scram-sha-256" && c.AuthMethod != "md5" {
		return c, fmt.Errorf("POSTGRES_HOST_AUTH_METHOD must be scram-sha-256 or md5, got %q", c.AuthMethod)
	}
	for name, v := range map[string]string{"POSTGRES_LISTEN_ADDRESSES": c.ListenAddresses, "PGPORT": c.Port, "POSTGRES_SOCKET_DIR": c.SocketDir} {
		// These go into postgresql.conf inside single quotes.
		if strings.ContainsAny(v, "'\n\\") {
			return c, fmt.Errorf("%s must not contain quotes, backslashes or newlines", name)
		}
	}
	if !filepath.IsAbs(c.DataDir) {
		return c, fmt.Errorf("PGDATA must be an absolute path, got %q", c.DataDir)
	}
	return c, nil
}

// HBA is the whole pg_hba.conf: trust on the local socket (only processes
// inside the container reach it), password auth for every TCP client.
func (c Config) HBA() string {
	return fmt.Sprintf(`# Written by pg-entrypoint on every start; edits are overwritten.
# TYPE  DATABASE     USER  ADDRESS     METHOD
local   all          all               trust
local   replication  all               trust
host    all          all   0.0.0.0/0   %[1]s
host    all          all   ::/0        %[1]s
host    replication  all   0.0.0.0/0   %[1]s
host    replication  all   ::/0        %[1]s
`, c.AuthMethod)
}

// ServerConf is codex-entrypoint.conf. password_encryption follows the auth
// method so passwords set later with ALTER ROLE match what pg_hba expects.
func (c Config) ServerConf() string {
	enc := "scram-sha-256"
	if c.AuthMethod == "md5" {
		enc = "md5"
	}
	return fmt.Sprintf(`# Written by pg-entrypoint on every start; edits are overwritten.
listen_addresses = '%s'
port = %s
unix_socket_directories = '%s'
password_encryption = '%s'
# Logs go to stderr, which the container runtime collects.
logging_collector = off
log_destination = 'stderr'
`, c.ListenAddresses, c.Port, c.SocketDir, enc)
}

// quoteIdent quotes a SQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// CreateDatabaseSQL is fed to single-user mode, where a newline ends a
// statement, so it must stay on one line.
func (c Config) CreateDatabaseSQL() string {
	return fmt.Sprintf("CREATE DATABASE %s OWNER %s\n", quoteIdent(c.Database), quoteIdent(c.User))
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("pg-entrypoint: ")
	cfg, err := ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	if os.Geteuid() == 0 {
		log.Fatal("refusing to run as root (PostgreSQL will not); run as the image's user, UID 10001")
	}
	if err := prepare(cfg); err != nil {
		log.Fatal(err)
	}
	os.Exit(supervise(cfg))
}

func prepare(cfg Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating PGDATA %s: %w (is its parent writable by UID %d?)", cfg.DataDir, err, os.Getuid())
	}
	// PostgreSQL refuses a data directory readable by others; a freshly
	// mounted volume may come with 0755 or 2775 (fsGroup).
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("chmod PGDATA: %w", err)
	}
	if err := os.MkdirAll(cfg.SocketDir, 0o1777); err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}

	if _, err := os.Stat(filepath.Join(cfg.DataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		entries, err := os.ReadDir(cfg.DataDir)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("PGDATA %s is not empty but holds no cluster (found %s); point PGDATA at a subdirectory of the volume", cfg.DataDir, entries[0].Name())
		}
		if err := initdb(cfg); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}

	if err := writeConfig(cfg); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, initMarker)); errors.Is(err, os.ErrNotExist) {
		if err := createDatabase(cfg); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(cfg.DataDir, initMarker), []byte("POSTGRES_DB created\n"), 0o600)
	}
	return nil
}

func initdb(cfg Config) error {
	log.Printf("initialising a new cluster in %s (superuser %q)", cfg.DataDir, cfg.User)
	// The password reaches initdb through a private file, never argv, so it
	// does not show in the process list.
	dir, err := os.MkdirTemp("", "pg-entrypoint-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pwfile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwfile, []byte(cfg.Password+"\n"), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(cfg.BinDir, "initdb"),
		"--pgdata="+cfg.DataDir,
		"--username="+cfg.User,
		"--pwfile="+pwfile,
		"--auth-local=trust",
		"--auth-host="+cfg.AuthMethod,
		// The C locale needs no locale data in the image; UTF8 keeps the
		// database able to store any text.
		"--encoding=UTF8",
		"--locale=C",
		"--no-instructions",
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return nil
}

func writeConfig(cfg Config) error {
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "pg_hba.conf"), []byte(cfg.HBA()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, confInclude), []byte(cfg.ServerConf()), 0o600); err != nil {
		return err
	}
	mainConf := filepath.Join(cfg.DataDir, "postgresql.conf")
	current, err := os.ReadFile(mainConf)
	if err != nil {
		return err
	}
	include := fmt.Sprintf("include_if_exists = '%s'", confInclude)
	if bytes.Contains(current, []byte(include)) {
		return nil
	}
	f, err := os.OpenFile(mainConf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	// Last in the file, so our settings win over initdb's defaults.
	if _, err := fmt.Fprintf(f, "\n# Added by pg-entrypoint: settings from the container environment.\n%s\n", include); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createDatabase runs CREATE DATABASE in single-user mode: no server, no
// network, no client library needed. Single-user mode exits 0 even when a
// statement fails, so the output is checked for ERROR lines.
func createDatabase(cfg Config) error {
	if cfg.Database == "postgres" {
		return nil // initdb always creates it
	}
	log.Printf("creating database %q", cfg.Database)
	cmd := exec.Command(filepath.Join(cfg.BinDir, "postgres"), "--single", "-D", cfg.DataDir, "postgres")
	cmd.Stdin = strings.NewReader(cfg.CreateDatabaseSQL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("single-user postgres: %w\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "ERROR:") && !strings.Contains(line, "already exists") {
			return fmt.Errorf("creating database %q: %s", cfg.Database, strings.TrimSpace(line))
		}
	}
	return nil
}

// supervise runs postgres in the foreground and returns its exit code.
func supervise(cfg Config) int {
	cmd := exec.Command(filepath.Join(cfg.BinDir, "postgres"), "-D", cfg.DataDir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		log.Printf("starting postgres: %v", err)
		return 1
	}
	log.Printf("postgres started (pid %d), listening on %s:%s", cmd.Process.Pid, cfg.ListenAddresses, cfg.Port)
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM {
				s = syscall.SIGINT // fast shutdown, see the package comment
			}
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		log.Printf("postgres exited: %v", err)
		if code := exit.ExitCode(); code > 0 {
			return code
		}
		return 1
	default:
		log.Printf("waiting for postgres: %v", err)
		return 1
	}
}
