package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/wasmtest"
	"github.com/pacd/pacd/wasm"
)

// sandboxPAC exercises what the sandbox must hand the script as natively:
// DNS, the client's address, the clock and zone, alerts, and a loop that
// only the deadline stops.
const sandboxPAC = `function FindProxyForURL(url, host) {
  if (host == "dns") return dnsResolve("intra.example") + " " + isResolvable("elsewhere.invalid");
  if (host == "date") return String(new Date().getHours()) + " " + timeRange(12) + " " + weekdayRange("WED");
  if (host == "alert") { alert("hello from " + host); return "DIRECT"; }
  if (host == "loop") for (;;) {}
  if (host == "deep") { var f = function (n) { return f(n + 1); }; return f(0); }
  return "PROXY sandbox.example:8080; DIRECT";
}
`

// sandboxed runs pacd's commands with the module under test: with
// --sandbox --wasm, and with the compilation cache that the tests share.
// The module is built first, while the go command still finds its own
// cache under the user's cache directory.
func sandboxed(t *testing.T) (module string) {
	t.Helper()
	module = wasmtest.Module(t)
	t.Setenv("XDG_CACHE_HOME", wasmtest.CacheHome())
	return module
}

// TestEvalSandbox runs pacd eval with every flag, natively and with
// --sandbox, and requires the same exit status and output.
func TestEvalSandbox(t *testing.T) {
	module := sandboxed(t)
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", testPAC)
	sbFile := writeFile(t, dir, "sandbox.pac", sandboxPAC)
	urls := writeFile(t, dir, "urls.txt", "# a comment\nhttp://direct.example/\n\nhttps://x.example/secret\nhttp://bad/\n")
	tests := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"url", "", []string{"-p", pacFile, "-u", "http://direct.example/"}},
		{"host flag", "", []string{"-p", pacFile, "-u", "http://x/", "-h", "direct.example"}},
		{"https stripped", "", []string{"-p", pacFile, "-u", "https://x.example/secret"}},
		{"full urls", "", []string{"-p", pacFile, "-u", "https://x.example/secret", "--full-urls"}},
		{"stdin", testPAC, []string{"-p", "-", "-u", "http://direct.example/"}},
		{"client", "", []string{"-p", pacFile, "-c", "10.1.2.3,2001:db8::1", "-u", "http://me/"}},
		{"now", "", []string{"-p", pacFile, "--now", "2026-03-04T05:06:07Z", "-u", "http://when/"}},
		{"list", "", []string{"-p", pacFile, "-f", urls}},
		{"args", "", []string{"-p", pacFile, "-e", "http://direct.example/", "http://a/"}},
		{"json", "", []string{"-p", pacFile, "--json", "-u", "http://junk/"}},
		{"warning", "", []string{"-p", pacFile, "-u", "http://junk/"}},
		{"script error", "", []string{"-p", pacFile, "-u", "http://bad/"}},
		{"trace", "", []string{"-p", pacFile, "--trace", "-c", "10.0.0.1", "-u", "http://me/"}},
		{"resolve offline", "", []string{"-p", sbFile, "--offline", "--resolve", "intra.example=10.9.8.7", "-u", "http://dns/"}},
		{"zone and clock", "", []string{"-p", sbFile, "--now", "2026-07-01T10:00:00Z", "--tz", "Europe/Berlin", "-u", "http://date/"}},
		{"alert", "", []string{"-p", sbFile, "-u", "http://alert/"}},
		{"timeout", "", []string{"-p", sbFile, "--timeout", "100ms", "-u", "http://loop/"}},
		{"stack overflow", "", []string{"-p", sbFile, "-u", "http://deep/"}},
		{"syntax error", "function FindProxyForURL(u, h) {\n  return 'DIRECT' +;\n}\n", []string{"-p", "-", "-u", "http://a/"}},
		{"missing file", "", []string{"-p", filepath.Join(dir, "nope.pac"), "-u", "http://a/"}},
		{"usage", "", []string{"-p", pacFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"eval"}, tt.args...)
			code, stdout, stderr := runPacd(t, tt.stdin, args...)
			scode, sstdout, sstderr := runPacd(t, tt.stdin, append([]string{"eval", "--sandbox", "--wasm", module}, tt.args...)...)
			if scode != code || sstdout != stdout || sstderr != stderr {
				t.Errorf("pacd %s\n native:  exit %d, stdout %q, stderr %q\n sandbox: exit %d, stdout %q, stderr %q",
					strings.Join(args, " "), code, stdout, stderr, scode, sstdout, sstderr)
			}
		})
	}
}

// TestTestSandbox runs the corpus with pacd test --sandbox.
func TestTestSandbox(t *testing.T) {
	module := sandboxed(t)
	code, stdout, stderr := runPacd(t, "", "test", "--wasm", module, "../../testdata/pac")
	ncode, nstdout, _ := runPacd(t, "", "test", "../../testdata/pac")
	if code != 0 || stdout != nstdout || ncode != 0 {
		t.Errorf("pacd test --wasm: exit %d, stdout %q, stderr %q; natively exit %d, %q", code, stdout, stderr, ncode, nstdout)
	}
}

// TestResolveSandbox resolves through a PAC file in the sandbox.
func TestResolveSandbox(t *testing.T) {
	module := sandboxed(t)
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", testPAC)
	args := []string{"--no-env", "--pac", pacFile, "--explain", "http://direct.example/", "http://other.example/", "http://bad/"}
	code, stdout, stderr := runPacd(t, "", append([]string{"resolve"}, args...)...)
	scode, sstdout, sstderr := runPacd(t, "", append([]string{"resolve", "--sandbox", "--wasm", module}, args...)...)
	if scode != code || sstdout != stdout || sstderr != stderr || !strings.Contains(stdout, "PROXY p.example:8080") {
		t.Errorf("native:  exit %d, stdout %q, stderr %q\nsandbox: exit %d, stdout %q, stderr %q", code, stdout, stderr, scode, sstdout, sstderr)
	}
}

// TestSandboxWithoutModule checks the errors of --sandbox when there is
// no module to run: this test binary is built without the embedded one.
func TestSandboxWithoutModule(t *testing.T) {
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", testPAC)
	code, _, stderr := runPacd(t, "", "eval", "--sandbox", "-p", pacFile, "-u", "http://a/")
	if code != 2 || !strings.Contains(stderr, "built without the WebAssembly module") {
		t.Errorf("eval --sandbox: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runPacd(t, "", "test", "--wasm", filepath.Join(dir, "nope.wasm"), dir)
	if code != 2 || !strings.Contains(stderr, "nope.wasm") {
		t.Errorf("test --wasm nope.wasm: exit %d, stderr %q", code, stderr)
	}
}

// TestServeSandbox runs pacd serve --sandbox and asks its status page for
// decisions, one from a script that loops: the deadline stops it, the
// URL goes DIRECT, and serving goes on.
func TestServeSandbox(t *testing.T) {
	module := sandboxed(t)
	dir := t.TempDir()
	pacFile := writeFile(t, dir, "proxy.pac", sandboxPAC)
	ctx, cancel := context.WithCancel(context.Background())
	var log syncWriter
	done := make(chan int, 1)
	argv := []string{"serve", "--no-env", "--listen", "127.0.0.1:0", "--drain", "1s", "--sandbox", "--wasm", module, "--pac", pacFile, "--timeout", "200ms"}
	go func() { done <- run(ctx, argv, strings.NewReader(""), io.Discard, &log) }()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("pacd serve exited with %d", code)
			}
		case <-time.After(15 * time.Second):
			t.Error("pacd serve did not stop")
		}
		if t.Failed() {
			t.Logf("log:\n%s", log.String())
		}
	}()
	serving := regexp.MustCompile(`msg="pacd serving" http=(\S+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == ""; {
		if m := serving.FindStringSubmatch(log.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatal("pacd serve did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	decision := func(u string) string {
		resp, err := http.Get("http://" + addr + "/status?format=json&url=" + url.QueryEscape(u))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st struct {
			Query struct {
				Decision string `json:"decision"`
			} `json:"query"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.Query.Decision
	}
	for _, c := range []struct{ url, want string }{
		{"http://other.example/", "PROXY sandbox.example:8080; DIRECT"},
		{"http://loop/", "DIRECT"},
		{"http://other.example/", "PROXY sandbox.example:8080; DIRECT"},
	} {
		if got := decision(c.url); got != c.want {
			t.Errorf("%s: decision %q, want %q", c.url, got, c.want)
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestServeNetworkPACInSandbox checks that a PAC script fetched from the
// network runs in the sandbox unless --trusted-pac, warns when there is
// no module to run it in, and that the playground is served at / when
// there is one.
func TestServeNetworkPACInSandbox(t *testing.T) {
	module := sandboxed(t)
	pacSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `function FindProxyForURL(u, h) { return "DIRECT" }`)
	}))
	defer pacSrv.Close()

	p := startServe(t, "--pac", pacSrv.URL+"/proxy.pac", "--wasm", module)
	if !strings.Contains(p.log.String(), "PAC loaded") || strings.Contains(p.log.String(), "runs natively") {
		t.Errorf("with --wasm the network PAC did not load in the sandbox:\n%s", p.log)
	}
	resp, body := page(t, p.http, "/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "playground") {
		t.Errorf("/ with a module: %d %.200q", resp.StatusCode, body)
	}

	// This test binary has no module embedded: without --wasm the network
	// PAC runs natively, and says so; / stays the index page.
	q := startServe(t, "--pac", pacSrv.URL+"/proxy.pac")
	if !q.waitLog("runs natively") {
		t.Errorf("no warning that the network PAC is not sandboxed:\n%s", q.log)
	}
	if _, body := page(t, q.http, "/"); strings.Contains(body, "playground.js") {
		t.Errorf("/ without a module serves the playground")
	}
	r := startServe(t, "--pac", pacSrv.URL+"/proxy.pac", "--trusted-pac")
	if strings.Contains(r.log.String(), "runs natively, bounded") {
		t.Errorf("--trusted-pac still warns:\n%s", r.log)
	}

	// With a module in the binary, as make build makes it, the network
	// PAC goes to the sandbox by itself.
	wasm.RegisterModule(func() ([]byte, error) { return os.ReadFile(module) })
	t.Cleanup(func() { wasm.RegisterModule(nil) })
	s := startServe(t, "--pac", pacSrv.URL+"/proxy.pac")
	if !s.waitLog("it runs in the WebAssembly sandbox") {
		t.Errorf("a network PAC was not sandboxed by default:\n%s", s.log)
	}
	if _, body := page(t, s.http, "/"); !strings.Contains(body, "playground") {
		t.Errorf("/ with an embedded module is not the playground")
	}
}
