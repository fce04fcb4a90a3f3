package main

import (
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	for _, k := range []string{"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA", "PGPORT",
		"POSTGRES_LISTEN_ADDRESSES", "POSTGRES_HOST_AUTH_METHOD", "POSTGRES_SOCKET_DIR", "PG_BINDIR"} {
		t.Setenv(k, "")
	}
	c, err := ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{User: "codex", Password: "codex", Database: "codex",
		DataDir: "/var/lib/postgresql/data/pgdata", Port: "5432", ListenAddresses: "0.0.0.0",
		AuthMethod: "scram-sha-256", SocketDir: "/tmp", BinDir: "/usr/lib/postgresql/15/bin"}
	if c != want {
		t.Fatalf("defaults = %+v\nwant %+v", c, want)
	}
}

func TestRejectsBadValues(t *testing.T) {
	t.Setenv("POSTGRES_HOST_AUTH_METHOD", "trust")
	if _, err := ConfigFromEnv(); err == nil {
		t.Fatal("trust over TCP must be rejected")
	}
	t.Setenv("POSTGRES_HOST_AUTH_METHOD", "")
	t.Setenv("POSTGRES_LISTEN_ADDRESSES", "*'; ssl=on")
	if _, err := ConfigFromEnv(); err == nil {
		t.Fatal("a quote in a conf value must be rejected")
	}
	t.Setenv("POSTGRES_LISTEN_ADDRESSES", "")
	t.Setenv("PGDATA", "relative/dir")
	if _, err := ConfigFromEnv(); err == nil {
		t.Fatal("a relative PGDATA must be rejected")
	}
}

func TestHBAUsesPasswordsOverTCPAndTrustLocally(t *testing.T) {
	hba := Config{AuthMethod: "md5"}.HBA()
	for _, want := range []string{"local   all          all               trust", "host    all          all   0.0.0.0/0   md5", "::/0        md5"} {
		if !strings.Contains(hba, want) {
			t.Errorf("pg_hba.conf lacks %q:\n%s", want, hba)
		}
	}
	if strings.Contains(hba, "host    all          all   0.0.0.0/0   trust") {
		t.Error("TCP must never be trusted")
	}
}

func TestServerConf(t *testing.T) {
	conf := Config{ListenAddresses: "127.0.0.1", Port: "55432", SocketDir: "/tmp", AuthMethod: "md5"}.ServerConf()
	for _, want := range []string{"listen_addresses = '127.0.0.1'", "port = 55432", "unix_socket_directories = '/tmp'", "password_encryption = 'md5'"} {
		if !strings.Contains(conf, want) {
			t.Errorf("conf lacks %q:\n%s", want, conf)
		}
	}
}

func TestCreateDatabaseQuotes(t *testing.T) {
	got := Config{Database: `we"ird`, User: "codex"}.CreateDatabaseSQL()
	if got != "CREATE DATABASE \"we\"\"ird\" OWNER \"codex\"\n" {
		t.Fatalf("sql = %q", got)
	}
}
