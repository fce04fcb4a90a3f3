// Command devwatch is the Go hot-reload runner of the dev runtime: it builds
// a command, runs it, and rebuilds and restarts it whenever a source file
// under -dir changes. It fills the role CompileDaemon or air would, but lives
// in this module (vendored, nothing to download when a dev image is built)
// and polls instead of using inotify, so it also sees edits made through a
// shared volume by another pod, whatever the volume's filesystem.
//
// A failed build leaves the previous process running, so a half-typed edit
// does not take the service down. -build and -run are split on spaces (no
// shell) after expanding ${VAR} from the environment, so one image can serve
// every service:
//
//	devwatch -dir /workspace/services \
//	  -build 'go build -mod=vendor -o /tmp/devwatch/${SERVICE} ./cmd/${SERVICE}' \
//	  -run '/tmp/devwatch/${SERVICE}'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	log.SetPrefix("devwatch: ")
	w := Watcher{}
	var build, run, exts, exclude string
	flag.StringVar(&w.Dir, "dir", ".", "directory to watch; the build runs there")
	flag.StringVar(&build, "build", "", "build command (split on spaces, ${VAR} expanded)")
	flag.StringVar(&run, "run", "", "command to run after a successful build (split on spaces, ${VAR} expanded)")
	flag.DurationVar(&w.Interval, "interval", 500*time.Millisecond, "how often to look for changes")
	flag.StringVar(&exts, "ext", ".go,.sql,.mod,.sum", "comma-separated file extensions that trigger a rebuild")
	flag.StringVar(&exclude, "exclude", "vendor,.git,node_modules,tmp", "comma-separated directory names never scanned")
	flag.Parse()
	w.Build = strings.Fields(os.ExpandEnv(build))
	w.Run = strings.Fields(os.ExpandEnv(run))
	w.Exts = splitList(exts)
	w.Exclude = splitList(exclude)
	if len(w.Build) == 0 || len(w.Run) == 0 {
		log.Fatal("both -build and -run are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := w.Loop(ctx); err != nil {
		log.Fatal(err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Watcher is one build-and-run loop.
type Watcher struct {
	Dir      string
	Build    []string
	Run      []string
	Interval time.Duration
	Exts     []string
	Exclude  []string

	mu     sync.Mutex // guards proc and exited: Pid is read from other goroutines
	proc   *exec.Cmd
	exited chan struct{} // closed when proc has exited
}

// fileState is what a poll compares: a change of either means an edit.
type fileState struct {
	size    int64
	modTime time.Time
}

// Snapshot lists the watched files under Dir with their size and mtime.
func (w *Watcher) Snapshot() (map[string]fileState, error) {
	out := map[string]fileState{}
	err := filepath.WalkDir(w.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			// A file deleted between listing and stat is just a change.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if path != w.Dir && contains(w.Exclude, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !contains(w.Exts, filepath.Ext(path)) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		out[path] = fileState{size: info.Size(), modTime: info.ModTime()}
		return nil
	})
	return out, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Changed lists the paths added, removed or modified between two snapshots.
func Changed(before, after map[string]fileState) []string {
	var out []string
	for p, s := range after {
		if old, ok := before[p]; !ok || old != s {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// Loop builds and starts the command, then polls until ctx is done; it stops
// the command before returning.
func (w *Watcher) Loop(ctx context.Context) error {
	defer w.stop()
	seen, err := w.Snapshot()
	if err != nil {
		return err
	}
	w.rebuild(ctx)
	ticker := time.NewTicker(w.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		now, err := w.Snapshot()
		if err != nil {
			log.Printf("scanning %s: %v", w.Dir, err)
			continue
		}
		changed := Changed(seen, now)
		if len(changed) == 0 {
			continue
		}
		// An editor or git checkout may still be writing: wait until two
		// polls agree before building.
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(w.Interval):
			}
			again, err := w.Snapshot()
			if err == nil && len(Changed(now, again)) == 0 {
				break
			}
			now = again
		}
		changed = Changed(seen, now)
		seen = now
		if len(changed) > 3 {
			changed = append(changed[:3], fmt.Sprintf("and %d more", len(changed)-3))
		}
		log.Printf("change detected: %s", strings.Join(changed, ", "))
		w.rebuild(ctx)
	}
}

// rebuild runs the build; only when it succeeds is the old process replaced.
func (w *Watcher) rebuild(ctx context.Context) {
	start := time.Now()
	build := exec.CommandContext(ctx, w.Build[0], w.Build[1:]...)
	build.Dir = w.Dir
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		if ctx.Err() == nil {
			log.Printf("build failed (%v); keeping the previous process", err)
		}
		return
	}
	log.Printf("build ok in %s", time.Since(start).Round(time.Millisecond))
	w.stop()
	w.start()
}

func (w *Watcher) start() {
	cmd := exec.Command(w.Run[0], w.Run[1:]...)
	cmd.Dir = w.Dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Printf("starting %s: %v", w.Run[0], err)
		return
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		log.Printf("process %d exited: %v", cmd.Process.Pid, exitText(err))
		close(exited)
	}()
	w.mu.Lock()
	w.proc, w.exited = cmd, exited
	w.mu.Unlock()
	log.Printf("started %s (pid %d)", strings.Join(w.Run, " "), cmd.Process.Pid)
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// stop sends SIGTERM and, after 5 s, SIGKILL.
func (w *Watcher) stop() {
	w.mu.Lock()
	proc, exited := w.proc, w.exited
	w.proc, w.exited = nil, nil
	w.mu.Unlock()
	if proc == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = proc.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		log.Printf("process %d ignored SIGTERM for 5s; killing it", proc.Process.Pid)
		_ = proc.Process.Kill()
		<-exited
	}
}

// Pid is the running process's pid, or 0; used by tests.
func (w *Watcher) Pid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.proc == nil {
		return 0
	}
	select {
	case <-w.exited:
		return 0
	default:
		return w.proc.Process.Pid
	}
}
