package wasm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pacd/pacd/internal/wasmtest"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
)

// The corpus and the Node side of the parity test, relative to this
// package's directory.
const (
	nodeCorpusDir   = "../testdata/pac"
	nodeCorpusBatch = "../web/test/corpus.mjs"
	nodeAPITests    = "../web/test/api.mjs"
)

// minNodeCorpusFiles is the fewest expectation files the corpus may hold
// (as in pac's TestCorpus): fewer means files went missing.
const minNodeCorpusFiles = 30

// nodePath returns Node's path, skipping the test when it is missing, or
// failing it when CI is "true".
func nodePath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/node", "node"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("node is not installed (apt-get install nodejs); CI must not skip")
	}
	t.Skip("node is not installed (apt-get install nodejs)")
	return ""
}

// The JSON that web/test/corpus.mjs reads and writes (its header comment
// describes it).
type (
	nodeInput struct {
		Files []nodeFile `json:"files"`
		Parse []string   `json:"parse"`
	}
	nodeFile struct {
		Name      string            `json:"name"`
		Source    string            `json:"source"`
		Zone      string            `json:"zone"`
		Now       float64           `json:"now"`
		Resolve   map[string]string `json:"resolve"`
		Client    string            `json:"client"`
		FullURLs  bool              `json:"full_urls"`
		TimeoutMS int64             `json:"timeout_ms"`
		Cases     []nodeCase        `json:"cases"`
	}
	nodeCase struct {
		URL  string `json:"url"`
		Host string `json:"host"`
	}
	nodeOutput struct {
		Files []nodeFileAnswers `json:"files"`
		Parse []nodeParsed      `json:"parse"`
	}
	nodeFileAnswers struct {
		CompileError *nodeError   `json:"compile_error"`
		Answers      []nodeAnswer `json:"answers"`
	}
	nodeAnswer struct {
		Result *string     `json:"result,omitempty"`
		Parsed *nodeParsed `json:"parsed,omitempty"`
		Error  *nodeError  `json:"error,omitempty"`
	}
	nodeError struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	nodeParsed struct {
		Canonical string        `json:"canonical"`
		Warnings  []nodeDropped `json:"warnings"`
	}
	nodeDropped struct {
		Entry  string `json:"entry"`
		Reason string `json:"reason"`
	}
)

func (a nodeAnswer) String() string {
	if a.Error != nil {
		return fmt.Sprintf("error %s: %q", a.Error.Kind, a.Error.Message)
	}
	if a.Result != nil {
		return fmt.Sprintf("%q", *a.Result)
	}
	return "nothing"
}

// nodeErrorKind classifies err as cmd/pac-wasm reports it (its report function).
func nodeErrorKind(err error) string {
	var se *pac.SyntaxError
	var xe *pac.ScriptError
	switch {
	case errors.As(err, &se):
		return "syntax"
	case errors.As(err, &xe):
		return "script"
	case errors.Is(err, pac.ErrTimeout):
		return "timeout"
	case errors.Is(err, pac.ErrNoEntryPoint):
		return "no_entry"
	case errors.Is(err, pac.ErrScriptTooLarge):
		return "too_large"
	}
	return "internal"
}

func nodeNativeError(err error) *nodeError {
	return &nodeError{Kind: nodeErrorKind(err), Message: err.Error()}
}

// nodeNativeParsed is what pac.ParseResult makes of s, in the shape of
// parseResult's in web/pacwasm.js.
func nodeNativeParsed(s string) nodeParsed {
	r, err := pac.ParseResult(s)
	p := nodeParsed{Canonical: r.String(), Warnings: []nodeDropped{}}
	var re *pac.ResultError
	if errors.As(err, &re) {
		for _, d := range re.Dropped {
			p.Warnings = append(p.Warnings, nodeDropped{d.Entry, d.Reason})
		}
		if re.Empty {
			p.Warnings = append(p.Warnings, nodeDropped{"", "no valid entry, using DIRECT"})
		}
	}
	return p
}

// nodeParserCases are PAC results, beyond those of the corpus, on which the
// result parser of web/pacwasm.js must agree with pac.ParseResult.
var nodeParserCases = []string{
	"", " ; ; ", ";;;", "DIRECT", "direct; DIRECT", "PROXY a:8080", "PROXY foopy1 ; proxy foopy2;\t DIRECT",
	"PROXY foopy1 ; JUNK ; JUNK ; SOCKS5 foopy2 ; ;", "HTTPS secure.example", "SOCKS s", "socks4 s:9",
	"SOCKS5 [2001:DB8::1]:1080", "PROXY [::1]", "PROXY [::ffff:1.2.3.4]:3", "PROXY [::1.2.3.4]", "PROXY [1::]",
	"PROXY [0:0:1:0:0:0:1:0]", "PROXY [1:0:0:1:0:0:0:1]", "PROXY [2001:db8:0:0:1:0:0:1]", "PROXY [1:2:3:4:5:6:7::]",
	"PROXY [1::2:3:4:5:6:7:8]", "PROXY [::1%eth0]", "PROXY [fe80::1%25eth0]:1", "PROXY [1.2.3.4]:80", "PROXY [::1",
	"PROXY [::1]x", "PROXY [::1]:", "PROXY [12345::1]", "PROXY [1:2:3:4:5:6:7:8:9]", "PROXY [::01.2.3.4]",
	"PROXY Proxy.EXAMPLE.com:3128", "PROXY 0xA.020.3.4:1", "PROXY 127.1", "PROXY 1234", "PROXY 0x", "PROXY 09",
	"PROXY 4294967295", "PROXY 4294967296", "PROXY 1.2.3.4.", "PROXY 1.2.3.4..", "PROXY 1.2.3.4.5", "PROXY 256.1.1.1",
	"PROXY a.0x1g", "PROXY bücher.example", "PROXY BÜCHER.example:81", "PROXY -bücher.example", "PROXY bü_cher.example",
	"PROXY ＥＸＡＭＰＬＥ.com", "PROXY １２７.０.０.１", "PROXY under_score.corp:8080", "  PROXY\ta:1  ", "PROXY",
	"PROXY-foopy:10", "HTTP foopy:10; DIRECT", "DIRECT foopy:10", "PROXY host:", "PROXY host:0", "PROXY host:65535",
	"PROXY host:65536", "PROXY host:+80", "PROXY host:0080", "PROXY host:8_0", "PROXY host:-1",
	"PROXY user:pass@evil.example:80; DIRECT", "PROXY 2001:db8::1", "PROXY a/b:80", "PROXY a..b", "PROXY .a",
	"PROXY a.", "QUIC q:443; PROXY p:1", "quic q", "ſocks5 s", "SOCK\u212a5 s", "D\u0131RECT", "PROXY\u00a0a:1",
	"\u00a0PROXY a:1\u3000", "\ufeffDIRECT", "PROXY a:1\u0085", "PROXY é\x01", "ju\"nk\\\x7f\u00ad\U0001F600é a", "PROXY a b",
	"PROXY " + strings.Repeat("a", 254), "PROXY " + strings.Repeat("a.", 126) + "a", "HTTPS [::]:443",
}

// TestNodeParity runs every case of every file of the PAC corpus through
// the native engine and through the WebAssembly module in Node, loaded by
// web/pacwasm.js, and requires the same answers: the same string, or an
// error of the same kind with the same message. Each nodeAnswer string is
// also parsed by pac.ParseResult and by the JavaScript result parser,
// which must agree, as they must on nodeParserCases.
//
// Files with a timeout hold scripts that loop forever, which nothing can
// interrupt on Node's main thread: web/test/corpus.mjs runs them in a
// Worker (createWorkerEngine) that is terminated at the file's deadline,
// or after 1 s if that is later, so that a loaded machine does not time
// out the quick cases; a loop times out either way, with the engine's own
// message. A case with a sandbox error text (a memory bomb, which the
// native engine stops at its deadline and wazero at its memory cap) must
// fail in Node too, but how it fails is Node's: the browser module has no
// memory cap of pacd's, and runs out of memory or time.
func TestNodeParity(t *testing.T) {
	node := nodePath(t)
	module := wasmtest.Module(t)

	paths, err := pactest.Expand(nodeCorpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < minNodeCorpusFiles {
		t.Fatalf("%s holds %d %s files, want at least %d", nodeCorpusDir, len(paths), pactest.Ext, minNodeCorpusFiles)
	}

	var (
		in     = nodeInput{Parse: nodeParserCases}
		files  []*pactest.File
		native []nodeFileAnswers
	)
	for _, path := range paths {
		f, err := pactest.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.ReadFile(f.PAC)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(src) {
			t.Fatalf("%s is not UTF-8, which JSON cannot carry to Node unchanged", f.PAC)
		}
		opts := f.Options()
		nf := nodeFile{
			Name:      opts.Name,
			Source:    string(src),
			Zone:      f.Location.String(),
			Now:       float64(f.Now.UnixNano()) / 1e6,
			Resolve:   map[string]string{},
			Client:    nodeJoinAddrs(f.Client),
			FullURLs:  f.FullURLs,
			TimeoutMS: f.Timeout.Milliseconds(),
		}
		for host, addrs := range f.Hosts {
			nf.Resolve[host] = nodeJoinAddrs(addrs)
		}
		for _, c := range f.Cases {
			nf.Cases = append(nf.Cases, nodeCase{URL: c.URL, Host: c.Host})
		}
		in.Files = append(in.Files, nf)
		files = append(files, f)
		native = append(native, nodeRunNative(t, f, string(src)))
	}

	out := nodeRun(t, node, module, in)
	if len(out.Files) != len(in.Files) {
		t.Fatalf("node answered for %d files, want %d", len(out.Files), len(in.Files))
	}

	compared, timeouts := 0, 0
	for i, f := range files {
		name := filepath.Base(f.Path)
		want, got := native[i], out.Files[i]
		if f.Timeout > 0 {
			timeouts++
		}
		compared++ // the compile
		if !nodeSameError(want.CompileError, got.CompileError) {
			t.Errorf("%s: compile: native %s, node %s", name, nodeErrString(want.CompileError), nodeErrString(got.CompileError))
			continue
		}
		if len(got.Answers) != len(want.Answers) {
			t.Errorf("%s: node gave %d answers, native %d", name, len(got.Answers), len(want.Answers))
			continue
		}
		for j, c := range f.Cases {
			compared++
			w, g := want.Answers[j], got.Answers[j]
			where := fmt.Sprintf("%s:%d: %s", name, c.Line, c.URL)
			switch {
			case c.SandboxErr != "":
				if g.Error == nil {
					t.Errorf("%s: node answered %v, want an error", where, g)
				}
			case (w.Error == nil) != (g.Error == nil), w.Error != nil && !nodeSameError(w.Error, g.Error):
				t.Errorf("%s: native %v, node %v", where, w, g)
			case w.Result != nil && (g.Result == nil || *g.Result != *w.Result):
				t.Errorf("%s: native %v, node %v", where, w, g)
			case w.Result != nil:
				nodeCheckParsed(t, where, *w.Result, g.Parsed)
			}
		}
	}
	if len(out.Parse) != len(nodeParserCases) {
		t.Fatalf("node parsed %d results, want %d", len(out.Parse), len(nodeParserCases))
	}
	for i, s := range nodeParserCases {
		p := out.Parse[i]
		nodeCheckParsed(t, fmt.Sprintf("nodeParserCases[%d]", i), s, &p)
	}
	t.Logf("compared %d cases (compiles and evaluations) of %d files, %d of them with a timeout, run in a Worker; %d extra result strings parsed",
		compared, len(files), timeouts, len(nodeParserCases))
}

// TestNodeAPI runs web/test/api.mjs, the node:test tests of
// web/pacwasm.js's API (loading, errors, DNS, clock, the one-script
// instance, memory growth, the Worker engine and its timeouts), on a
// freshly built module.
func TestNodeAPI(t *testing.T) {
	node := nodePath(t)
	module := wasmtest.Module(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test-reporter=spec", nodeAPITests)
	cmd.Env = append(os.Environ(), "PACWASM_MODULE="+module, "NODE_NO_WARNINGS=1", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", node, nodeAPITests, err, out)
	}
	t.Logf("%s", out)
}

func nodeCheckParsed(t *testing.T, where, s string, got *nodeParsed) {
	t.Helper()
	want := nodeNativeParsed(s)
	if got == nil {
		t.Errorf("%s: node did not parse %q", where, s)
		return
	}
	if got.Warnings == nil {
		got.Warnings = []nodeDropped{}
	}
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if !bytes.Equal(wj, gj) {
		t.Errorf("%s: parsing %q: pac.ParseResult %s, pacwasm.js %s", where, s, wj, gj)
	}
}

// nodeRunNative evaluates f's cases as pactest does, recording the answers.
func nodeRunNative(t *testing.T, f *pactest.File, src string) nodeFileAnswers {
	t.Helper()
	var r nodeFileAnswers
	s, err := pac.Compile(src, f.Options())
	if err != nil {
		r.CompileError = nodeNativeError(err)
		return r
	}
	for _, c := range f.Cases {
		got, err := s.Eval(context.Background(), c.URL, c.Host)
		if err != nil {
			r.Answers = append(r.Answers, nodeAnswer{Error: nodeNativeError(err)})
		} else {
			r.Answers = append(r.Answers, nodeAnswer{Result: &got})
		}
	}
	return r
}

func nodeRun(t *testing.T, node, module string, in nodeInput) nodeOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, node, nodeCorpusBatch, module)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), "NODE_NO_WARNINGS=1")
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", node, nodeCorpusBatch, err, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Logf("node's standard error:\n%s", stderr.Bytes())
	}
	t.Logf("node ran the corpus in %v", time.Since(start).Round(time.Millisecond))
	var out nodeOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("node's answers: %v\n%.2000s", err, stdout.Bytes())
	}
	return out
}

func nodeSameError(a, b *nodeError) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func nodeErrString(e *nodeError) string {
	if e == nil {
		return "no error"
	}
	return fmt.Sprintf("error %s: %q", e.Kind, e.Message)
}

func nodeJoinAddrs[T fmt.Stringer](addrs []T) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ";")
}
