package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandlerFiles(t *testing.T) {
	module := []byte("\x00asm\x01\x00\x00\x00 the module")
	h := Handler(func() ([]byte, error) { return module, nil })
	for path, ctype := range map[string]string{
		"/":                  "text/html; charset=utf-8",
		"/index.html":        "text/html; charset=utf-8",
		"/playground.js":     "text/javascript; charset=utf-8",
		"/playground.css":    "text/css; charset=utf-8",
		"/pacwasm.js":        "text/javascript; charset=utf-8",
		"/pacwasm-worker.js": "text/javascript; charset=utf-8",
		"/pac.wasm":          "application/wasm",
	} {
		w := serve(h, http.MethodGet, path)
		if w.Code != 200 || w.Header().Get("Content-Type") != ctype {
			t.Errorf("GET %s: %d %q, want 200 %q", path, w.Code, w.Header().Get("Content-Type"), ctype)
		}
		if w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", path, w.Header())
		}
		if w.Body.Len() == 0 {
			t.Errorf("GET %s: empty body", path)
		}
		if head := serve(h, http.MethodHead, path); head.Code != 200 || head.Body.Len() != 0 || head.Header().Get("Content-Type") != ctype {
			t.Errorf("HEAD %s: %d, %d bytes, %q", path, head.Code, head.Body.Len(), head.Header().Get("Content-Type"))
		}
	}
	if w := serve(h, http.MethodGet, "/pac.wasm"); !bytes.Equal(w.Body.Bytes(), module) {
		t.Errorf("/pac.wasm: %q, want the module", w.Body.Bytes())
	}
	// The same meta policy in the page as in the header, for static servers
	// (less frame-ancestors, which a meta element cannot set).
	page := serve(h, http.MethodGet, "/").Body.String()
	if meta := strings.TrimSuffix(ContentSecurityPolicy, "; frame-ancestors 'none'"); !strings.Contains(page, `content="`+meta+`"`) {
		t.Errorf("index.html's Content-Security-Policy differs from ContentSecurityPolicy")
	}
	// Revalidation by ETag.
	first := serve(h, http.MethodGet, "/playground.js")
	if etag := first.Header().Get("ETag"); etag == "" {
		t.Error("/playground.js has no ETag")
	} else if w := serve(h, http.MethodGet, "/playground.js", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", w.Code)
	}
	if etag := serve(h, http.MethodGet, "/pac.wasm").Header().Get("ETag"); etag == "" {
		t.Error("/pac.wasm has no ETag")
	} else if w := serve(h, http.MethodGet, "/pac.wasm", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("/pac.wasm If-None-Match: %d, want 304", w.Code)
	}
	for _, path := range []string{"/test/playground.mjs", "/web.go", "/nothing", "/index.htm"} {
		if w := serve(h, http.MethodGet, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}
	if w := serve(h, http.MethodPost, "/"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d %v", w.Code, w.Header())
	}
}

func TestHandlerNoModule(t *testing.T) {
	for name, h := range map[string]http.Handler{
		"nil":     Handler(nil),
		"failing": Handler(func() ([]byte, error) { return nil, errors.New("the file is gone") }),
	} {
		w := serve(h, http.MethodGet, "/pac.wasm")
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "pac.wasm") {
			t.Errorf("%s: %d %q, want 404 and a message naming pac.wasm", name, w.Code, w.Body)
		}
		if name == "failing" && !strings.Contains(w.Body.String(), "the file is gone") {
			t.Errorf("%s: %q does not say why", name, w.Body)
		}
		if w := serve(h, http.MethodGet, "/"); w.Code != 200 {
			t.Errorf("%s: the page itself: %d", name, w.Code)
		}
	}
}

func TestHandlerGzipModule(t *testing.T) {
	module := bytes.Repeat([]byte("\x00asm\x01\x00\x00\x00"), 100)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(module)
	zw.Close()
	h := Handler(func() ([]byte, error) { return z.Bytes(), nil })

	w := serve(h, http.MethodGet, "/pac.wasm", "Accept-Encoding", "gzip, deflate, br")
	if w.Header().Get("Content-Encoding") != "gzip" || !bytes.Equal(w.Body.Bytes(), z.Bytes()) || w.Header().Get("Content-Type") != "application/wasm" {
		t.Errorf("with gzip accepted: %q, %d bytes, want the compressed module as it is", w.Header().Get("Content-Encoding"), w.Body.Len())
	}
	gzTag := w.Header().Get("ETag")
	for _, ae := range []string{"", "identity", "gzip;q=0, identity", "br"} {
		w := serve(h, http.MethodGet, "/pac.wasm", "Accept-Encoding", ae)
		if w.Header().Get("Content-Encoding") != "" || !bytes.Equal(w.Body.Bytes(), module) {
			t.Errorf("Accept-Encoding %q: %q, %d bytes, want the module decompressed", ae, w.Header().Get("Content-Encoding"), w.Body.Len())
		}
		if tag := w.Header().Get("ETag"); tag == "" || tag == gzTag {
			t.Errorf("Accept-Encoding %q: ETag %q, want one that is not the gzip body's %q", ae, tag, gzTag)
		}
	}
	if w := serve(h, http.MethodGet, "/pac.wasm", "Accept-Encoding", "gzip", "If-None-Match", gzTag); w.Code != http.StatusNotModified {
		t.Errorf("gzip If-None-Match: %d, want 304", w.Code)
	}
	idTag := serve(h, http.MethodGet, "/pac.wasm").Header().Get("ETag")
	if w := serve(h, http.MethodGet, "/pac.wasm", "If-None-Match", idTag); w.Code != http.StatusNotModified {
		t.Errorf("identity If-None-Match: %d, want 304", w.Code)
	}
	if w := serve(h, http.MethodGet, "/pac.wasm", "If-None-Match", gzTag); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), module) {
		t.Errorf("identity request with the gzip ETag: %d, want 200 and the module", w.Code)
	}
}
