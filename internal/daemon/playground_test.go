package daemon_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/web"
)

// TestPlayground: with Config.Playground set, "/" and the playground's
// files come from it, its 404s included, while /proxy.pac, /wpad.dat,
// /status and /metrics stay the server's own; without it, "/" is the
// index page and nothing else is served.
func TestPlayground(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	module := []byte("\x00asm\x01\x00\x00\x00")
	with := daemon.New(daemon.Config{Logger: quiet, Playground: web.Handler(func() ([]byte, error) { return module, nil })}, newResolver(t, nil))
	without := daemon.New(daemon.Config{Logger: quiet}, newResolver(t, nil))
	failing := daemon.New(daemon.Config{Logger: quiet, Playground: web.Handler(func() ([]byte, error) {
		return nil, errors.New("no module here")
	})}, newResolver(t, nil))

	get := func(s *daemon.Server, path string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.RemoteAddr = "127.0.0.1:4321"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	for _, c := range []struct {
		srv      *daemon.Server
		path     string
		code     int
		ctype    string
		contains string
	}{
		{with, "/", 200, "text/html; charset=utf-8", "PAC playground"},
		{with, "/index.html", 200, "text/html; charset=utf-8", "PAC playground"},
		{with, "/playground.js", 200, "text/javascript; charset=utf-8", "createWorkerEngine"},
		{with, "/pacwasm.js", 200, "text/javascript; charset=utf-8", "export async function load"},
		{with, "/pacwasm-worker.js", 200, "text/javascript; charset=utf-8", "import { load"},
		{with, "/playground.css", 200, "text/css; charset=utf-8", "--focus"},
		{with, "/pac.wasm", 200, "application/wasm", "\x00asm"},
		{with, "/nothing-here", 404, "text/plain; charset=utf-8", "no such file"},
		{with, "/proxy.pac", 200, "application/x-ns-proxy-autoconfig", "FindProxyForURL"},
		{with, "/wpad.dat", 200, "application/x-ns-proxy-autoconfig", "FindProxyForURL"},
		{with, "/status?format=json", 200, "application/json", `"listeners"`},
		{failing, "/pac.wasm", 404, "text/plain; charset=utf-8", "no module here"},
		{failing, "/", 200, "text/html; charset=utf-8", "PAC playground"},
		{without, "/", 200, "text/html; charset=utf-8", "A PAC-aware proxy"},
		{without, "/playground.js", 404, "text/plain; charset=utf-8", "404"},
		{without, "/pac.wasm", 404, "text/plain; charset=utf-8", "404"},
	} {
		w := get(c.srv, c.path)
		if w.Code != c.code || w.Header().Get("Content-Type") != c.ctype || !strings.Contains(w.Body.String(), c.contains) {
			t.Errorf("%s: %d %q %.80q; want %d %q and %q", c.path, w.Code, w.Header().Get("Content-Type"), w.Body.String(), c.code, c.ctype, c.contains)
		}
	}
	m := get(with, "/metrics").Body.String()
	for _, want := range []string{`pacd_requests_total{kind="page",code="200"} 10`, `pacd_requests_total{kind="page",code="404"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, m)
		}
	}
}
