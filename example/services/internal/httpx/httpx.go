// Package httpx holds the small HTTP plumbing every example service shares:
// environment defaults, one log line per request, JSON replies and a server
// that shuts down cleanly when Kubernetes sends SIGTERM.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Getenv returns the environment variable key, or def when it is unset or empty.
func Getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// ListenAddr is the address a service listens on: ":$PORT", default ":8080".
// PORT exists so several services can run side by side on one host in tests.
func ListenAddr() string {
	return ":" + Getenv("PORT", "8080")
}

// statusRecorder remembers the status code and body size for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Flush keeps streaming responses (the reverse proxy in webserve) working
// through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// LogRequests writes exactly one line per request after it has been served.
func LogRequests(service string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		log.Printf("%s %s %s %d %dB %s remote=%s", service, r.Method, r.URL.RequestURI(),
			rec.status, rec.bytes, time.Since(start).Round(time.Microsecond), r.RemoteAddr)
	})
}

// WriteJSON replies with v encoded as JSON and the given status code.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// WriteError replies with {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// Healthz is the liveness handler: the process is up and serving HTTP.
// It deliberately checks nothing else, so a database outage makes pods
// unready (readyz) instead of restarting them.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// DialTimeout bounds one TCP connection attempt to another pod. On a cluster
// network the handshake takes milliseconds; what takes longer is a SYN that
// was dropped, typically because the network policy engine has not yet
// learnt the address of a pod that just started. Waiting for TCP to resend
// it (after 1 s, then 3 s, 7 s) would hold the caller far longer than a new
// attempt, which sends a fresh SYN at once.
const DialTimeout = 250 * time.Millisecond

// RetryBudget is how long a readiness check keeps retrying before it reports
// failure: under the kubelet's default probe timeout (1 s), so a first
// attempt lost to a just-started pod's policy costs a retry, not a failed
// probe and a whole probe period.
const RetryBudget = 800 * time.Millisecond

// Dialer connects with DialTimeout.
func Dialer() *net.Dialer {
	return &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
}

// Transport is http.DefaultTransport with Dialer's connection timeout.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = Dialer().DialContext
	return t
}

// Retry calls attempt until it returns nil, RetryBudget has passed, or ctx
// is done, pausing 50 ms between attempts; it returns the last error.
func Retry(ctx context.Context, attempt func(ctx context.Context) error) error {
	deadline := time.Now().Add(RetryBudget)
	for {
		err := attempt(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Readyz builds a readiness handler from check: 200 "ready" when it returns
// nil within the timeout (retried as Retry does), 503 with the error otherwise.
func Readyz(timeout time.Duration, check func(ctx context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := Retry(ctx, check); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	}
}

// Serve runs handler (wrapped in the access log) on addr until SIGTERM or
// SIGINT, then drains in-flight requests for up to 10 s.
func Serve(service, addr string, handler http.Handler) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           LogRequests(service, handler),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	errc := make(chan error, 1)
	go func() {
		log.Printf("%s listening on %s", service, addr)
		errc <- srv.ListenAndServe()
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Printf("%s shutting down", service)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
