// Command gateway is the edge service of the example stack: it exposes the
// internal services under /api.
//
//	GET /healthz       200 "ok" while the process serves HTTP (liveness)
//	GET /readyz        200 when greeter and catalog both answer /readyz with 200
//	GET /api/greeting  proxied to $GREETER_URL/greeting
//	GET /api/items     proxied to $CATALOG_URL/items
//	GET /api/status    {"ready":bool,"upstreams":{"greeter":{…},"catalog":{…}}}
//
// Env: PORT (default 8080), GREETER_URL (default http://greeter:80),
// CATALOG_URL (default http://catalog:80).
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"codex.example/services/internal/httpx"
	"codex.example/services/internal/service"
)

func main() {
	service.Serve("gateway", func() (http.Handler, error) {
		g := &Gateway{
			Upstreams: []Upstream{
				{Name: "greeter", BaseURL: httpx.Getenv("GREETER_URL", "http://greeter:80")},
				{Name: "catalog", BaseURL: httpx.Getenv("CATALOG_URL", "http://catalog:80")},
			},
			Client: &http.Client{Timeout: 5 * time.Second, Transport: httpx.Transport()},
		}
		return g.Routes(), nil
	})
}

// Upstream is one internal service behind the gateway.
type Upstream struct {
	Name    string
	BaseURL string // scheme://host[:port], no trailing path
}

// Gateway holds the upstreams (greeter first, catalog second) and the client
// used to reach them.
type Gateway struct {
	Upstreams []Upstream
	Client    *http.Client
}

// Routes wires the handlers; kept separate from main so tests can drive it
// with httptest upstreams.
func (g *Gateway) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		statuses := g.status(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		var notReady []string
		for _, s := range statuses {
			if !s.Ready {
				notReady = append(notReady, s.Name+": "+s.Detail)
			}
		}
		if len(notReady) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %s\n", strings.Join(notReady, "; "))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("GET /api/greeting", g.forward(g.Upstreams[0], "/greeting"))
	mux.HandleFunc("GET /api/items", g.forward(g.Upstreams[1], "/items"))
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		statuses := g.status(r.Context())
		all := true
		byName := map[string]UpstreamStatus{}
		for _, s := range statuses {
			all = all && s.Ready
			byName[s.Name] = s
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"ready": all, "upstreams": byName})
	})
	return mux
}

// forward sends the request to upstream base URL + path (keeping the query
// string) and copies status, content type and body back. Upstream failures
// become 502 with a JSON error naming the upstream.
func (g *Gateway) forward(up Upstream, path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		target := strings.TrimRight(up.BaseURL, "/") + path
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, target, nil)
		if err != nil {
			httpx.WriteError(w, http.StatusBadGateway, up.Name+": "+err.Error())
			return
		}
		req.Header.Set("Accept", r.Header.Get("Accept"))
		req.Header.Set("X-Forwarded-For", r.RemoteAddr)
		resp, err := g.Client.Do(req)
		if err != nil {
			httpx.WriteError(w, http.StatusBadGateway, up.Name+" unreachable: "+err.Error())
			return
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}
}

// UpstreamStatus is what /api/status reports per upstream.
type UpstreamStatus struct {
	Name   string `json:"-"`
	URL    string `json:"url"`
	Ready  bool   `json:"ready"`
	Status int    `json:"status,omitempty"` // HTTP status of its /readyz, 0 if unreachable
	Detail string `json:"detail,omitempty"` // why it is not ready
}

// status asks every upstream's /readyz concurrently, 2 s each.
func (g *Gateway) status(ctx context.Context) []UpstreamStatus {
	out := make([]UpstreamStatus, len(g.Upstreams))
	var wg sync.WaitGroup
	for i, up := range g.Upstreams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = g.probe(ctx, up)
		}()
	}
	wg.Wait()
	return out
}

func (g *Gateway) probe(ctx context.Context, up Upstream) UpstreamStatus {
	s := UpstreamStatus{Name: up.Name, URL: up.BaseURL}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(up.BaseURL, "/")+"/readyz", nil)
	if err != nil {
		s.Detail = err.Error()
		return s
	}
	// Only a request that got no answer is retried (see httpx.Retry); a
	// "not ready" answer is reported as it is.
	var resp *http.Response
	err = httpx.Retry(ctx, func(context.Context) error {
		resp, err = g.Client.Do(req)
		return err
	})
	if err != nil {
		s.Detail = err.Error()
		return s
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	s.Status = resp.StatusCode
	s.Ready = resp.StatusCode == http.StatusOK
	if !s.Ready {
		s.Detail = strings.TrimSpace(string(body))
		if s.Detail == "" {
			s.Detail = resp.Status
		}
	}
	return s
}
