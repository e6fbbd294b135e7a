package pactest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
)

func TestParse(t *testing.T) {
	f, err := pactest.Parse("dir/x.pactest", []byte(`# comment
now: 2026-03-04T10:30:00+01:00
tz: UTC
client: 10.1.2.3, ::1
resolve: Intra 10.0.0.1
resolve: intra 10.0.0.2, 2001:db8::1
timeout: 200ms
full-urls: true

http://a/ => DIRECT
http://b/ other.host => PROXY p:1; DIRECT
http://c/ => ""
http://d/ => error: timed out
`))
	if err != nil {
		t.Fatal(err)
	}
	if f.PAC != filepath.Join("dir", "x.pac") || !f.Now.Equal(time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)) ||
		len(f.Client) != 2 || len(f.Hosts["intra"]) != 3 || f.Timeout != 200*time.Millisecond || !f.FullURLs {
		t.Errorf("settings = %+v", f)
	}
	var cases []string
	for _, c := range f.Cases {
		cases = append(cases, c.String())
	}
	want := `http://a/ => DIRECT|http://b/ other.host => PROXY p:1; DIRECT|http://c/ => ""|http://d/ => error: timed out`
	if got := strings.Join(cases, "|"); got != want {
		t.Errorf("cases = %s, want %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "x.pactest:0: no cases"},
		{"nonsense\n", `x.pactest:1: want "key: value" or "URL => RESULT", got "nonsense"`},
		{"http://a/ => DIRECT\nnow: 2026-01-01T00:00:00Z\n", `x.pactest:2: setting "now" after the first case`},
		{"tz: UTC\ntz: UTC\nhttp://a/ => DIRECT\n", `x.pactest:2: setting "tz" given twice`},
		{"tz: Nowhere/City\nhttp://a/ => DIRECT\n", "x.pactest:1: tz: unknown time zone Nowhere/City"},
		{"colour: blue\nhttp://a/ => DIRECT\n", "x.pactest:1: colour: unknown setting"},
		{"timeout: -1s\nhttp://a/ => DIRECT\n", "x.pactest:1: timeout: must be positive"},
		{"http://a/ b c => DIRECT\n", `x.pactest:1: want "URL [HOST] => RESULT"`},
		{"http://a/ => error:\n", "x.pactest:1: empty error text"},
		{"http://a/ => \"unterminated\n", "x.pactest:1: bad quoted result"},
		{"compile-error: x\nhttp://a/ => DIRECT\n", "x.pactest:2: cases in a file that expects a compile error"},
	}
	for _, tt := range tests {
		_, err := pactest.Parse("x.pactest", []byte(tt.in))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want prefix %q", tt.in, err, tt.want)
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a.pac", `function FindProxyForURL(u, h) { return isResolvable(h) ? "DIRECT" : "PROXY p:1" }`)
	path := write("a.pactest", "resolve: in 10.0.0.1\nhttp://in/ => DIRECT\nhttp://out/ => PROXY p:1\nhttp://in/ => PROXY wrong:1\n")
	f, err := pactest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Run(context.Background())
	if r.Passed() != 2 || r.Failed() != 1 {
		t.Fatalf("passed %d, failed %d; want 2 and 1", r.Passed(), r.Failed())
	}
	if got, want := r.Outcomes[2].String(), `http://in/: want "PROXY wrong:1", got "DIRECT"`; got != want {
		t.Errorf("failure = %q, want %q", got, want)
	}

	write("b.pac", "function FindProxyForURL(u, h) {")
	path = write("b.pactest", "compile-error: SyntaxError\n")
	f, err = pactest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.Run(context.Background()); r.Passed() != 1 || r.Failure != "" {
		t.Errorf("compile-error file: passed %d, failure %q", r.Passed(), r.Failure)
	}

	got, err := pactest.Expand(dir, filepath.Join(dir, "a.pac"))
	if err != nil || len(got) != 3 || got[2] != filepath.Join(dir, "a.pactest") {
		t.Errorf("Expand = %q, %v", got, err)
	}
}

// closingScript is an Evaluator of another engine, which must be closed.
type closingScript struct {
	answer string
	closed *bool
}

func (s closingScript) Eval(context.Context, string, string) (string, error) { return s.answer, nil }
func (s closingScript) Close() error                                         { *s.closed = true; return nil }

func TestRunWith(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.pac"), []byte("// any script\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.pactest")
	if err := os.WriteFile(path, []byte("tz: Europe/Berlin\nhttp://a/ => DIRECT\nhttp://b/ => PROXY p:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := pactest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	var gotOpts *pac.Options
	r := f.RunWith(context.Background(), func(src string, opts *pac.Options) (pactest.Evaluator, error) {
		gotOpts = opts
		return closingScript{"DIRECT", &closed}, nil
	})
	if r.Passed() != 1 || r.Failed() != 1 {
		t.Errorf("passed %d, failed %d; want 1 and 1", r.Passed(), r.Failed())
	}
	if !closed {
		t.Error("RunWith did not close the script")
	}
	if gotOpts == nil || gotOpts.Name != "a.pac" || gotOpts.Location.String() != "Europe/Berlin" {
		t.Errorf("compile got options %+v, want the file's", gotOpts)
	}
}

// cappedScript is an Evaluator with a memory cap, which always fails.
type cappedScript struct{ err error }

func (s cappedScript) Eval(context.Context, string, string) (string, error) { return "", s.err }
func (s cappedScript) MemoryLimit() uint64                                  { return 32 << 20 }

// TestSandboxError checks that "error: A | sandbox: B" holds the native
// engine to A and an engine with a memory cap to B.
func TestSandboxError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.pac"), []byte("function FindProxyForURL() { var s = \"x\"; for (;;) s += s; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "a.pactest")
	if err := os.WriteFile(path, []byte("timeout: 50ms\nhttp://a/ => error: timed out | sandbox: ran out of memory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := pactest.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Cases[0]; c.WantErr != "timed out" || c.SandboxErr != "ran out of memory" || c.String() != "http://a/ => error: timed out | sandbox: ran out of memory" {
		t.Fatalf("case %+v, written %q", c, c)
	}
	if r := f.Run(context.Background()); r.Passed() != 1 {
		t.Errorf("native: %v", r.Outcomes)
	}
	for _, tt := range []struct {
		err  error
		pass bool
	}{
		{errors.New("wasm: the script ran out of memory"), true},
		{errors.New("pac: script timed out"), false},
	} {
		r := f.RunWith(context.Background(), func(string, *pac.Options) (pactest.Evaluator, error) { return cappedScript{tt.err}, nil })
		if got := r.Passed() == 1; got != tt.pass {
			t.Errorf("sandbox failing with %q: passed = %v, want %v (%v)", tt.err, got, tt.pass, r.Outcomes)
		}
	}
	if _, err := pactest.Parse("x.pactest", []byte("http://a/ => error: x | sandbox:\n")); err == nil {
		t.Error("an empty sandbox text parsed")
	}
}
