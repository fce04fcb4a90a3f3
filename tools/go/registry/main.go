// Command registry serves go-containerregistry's registry handler with blobs on disk
// and manifests persisted too.
//
// Upstream's `crane registry serve --disk` keeps blobs on disk but manifests only in
// memory, so every image would vanish on restart. This wrapper records each accepted
// manifest PUT in a journal directory and replays the journal through the same
// handler on start, so pushed images survive `cluster down` / `cluster up`.
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// record is one manifest as it was pushed: enough to replay the PUT.
type record struct {
	Path        string `json:"path"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

type journal struct{ dir string }

func (j journal) file(path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(j.dir, hex.EncodeToString(sum[:])+".json")
}

func (j journal) save(r record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp := j.file(r.Path) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, j.file(r.Path))
}

func (j journal) remove(path string) {
	os.Remove(j.file(path))
}

func (j journal) load() ([]record, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, err
	}
	var records []record
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(j.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			log.Printf("skipping unreadable journal entry %s: %v", e.Name(), err)
			continue
		}
		records = append(records, r)
	}
	// An index is only accepted once its child manifests exist, so images go first.
	sort.SliceStable(records, func(a, b int) bool {
		ia := types.MediaType(records[a].ContentType).IsIndex()
		ib := types.MediaType(records[b].ContentType).IsIndex()
		if ia != ib {
			return !ia
		}
		return records[a].Path < records[b].Path
	})
	return records, nil
}

func isManifestPath(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return len(parts) >= 4 && parts[0] == "v2" && parts[len(parts)-2] == "manifests"
}

// persisting wraps the registry handler and journals successful manifest writes.
func persisting(next http.Handler, j journal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !isManifestPath(req.URL.Path) {
			next.ServeHTTP(w, req)
			return
		}
		switch req.Method {
		case http.MethodPut:
			body, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, req)
			if rec.Code == http.StatusCreated {
				r := record{Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Body: body}
				if err := j.save(r); err != nil {
					log.Printf("journal %s: %v", req.URL.Path, err)
				}
				// The handler buffers every uploaded blob in memory; a manifest
				// ends a push, so hand that memory back to the host now rather
				// than leaving an idle registry at the size of the largest layer.
				go debug.FreeOSMemory()
			}
			copyResponse(w, rec)
		case http.MethodDelete:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, req)
			if rec.Code < 300 {
				j.remove(req.URL.Path)
			}
			copyResponse(w, rec)
		default:
			next.ServeHTTP(w, req)
		}
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func replay(h http.Handler, j journal) {
	records, err := j.load()
	if err != nil {
		log.Fatalf("reading manifest journal: %v", err)
	}
	for _, r := range records {
		req := httptest.NewRequest(http.MethodPut, r.Path, bytes.NewReader(r.Body))
		req.Header.Set("Content-Type", r.ContentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			log.Printf("replaying %s: HTTP %d %s", r.Path, rec.Code, rec.Body.String())
		}
	}
	log.Printf("restored %d manifests", len(records))
}

// tokenAuth puts the Docker registry token flow in front of the handler, the way hosted
// registries (Docker Hub, GHCR, Harbor) answer: a request without a valid bearer token gets
// 401 with a Bearer challenge naming the realm; the realm (`/token` on this server) trades
// HTTP Basic credentials for the token. Tests use it to prove clients log in; the token is
// one random value per process, which is all a test registry needs.
type tokenAuth struct {
	user, password, token string
}

const tokenService = "codex-registry"

func newTokenAuth(spec string) tokenAuth {
	user, password, ok := strings.Cut(spec, ":")
	if !ok || user == "" || password == "" {
		log.Fatal("--token-auth wants USER:PASSWORD")
	}
	random := make([]byte, 24)
	if _, err := rand.Read(random); err != nil {
		log.Fatal(err)
	}
	return tokenAuth{user: user, password: password, token: hex.EncodeToString(random)}
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (a tokenAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/token" {
			// GET with HTTP Basic (the classic flow) or an OAuth2 password-grant POST
			// (what BuildKit and containerd try first when they hold credentials).
			user, password, ok := req.BasicAuth()
			if req.Method == http.MethodPost && req.ParseForm() == nil && req.PostForm.Get("grant_type") == "password" {
				user, password, ok = req.PostForm.Get("username"), req.PostForm.Get("password"), true
			}
			if !ok || !equal(user, a.user) || !equal(password, a.password) {
				w.Header().Set("WWW-Authenticate", `Basic realm="`+tokenService+`"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"wrong or missing credentials"}]}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"token": a.token, "access_token": a.token, "expires_in": 300})
			return
		}
		if equal(req.Header.Get("Authorization"), "Bearer "+a.token) {
			next.ServeHTTP(w, req)
			return
		}
		challenge := fmt.Sprintf(`Bearer realm="http://%s/token",service="%s"`, req.Host, tokenService)
		if repo := repositoryOf(req.URL.Path); repo != "" {
			challenge += fmt.Sprintf(`,scope="repository:%s:pull,push"`, repo)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	})
}

// repositoryOf returns the repository of /v2/<name>/{manifests,blobs,tags}/..., or "".
func repositoryOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(parts) - 2; i >= 2; i-- {
		switch parts[i] {
		case "manifests", "blobs", "tags":
			return strings.Join(parts[1:i], "/")
		}
	}
	return ""
}

func main() {
	address := flag.String("address", "127.0.0.1:5000", "address to listen on")
	dir := flag.String("dir", "", "directory for blobs and the manifest journal (required)")
	auth := flag.String("token-auth", "", "USER:PASSWORD: require the token flow, with these credentials at /token (for tests)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("--dir is required")
	}
	blobs := filepath.Join(*dir, "blobs")
	j := journal{dir: filepath.Join(*dir, "manifests")}
	for _, d := range []string{blobs, j.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			log.Fatal(err)
		}
	}
	inner := registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(blobs)))
	replay(inner, j)
	handler := persisting(inner, j)
	if *auth != "" {
		handler = newTokenAuth(*auth).wrap(handler)
	}
	server := &http.Server{
		Addr:              *address,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("serving on %s, storing in %s", *address, *dir)
	log.Fatal(server.ListenAndServe())
}
