// Command webserve serves the built web frontend (vite build output) in the
// prod runtime and forwards /api/ to the gateway, so the browser talks to one
// origin.
//
//	GET /healthz  200 "ok" (liveness)
//	GET /readyz   200 when $WEB_ROOT/index.html exists
//	/api/…        reverse-proxied, path unchanged, to $GATEWAY_URL
//	anything else a file under $WEB_ROOT; unknown paths without a file
//	              extension get index.html (client-side routes)
//
// Env: PORT (default 8080), WEB_ROOT (default /srv/www), GATEWAY_URL
// (default http://gateway:80).
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"codex.example/services/internal/httpx"
	"codex.example/services/internal/service"
)

func main() {
	service.Serve("webserve", func() (http.Handler, error) {
		gateway, err := url.Parse(httpx.Getenv("GATEWAY_URL", "http://gateway:80"))
		if err != nil || gateway.Scheme == "" || gateway.Host == "" {
			return nil, fmt.Errorf("GATEWAY_URL must be an absolute URL, got %q", os.Getenv("GATEWAY_URL"))
		}
		return Handler(httpx.Getenv("WEB_ROOT", "/srv/www"), gateway), nil
	})
}

// Handler builds the whole site: health endpoints, the /api/ proxy and the
// static files of root.
func Handler(root string, gateway *url.URL) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", httpx.Healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(root, "index.html")); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})

	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(gateway)
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			httpx.WriteError(w, http.StatusBadGateway, "gateway unreachable: "+err.Error())
		},
	}
	mux.Handle("/api/", proxy)
	mux.Handle("/", staticFiles(root))
	return mux
}

// staticFiles serves root, falling back to index.html for extension-less
// paths. Vite's hashed /assets/ files never change under one name, so they
// may be cached for good; index.html must be revalidated so a new build is
// picked up at once.
func staticFiles(root string) http.Handler {
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clean := path.Clean("/" + r.URL.Path)
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(clean)))
		if errors.Is(err, fs.ErrNotExist) && path.Ext(clean) == "" {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFile(w, r, filepath.Join(root, "index.html"))
			return
		}
		if strings.HasPrefix(clean, "/assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
