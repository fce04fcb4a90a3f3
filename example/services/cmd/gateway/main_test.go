package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeUpstream answers /readyz with readyStatus and any other path with
// {"path": ..., "query": ...} so tests can see what the gateway asked for.
func fakeUpstream(t *testing.T, readyStatus int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" {
			w.WriteHeader(readyStatus)
			_, _ = w.Write([]byte("db down"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTeapot)
		_ = json.NewEncoder(w).Encode(map[string]string{"path": r.URL.Path, "query": r.URL.RawQuery})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newGateway(greeter, catalog string) *Gateway {
	return &Gateway{
		Upstreams: []Upstream{{Name: "greeter", BaseURL: greeter}, {Name: "catalog", BaseURL: catalog}},
		Client:    &http.Client{Timeout: 2 * time.Second},
	}
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	resp := rec.Result()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestProxyRewritesPathAndKeepsStatusAndQuery(t *testing.T) {
	greeter, catalog := fakeUpstream(t, 200), fakeUpstream(t, 200)
	h := newGateway(greeter.URL, catalog.URL+"/").Routes()

	resp, body := get(t, h, "/api/greeting?lang=en")
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status = %d, want the upstream's 418", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type = %q", ct)
	}
	if !strings.Contains(body, `"path":"/greeting"`) || !strings.Contains(body, `"query":"lang=en"`) {
		t.Fatalf("greeter saw %s", body)
	}

	// A trailing slash on the base URL must not produce "//items".
	_, body = get(t, h, "/api/items")
	if !strings.Contains(body, `"path":"/items"`) {
		t.Fatalf("catalog saw %s", body)
	}
}

// deadUpstream is the URL of a server that has been closed: nothing listens
// there any more.
func deadUpstream() string {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	return dead.URL
}

func TestProxyUnreachableUpstreamIs502(t *testing.T) {
	dead := deadUpstream()
	h := newGateway(dead, dead).Routes()
	resp, body := get(t, h, "/api/greeting")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "greeter unreachable") {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
}

// TestProbes: /healthz is liveness and answers whatever the upstreams do;
// /readyz needs both upstreams and names the one that is not ready.
func TestProbes(t *testing.T) {
	ok, down, dead := fakeUpstream(t, 200).URL, fakeUpstream(t, 503).URL, deadUpstream()
	for _, tc := range []struct {
		name             string
		greeter, catalog string
		path             string
		status           int
		body             string
	}{
		{"healthz with no upstream listening", dead, dead, "/healthz", http.StatusOK, "ok\n"},
		{"readyz with both upstreams ready", ok, ok, "/readyz", http.StatusOK, "ready\n"},
		{"readyz with catalog down", ok, down, "/readyz", http.StatusServiceUnavailable, "not ready: catalog: db down\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, newGateway(tc.greeter, tc.catalog).Routes(), tc.path)
			if resp.StatusCode != tc.status || body != tc.body {
				t.Fatalf("%s = %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
			}
		})
	}
}

func TestStatusReportsEachUpstream(t *testing.T) {
	ok, down := fakeUpstream(t, 200), fakeUpstream(t, 503)
	resp, body := get(t, newGateway(ok.URL, down.URL).Routes(), "/api/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var got struct {
		Ready     bool
		Upstreams map[string]UpstreamStatus
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Ready || !got.Upstreams["greeter"].Ready || got.Upstreams["catalog"].Ready ||
		got.Upstreams["catalog"].Status != 503 {
		t.Fatalf("status = %s", body)
	}
}
