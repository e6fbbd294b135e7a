// Package web serves the PAC playground: a page that evaluates a PAC
// script entirely in the browser, on pacd's engine compiled to
// WebAssembly (cmd/pac-wasm), loaded through the ES module pacwasm.js.
// The page's files are embedded in the binary; the module, which is too
// large to embed twice, comes from the caller.
//
// The same files work as a static site from any web server, with the
// module at pac.wasm next to index.html (see web/README.md).
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

//go:embed index.html playground.js playground.css pacwasm.js pacwasm-worker.js
var files embed.FS

// A staticFile is one of the page's files, read once.
type staticFile struct {
	data        []byte
	contentType string
	etag        string
}

// The page's files by request path, and their types. Browsers run module
// scripts and Workers only when they are served as JavaScript.
var static = map[string]staticFile{}

func init() {
	for path, name := range map[string]string{
		"/":                  "index.html",
		"/index.html":        "index.html",
		"/playground.js":     "playground.js",
		"/playground.css":    "playground.css",
		"/pacwasm.js":        "pacwasm.js",
		"/pacwasm-worker.js": "pacwasm-worker.js",
	} {
		b, err := files.ReadFile(name)
		if err != nil {
			panic(err) // the embed directive and this table disagree
		}
		sum := sha256.Sum256(b)
		static[path] = staticFile{data: b, contentType: contentType(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".html"):
		return "text/html; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".css"):
		return "text/css; charset=utf-8"
	}
	return "application/octet-stream"
}

// ContentSecurityPolicy is the policy the handler sends with every
// file (index.html carries the same one in a meta element, for static
// servers). The page runs only its own scripts, compiles WebAssembly
// ('wasm-unsafe-eval') and starts its own Worker; connect-src is open
// because "Load from URL" fetches a PAC from wherever the user says.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src *; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'none'; frame-ancestors 'none'"

// Handler serves the playground: index.html at / and /index.html, its
// script, style sheet and the engine's ES modules beside it, and
// /pac.wasm, the WebAssembly module, from module.
//
// module is called for every request of /pac.wasm, so that it may read
// a file that is rebuilt while the server runs; it may return the module
// compressed with gzip, which is then sent as it is to clients that
// accept gzip and decompressed for the others. Every file has an ETag,
// the module's included, so that a browser revalidates instead of
// fetching it again. When module is nil or
// fails, /pac.wasm answers 404 with a message saying so, and the page
// shows it. Any other path is 404; methods other than GET and HEAD are
// refused.
func Handler(module func() ([]byte, error)) http.Handler {
	return &handler{module: module}
}

type handler struct {
	module func() ([]byte, error)

	// The ETag of the module bytes last served, kept while module
	// returns the same slice (an embedded module) so as not to hash it
	// on every request.
	mu      sync.Mutex
	lastMod []byte
	lastTag string
}

func (h *handler) moduleTag(b []byte) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(b) > 0 && len(b) == len(h.lastMod) && &b[0] == &h.lastMod[0] {
		return h.lastTag
	}
	sum := sha256.Sum256(b)
	h.lastMod, h.lastTag = b, hex.EncodeToString(sum[:12])
	return h.lastTag
}

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "pacd playground: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if req.URL.Path == "/pac.wasm" {
		h.serveModule(w, req)
		return
	}
	f, ok := static[req.URL.Path]
	if !ok {
		http.Error(w, "pacd playground: no such file: "+req.URL.Path, http.StatusNotFound)
		return
	}
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache") // revalidate: the ETag makes it cheap
	hd.Set("ETag", f.etag)
	http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(f.data))
}

// gzipMagic starts every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

func (h *handler) serveModule(w http.ResponseWriter, req *http.Request) {
	if h.module == nil {
		http.Error(w, "pacd playground: this server has no WebAssembly engine (pac.wasm) to serve: "+
			"build it with `make wasm` and give it to pacd serve with --wasm bin/pac.wasm", http.StatusNotFound)
		return
	}
	b, err := h.module()
	if err != nil {
		http.Error(w, "pacd playground: the WebAssembly engine (pac.wasm) is not available: "+err.Error(), http.StatusNotFound)
		return
	}
	if len(b) == 0 {
		http.Error(w, "pacd playground: the WebAssembly engine (pac.wasm) is empty", http.StatusNotFound)
		return
	}
	tag := h.moduleTag(b)
	hd := w.Header()
	hd.Set("Content-Type", "application/wasm")
	hd.Set("Cache-Control", "no-cache")
	if bytes.HasPrefix(b, gzipMagic) {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(req) {
			hd.Set("Content-Encoding", "gzip")
			hd.Set("ETag", `"`+tag+`-gz"`)
			http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(b))
			return
		}
		hd.Set("ETag", `"`+tag+`-id"`)
		if inm := req.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, `"`+tag+`-id"`) {
			w.WriteHeader(http.StatusNotModified) // no need to decompress
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err == nil {
			b, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, "pacd playground: the WebAssembly engine (pac.wasm) does not decompress: "+err.Error(), http.StatusInternalServerError)
			return
		}
	} else {
		hd.Set("ETag", `"`+tag+`"`)
	}
	http.ServeContent(w, req, "", time.Time{}, bytes.NewReader(b))
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (a q of 0 refuses it).
func acceptsGzip(req *http.Request) bool {
	for _, v := range req.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
