package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func site(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"index.html":        "<h1>index</h1>",
		"assets/app-abc.js": "console.log(1)",
		"favicon.svg":       "<svg/>",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func fetch(t *testing.T, h http.Handler, p string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(body)
}

func TestStaticAndFallback(t *testing.T) {
	gw, _ := url.Parse("http://127.0.0.1:1")
	h := Handler(site(t), gw)

	if resp, body := fetch(t, h, "/"); resp.StatusCode != 200 || !strings.Contains(body, "index") {
		t.Fatalf("/ = %d %q", resp.StatusCode, body)
	}
	resp, body := fetch(t, h, "/assets/app-abc.js")
	if resp.StatusCode != 200 || body != "console.log(1)" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("asset = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, body := fetch(t, h, "/some/client/route"); resp.StatusCode != 200 || !strings.Contains(body, "index") {
		t.Fatalf("client route = %d %q", resp.StatusCode, body)
	}
	if resp, _ := fetch(t, h, "/missing.js"); resp.StatusCode != 404 {
		t.Fatalf("missing file = %d, want 404", resp.StatusCode)
	}
	if resp, _ := fetch(t, h, "/readyz"); resp.StatusCode != 200 {
		t.Fatalf("readyz = %d", resp.StatusCode)
	}
}

func TestReadyzWithoutBuild(t *testing.T) {
	gw, _ := url.Parse("http://127.0.0.1:1")
	if resp, _ := fetch(t, Handler(t.TempDir(), gw), "/readyz"); resp.StatusCode != 503 {
		t.Fatalf("readyz without index.html = %d, want 503", resp.StatusCode)
	}
}

func TestAPIProxiedWithPathUnchanged(t *testing.T) {
	var seen string
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.RequestURI()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer gateway.Close()
	gw, _ := url.Parse(gateway.URL)

	resp, body := fetch(t, Handler(site(t), gw), "/api/greeting?x=1")
	if resp.StatusCode != 200 || body != `{"ok":true}` || seen != "/api/greeting?x=1" {
		t.Fatalf("proxy: %d %q, gateway saw %q", resp.StatusCode, body, seen)
	}
}

func TestAPIGatewayDownIs502(t *testing.T) {
	gw, _ := url.Parse("http://127.0.0.1:1")
	if resp, body := fetch(t, Handler(site(t), gw), "/api/items"); resp.StatusCode != 502 || !strings.Contains(body, "gateway unreachable") {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}
