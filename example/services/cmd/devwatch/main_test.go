package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotFiltersAndChangedDetectsEdits(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "cmd/a/main.go"), "package main")
	write(t, filepath.Join(dir, "internal/m/sql/1_x.sql"), "SELECT 1")
	write(t, filepath.Join(dir, "README.md"), "not watched")
	write(t, filepath.Join(dir, "vendor/x/y.go"), "excluded dir")
	w := &Watcher{Dir: dir, Exts: []string{".go", ".sql"}, Exclude: []string{"vendor"}}

	before, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 2 {
		t.Fatalf("snapshot = %v, want main.go and 1_x.sql only", before)
	}
	write(t, filepath.Join(dir, "cmd/a/main.go"), "package main // edited")
	write(t, filepath.Join(dir, "cmd/a/new.go"), "package main")
	os.Remove(filepath.Join(dir, "internal/m/sql/1_x.sql"))
	after, _ := w.Snapshot()
	got := Changed(before, after)
	for i := range got {
		got[i], _ = filepath.Rel(dir, got[i])
	}
	if strings.Join(got, ",") != "cmd/a/main.go,cmd/a/new.go,internal/m/sql/1_x.sql" {
		t.Fatalf("changed = %v", got)
	}
}

// TestLoopRestartsOnlyAfterGoodBuilds drives the loop with shell stand-ins:
// the "build" fails while the file says so, the "run" is a long sleep.
func TestLoopRestartsOnlyAfterGoodBuilds(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	write(t, src, "good 1")
	w := &Watcher{
		Dir:      dir,
		Build:    []string{"sh", "-c", "! grep -q broken main.go"},
		Run:      []string{"sleep", "30"},
		Interval: 20 * time.Millisecond,
		Exts:     []string{".go"},
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	var loopErr error
	go func() { defer wg.Done(); loopErr = w.Loop(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var first int
	waitFor("first start", func() bool { first = w.Pid(); return first != 0 })

	write(t, src, "broken edit")
	time.Sleep(200 * time.Millisecond)
	if w.Pid() != first {
		t.Fatal("a failed build must keep the old process")
	}

	write(t, src, "good 2, longer")
	waitFor("restart", func() bool { p := w.Pid(); return p != 0 && p != first })

	cancel()
	wg.Wait()
	if loopErr != nil {
		t.Fatal(loopErr)
	}
	if w.Pid() != 0 {
		t.Fatal("the process must be stopped when the loop ends")
	}
}
