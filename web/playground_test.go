package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pacd/pacd/internal/wasmtest"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
	"github.com/pacd/pacd/web"
)

// The corpus and the browser script, relative to this package's directory.
const (
	corpusDir     = "../testdata/pac"
	browserScript = "test/playground.mjs"
	playwrightPkg = "test/node_modules/playwright-core/package.json"
)

// missing skips the test for a tool that is not installed, or fails it
// when CI is "true": CI must run it.
func missing(t *testing.T, what, install string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (%s); CI must not skip", what, install)
	}
	t.Skipf("%s is missing (%s)", what, install)
}

func lookPath(candidates ...string) string {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// The JSON that web/test/playground.mjs reads on standard input (its
// header comment describes it).
type (
	browserInput struct {
		Fixtures  string          `json:"fixtures"`
		NoEngine  string          `json:"noEngine"`
		Files     map[string]file `json:"files"`
		Scenarios []scenario      `json:"scenarios"`
		Trace     traceCheck      `json:"trace"`
		Compare   compareCheck    `json:"compare"`
		Syntax    syntaxCheck     `json:"syntax"`
		Runaway   scenario        `json:"runaway"`
	}
	file struct {
		Path   string `json:"path"`
		Source string `json:"source"`
	}
	scenario struct {
		Name   string `json:"name"`
		PAC    string `json:"pac"`
		URLs   string `json:"urls"`
		Env    env    `json:"env"`
		NowUTC string `json:"nowUTC"` // the clock as the page must show it, in UTC
		Rows   []row  `json:"rows"`
	}
	env struct {
		Time     string      `json:"time"`
		Zone     string      `json:"zone"`
		Client   string      `json:"client"`
		DNS      [][2]string `json:"dns"`
		FullURLs bool        `json:"fullURLs"`
		Timeout  int64       `json:"timeout"`
	}
	// row is what one line of the results table must show.
	row struct {
		URL      string `json:"url"`
		Host     string `json:"host"`
		Returned string `json:"returned"` // the string, or "Error: " and the engine's message
		Proxies  string `json:"proxies"`  // canonical, "" after an error
	}
	traceCheck struct {
		Scenario int      `json:"scenario"`
		Row      int      `json:"row"`
		Calls    []string `json:"calls"`
		Outcome  string   `json:"outcome"`
	}
	compareCheck struct {
		Scenario int    `json:"scenario"`
		PACB     string `json:"pacB"`
		RowsB    []row  `json:"rowsB"`
		Changed  []int  `json:"changed"`
	}
	syntaxCheck struct {
		PAC     string `json:"pac"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	}
)

// TestPlaygroundInChromium loads the playground from this package's
// Handler into Debian's Chromium, driven by playwright-core
// (web/test/playground.mjs), and checks it against the native engine:
// scripts of the corpus pasted with the environment of their .pactest
// files must fill the results table with the answers pac.Compile gives,
// cell by cell; a script that does not parse is marked at its line and
// column; "Why?" lists the calls the native trace records; the compare
// view highlights exactly the URLs whose answers differ; the state
// survives a reload through the fragment; a page served without a module
// says what is missing; a runaway script is stopped
// without freezing the page; the page loads files by picker, drop and
// URL (and says so when CORS forbids it), is keyboard-operable, and
// reaches nothing but 127.0.0.1.
//
// Screenshots go to $PACD_ARTIFACTS if set, else to a temporary
// directory. Node, Chromium and playwright-core (npm ci --prefix
// web/test, which scripts/install-deps.sh runs) must be installed: the
// test skips without them, and fails under CI=true.
func TestPlaygroundInChromium(t *testing.T) {
	node := lookPath("/usr/bin/node", "node")
	if node == "" {
		missing(t, "node", "apt-get install nodejs")
	}
	chromium := lookPath(os.Getenv("PACD_CHROMIUM"), "/usr/bin/chromium", "chromium")
	if chromium == "" {
		missing(t, "chromium", "apt-get install chromium")
	}
	if _, err := os.Stat(playwrightPkg); err != nil {
		missing(t, "playwright-core", "npm ci --prefix web/test")
	}
	module := wasmtest.Module(t)

	page := serveLoopback(t, web.Handler(func() ([]byte, error) { return os.ReadFile(module) }))
	fixtures := serveLoopback(t, fixtureHandler())
	noEngine := serveLoopback(t, web.Handler(nil))
	in := browserInput{Fixtures: fixtures, NoEngine: noEngine, Files: map[string]file{}}

	for _, name := range []string{"bench-small.pac", "dns-resolve.pac", "netscape-ex3.pac"} {
		path, err := filepath.Abs(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		in.Files[name] = file{Path: path, Source: readFile(t, path)}
	}

	// The scenarios: a plain script, one that resolves names and reads the
	// client's address, one that reads the clock in a zone.
	for _, name := range []string{"bench-small.pactest", "corporate-split-tunnel.pactest", "business-hours.pactest"} {
		f, err := pactest.ParseFile(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		in.Scenarios = append(in.Scenarios, nativeScenario(t, name, f, readFile(t, f.PAC)))
	}

	// "Why?" on wiki.example.com of the split-tunnel script: a name that
	// resolves into a private network.
	const traceScenario = 1
	sc := in.Scenarios[traceScenario]
	f := mustParse(t, "corporate-split-tunnel.pactest")
	traced := -1
	for i, r := range sc.Rows {
		if r.URL == "http://wiki.example.com/" {
			traced = i
		}
	}
	if traced < 0 {
		t.Fatal("corporate-split-tunnel.pactest lost http://wiki.example.com/")
	}
	in.Trace = traceCheck{Scenario: traceScenario, Row: traced}
	in.Trace.Calls, in.Trace.Outcome = nativeTrace(t, sc.PAC, f.Options(), sc.Rows[traced].URL)

	// Compare: B moves the SaaS domains to another proxy and drops one
	// direct domain; only some answers change.
	pacB := strings.NewReplacer(
		`"PROXY cloud-proxy.example.net:443; PROXY proxy.corp.example.com:8080"`, `"PROXY cloud-proxy2.example.net:443; DIRECT"`,
		`".example-lab.net"`, `".example-lab.org"`,
	).Replace(sc.PAC)
	if pacB == sc.PAC {
		t.Fatal("the compare edit changed nothing: corporate-split-tunnel.pac changed")
	}
	in.Compare = compareCheck{Scenario: traceScenario, PACB: pacB, RowsB: nativeRows(t, pacB, f.Options(), f.Cases), Changed: []int{}}
	for i := range sc.Rows {
		if sc.Rows[i] != in.Compare.RowsB[i] {
			in.Compare.Changed = append(in.Compare.Changed, i)
		}
	}
	if n := len(in.Compare.Changed); n == 0 || n == len(sc.Rows) {
		t.Fatalf("the compare edit changes %d of %d answers; want some but not all", n, len(sc.Rows))
	}

	// A script that does not parse.
	broken := readFile(t, filepath.Join(corpusDir, "syntax-error.pac"))
	_, err := pac.Compile(broken, &pac.Options{Name: "proxy.pac"})
	var se *pac.SyntaxError
	if !errors.As(err, &se) || se.Line == 0 {
		t.Fatalf("syntax-error.pac compiles to %v, want a SyntaxError with a line", err)
	}
	in.Syntax = syntaxCheck{PAC: broken, Line: se.Line, Column: se.Column, Message: err.Error()}

	// A runaway script: one URL loops until the page's time limit.
	runaway := `function FindProxyForURL(url, host) {
  if (host == "loop.example") { while (true) {} }
  return "DIRECT";
}
`
	rf := &pactest.File{Now: pactest.DefaultNow, Location: time.UTC, Timeout: 2500 * time.Millisecond, Hosts: pac.StaticResolver{}}
	rf.Cases = []pactest.Case{
		{URL: "http://a.example/", Want: "DIRECT"},
		{URL: "http://loop.example/", WantErr: "timed out"},
		{URL: "http://b.example/", Want: "DIRECT"},
	}
	in.Runaway = nativeScenario(t, "runaway", rf, runaway)

	artifacts := os.Getenv("PACD_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, node, browserScript, page+"/", artifacts)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "PACD_CHROMIUM="+chromium, "NODE_NO_WARNINGS=1", "NO_COLOR=1")
	start := time.Now()
	err = cmd.Run()
	t.Logf("%s %s ran in %v:\n%s", node, browserScript, time.Since(start).Round(time.Millisecond), out.Bytes())
	if err != nil {
		t.Fatalf("%s: %v", browserScript, err)
	}
	t.Logf("screenshots in %s", artifacts)
}

// serveLoopback serves h on 127.0.0.1 and returns its base URL.
func serveLoopback(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// fixtureHandler serves the corpus's scripts from another origin than the
// page's: under /cors/ with Access-Control-Allow-Origin, under /nocors/
// without, which a page may not read.
func fixtureHandler() http.Handler {
	mux := http.NewServeMux()
	files := http.FileServer(http.Dir(corpusDir))
	mux.Handle("/cors/", http.StripPrefix("/cors", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		files.ServeHTTP(w, req)
	})))
	mux.Handle("/nocors/", http.StripPrefix("/nocors", files))
	return mux
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustParse(t *testing.T, name string) *pactest.File {
	t.Helper()
	f, err := pactest.ParseFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// nativeScenario is f's environment as the page's fields take it, and
// the rows the native engine answers for f's cases.
func nativeScenario(t *testing.T, name string, f *pactest.File, src string) scenario {
	t.Helper()
	e := env{
		Time:     f.Now.In(f.Location).Format("2006-01-02T15:04:05"),
		Zone:     f.Location.String(),
		Client:   joinAddrs(f.Client, ", "),
		FullURLs: f.FullURLs,
		Timeout:  1000,
		DNS:      [][2]string{},
	}
	if f.Timeout > 0 {
		e.Timeout = f.Timeout.Milliseconds()
	}
	hosts := make([]string, 0, len(f.Hosts))
	for h := range f.Hosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		e.DNS = append(e.DNS, [2]string{h, joinAddrs(f.Hosts[h], ", ")})
	}
	var urls strings.Builder
	for _, c := range f.Cases {
		urls.WriteString(c.URL)
		if c.Host != "" {
			urls.WriteString(" " + c.Host)
		}
		urls.WriteString("\n")
	}
	opts := f.Options()
	opts.Name = "proxy.pac"
	rows := nativeRows(t, src, opts, f.Cases)
	// The corpus's own expectations hold natively, or the file is broken.
	for i, c := range f.Cases {
		if c.WantErr == "" && rows[i].Returned != c.Want || c.WantErr != "" && !strings.Contains(rows[i].Returned, c.WantErr) {
			t.Fatalf("%s: %s: native %q, the file wants %v", name, c.URL, rows[i].Returned, c)
		}
	}
	return scenario{Name: name, PAC: src, URLs: urls.String(), Env: e, NowUTC: f.Now.UTC().Format(time.RFC3339), Rows: rows}
}

// nativeRows evaluates each case as the page does: the host the script
// saw (from a script that returns its arguments), its answer, and the
// proxies that answer means.
func nativeRows(t *testing.T, src string, opts *pac.Options, cases []pactest.Case) []row {
	t.Helper()
	// The zone reaches the time functions through opts.Location. The
	// corpus's scripts make no Date objects, which would need time.Local
	// set as pacd eval --tz does (and that would race with the servers).
	s, err := pac.Compile(src, opts)
	if err != nil {
		t.Fatalf("native compile: %v", err)
	}
	seen, err := pac.Compile(`function FindProxyForURL(url, host) { return url + "\n" + host; }`, &pac.Options{FullURLs: opts.FullURLs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rows := make([]row, len(cases))
	for i, c := range cases {
		sv, err := seen.Eval(ctx, c.URL, c.Host)
		if err != nil {
			t.Fatal(err)
		}
		_, host, _ := strings.Cut(sv, "\n")
		r := row{URL: c.URL, Host: host}
		raw, err := s.Eval(ctx, c.URL, c.Host)
		if err != nil {
			r.Returned = "Error: " + err.Error()
		} else {
			parsed, _ := pac.ParseResult(raw)
			r.Returned, r.Proxies = raw, parsed.String()
		}
		rows[i] = r
	}
	return rows
}

// nativeTrace returns the calls of one traced evaluation, as the page
// writes them, and its outcome line.
func nativeTrace(t *testing.T, src string, opts *pac.Options, url string) ([]string, string) {
	t.Helper()
	s, err := pac.Compile(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	calls := []string{}
	ctx := pac.WithTrace(context.Background(), func(c pac.Call) { calls = append(calls, c.String()) })
	raw, err := s.Eval(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatalf("tracing %s called no PAC function", url)
	}
	var q bytes.Buffer
	enc := json.NewEncoder(&q)
	enc.SetEscapeHTML(false) // as JSON.stringify writes it
	enc.Encode(raw)
	return calls, "Returned " + strings.TrimSpace(q.String())
}

func joinAddrs[T fmt.Stringer](addrs []T, sep string) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, sep)
}
