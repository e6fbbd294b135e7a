package pac_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
)

func mustCompile(t testing.TB, src string, opts *pac.Options) *pac.Script {
	t.Helper()
	s, err := pac.Compile(src, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, src string
		opts      *pac.Options
		want      string // the error's text
	}{
		{"syntax", "function FindProxyForURL(u, h) {\n  return 'DIRECT'\n  if (\n}", &pac.Options{Name: "bad.pac"}, "bad.pac:4:1: SyntaxError: "},
		{"no entry point", "var x = 1;", nil, "pac: script defines no FindProxyForURL function"},
		{"entry is not a function", "var FindProxyForURL = 'DIRECT';", nil, "pac: script defines no FindProxyForURL function"},
		{"top level throws", "function FindProxyForURL(){return 'DIRECT'}\nthrow new Error('boom');", &pac.Options{Name: "t.pac"}, "t.pac:2:7: Error: boom"},
		{"top level loops", "function FindProxyForURL(){return 'DIRECT'}\nwhile(true){}", &pac.Options{Timeout: 20 * time.Millisecond}, "pac: script timed out"},
		{"too large", strings.Repeat(" ", 100), &pac.Options{MaxScriptSize: 10}, "pac: script too large: proxy.pac is 100 bytes, the limit is 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pac.Compile(tt.src, tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Compile error = %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestSyntaxErrorType(t *testing.T) {
	_, err := pac.Compile("function FindProxyForURL(u, h) {\n  return 'x' +;\n}", &pac.Options{Name: "s.pac"})
	var se *pac.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("Compile error = %T %v, want *SyntaxError", err, err)
	}
	if se.Name != "s.pac" || se.Line != 2 || se.Column == 0 {
		t.Errorf("SyntaxError = %+v, want s.pac line 2 with a column", se)
	}
}

func TestEvalErrors(t *testing.T) {
	const src = `function FindProxyForURL(url, host) {
  switch (host) {
  case "throw": throw new TypeError("bad host");
  case "ref": return undefinedFunction();
  case "number": return 42;
  case "undefined": return;
  case "null": return null;
  case "object": return {};
  case "recurse": return (function f(n) { return f(n + 1); })(0);
  case "loop": for (;;) {}
  case "huge": var s = "x"; while (s.length < 200000) s += s; return s;
  case "unicode": return "PROXY b\u00fccher:80";
  case "string object": return new String("DIRECT");
  }
  return "DIRECT";
}`
	s := mustCompile(t, src, &pac.Options{Name: "e.pac", Timeout: 50 * time.Millisecond})
	tests := []struct {
		host string
		want string // the error's text, or "" for none
	}{
		{"throw", "e.pac:3:23: TypeError: bad host"},
		{"ref", "e.pac:4:39: ReferenceError: undefinedFunction is not defined"},
		{"number", "e.pac: FindProxyForURL() did not return a string (it returned a number)"},
		{"undefined", "e.pac: FindProxyForURL() did not return a string (it returned undefined)"},
		{"null", "e.pac: FindProxyForURL() did not return a string (it returned null)"},
		{"object", "e.pac: FindProxyForURL() did not return a string (it returned an object)"},
		{"recurse", "RangeError: maximum call stack size exceeded"},
		{"loop", "pac: script timed out"},
		{"huge", "the limit is 65536"},
		{"unicode", "non-ASCII"},
		{"string object", "did not return a string (it returned an object)"},
		{"fine", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			got, err := s.Eval(context.Background(), "http://"+tt.host+"/", tt.host)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Eval(%q) error = %v", tt.host, err)
			case tt.want == "" && got != "DIRECT":
				t.Fatalf("Eval(%q) = %q, want DIRECT", tt.host, got)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Eval(%q) = %q, %v; want error containing %q", tt.host, got, err, tt.want)
			}
		})
	}
	// The script keeps answering after each failure: a runtime that was
	// interrupted or overflowed is not reused in a broken state.
	if got, err := s.Eval(context.Background(), "http://fine/", "fine"); err != nil || got != "DIRECT" {
		t.Fatalf("Eval after failures = %q, %v", got, err)
	}
}

func TestScriptErrorType(t *testing.T) {
	s := mustCompile(t, "function FindProxyForURL(u, h) {\n  null.x;\n}", &pac.Options{Name: "n.pac"})
	_, err := s.Eval(context.Background(), "http://a/", "")
	var se *pac.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("Eval error = %T %v, want *ScriptError", err, err)
	}
	if se.Line != 2 || !strings.HasPrefix(se.Msg, "TypeError") || !strings.Contains(se.Stack, "FindProxyForURL (n.pac:2:") {
		t.Errorf("ScriptError = %+v", se)
	}
}

func TestTimeoutAndContext(t *testing.T) {
	s := mustCompile(t, `function FindProxyForURL(u, h) { if (h == "loop") for(;;){}; return "DIRECT" }`,
		&pac.Options{Timeout: 30 * time.Millisecond})

	_, err := s.Eval(context.Background(), "http://loop/", "")
	if !errors.Is(err, pac.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("endless loop: error = %v, want ErrTimeout matching DeadlineExceeded", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(5*time.Millisecond, cancel)
	long := mustCompile(t, `function FindProxyForURL(u, h) { for(;;){} }`, &pac.Options{Timeout: time.Minute})
	start := time.Now()
	_, err = long.Eval(ctx, "http://a/", "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancellation took %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := s.Eval(ctx, "http://a/", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: error = %v, want context.Canceled", err)
	}
}

func TestEntryPoints(t *testing.T) {
	tests := []struct {
		src, entry, want string
	}{
		{`function FindProxyForURL(u, h) { return "PROXY a:1" }`, "FindProxyForURL", "PROXY a:1"},
		{`function FindProxyForURLEx(u, h) { return "PROXY ex:1" }`, "FindProxyForURLEx", "PROXY ex:1"},
		{`function FindProxyForURL(u, h) { return "PROXY a:1" }
		  function FindProxyForURLEx(u, h) { return "PROXY ex:1" }`, "FindProxyForURLEx", "PROXY ex:1"},
	}
	for _, tt := range tests {
		s := mustCompile(t, tt.src, nil)
		if s.Entry() != tt.entry {
			t.Errorf("Entry() = %q, want %q", s.Entry(), tt.entry)
		}
		if got, err := s.Eval(context.Background(), "http://h/", ""); err != nil || got != tt.want {
			t.Errorf("Eval = %q, %v, want %q", got, err, tt.want)
		}
	}
}

func TestURLAndHostSeenByScript(t *testing.T) {
	const src = `function FindProxyForURL(url, host) { return url + " " + host }`
	tests := []struct {
		full            bool
		url, host, want string
	}{
		{false, "https://u:p@Www.Example.com:8443/path?q#f", "", "https://www.example.com:8443/ www.example.com"},
		{false, "http://u:p@example.com/a?b#c", "", "http://example.com/a?b example.com"},
		{false, "http://[2001:db8::1]:8080/", "", "http://[2001:db8::1]:8080/ 2001:db8::1"},
		{false, "http://a/", "given", "http://a/ given"},
		{true, "https://example.com/path?q", "", "https://example.com/path?q example.com"},
	}
	for _, tt := range tests {
		s := mustCompile(t, src, &pac.Options{FullURLs: tt.full})
		got, err := s.Eval(context.Background(), tt.url, tt.host)
		if err != nil || !strings.EqualFold(got, tt.want) {
			t.Errorf("Eval(%q, %q) full=%v = %q, %v; want %q", tt.url, tt.host, tt.full, got, err, tt.want)
		}
	}
}

func TestFindProxyForURLParses(t *testing.T) {
	s := mustCompile(t, `function FindProxyForURL(u, h) { return "proxy A:1; JUNK; socks5 [::1]" }`, nil)
	u := mustURL(t, "https://example.com/")
	r, err := s.FindProxyForURL(context.Background(), u)
	if err != nil || r.String() != "PROXY a:1; SOCKS5 [::1]:1080" {
		t.Fatalf("FindProxyForURL = %v, %v", r, err)
	}
}

func TestAlert(t *testing.T) {
	var got []string
	s := mustCompile(t, `alert("loaded"); function FindProxyForURL(u, h) { alert(h); alert(); alert(42); return "DIRECT" }`,
		&pac.Options{Alert: func(m string) { got = append(got, m) }})
	if _, err := s.Eval(context.Background(), "http://x/", ""); err != nil {
		t.Fatal(err)
	}
	if want := "loaded x undefined 42"; strings.Join(got, " ") != want {
		t.Errorf("alerts = %q, want %q", got, want)
	}
}

func TestTrace(t *testing.T) {
	s := mustCompile(t, `function FindProxyForURL(u, h) { alert(h); return getClientVersion() == "1.0" ? "DIRECT" : "PROXY x:1" }`, nil)
	var calls []string
	ctx := pac.WithTrace(context.Background(), func(c pac.Call) { calls = append(calls, c.String()) })
	got, err := s.Eval(ctx, "http://h.example/", "")
	if err != nil || got != "DIRECT" {
		t.Fatalf("Eval = %q, %v", got, err)
	}
	want := `alert("h.example") = undefined|getClientVersion() = "1.0"`
	if strings.Join(calls, "|") != want {
		t.Errorf("trace = %q, want %q", strings.Join(calls, "|"), want)
	}
	// Without WithTrace nothing is recorded, and the next traced run sees
	// only its own calls.
	calls = nil
	s.Eval(context.Background(), "http://h.example/", "")
	if len(calls) != 0 {
		t.Errorf("untraced evaluation recorded %q", calls)
	}
}

// TestConcurrent evaluates from many goroutines at once; run with -race.
// Each runtime has its own globals, and every answer must be right.
func TestConcurrent(t *testing.T) {
	s := mustCompile(t, `var n = 0; function FindProxyForURL(u, h) { n++; return "PROXY " + h + ":80" }`, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				host := fmt.Sprintf("h%d-%d", g, i)
				got, err := s.Eval(context.Background(), "http://"+host+"/", "")
				if err != nil || got != "PROXY "+host+":80" {
					errs <- fmt.Errorf("Eval(%s) = %q, %v", host, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestByteOrderMarkAndLatin1(t *testing.T) {
	s := mustCompile(t, "\ufefffunction FindProxyForURL(u, h) { return 'DIRECT' }", nil)
	if got, err := s.Eval(context.Background(), "http://a/", ""); err != nil || got != "DIRECT" {
		t.Errorf("BOM script: %q, %v", got, err)
	}
	// A comment in Latin-1 (invalid UTF-8) is read as Latin-1, as Firefox does.
	s = mustCompile(t, "// caf\xe9\nfunction FindProxyForURL(u, h) { return 'DIRECT' }", nil)
	if got, err := s.Eval(context.Background(), "http://a/", ""); err != nil || got != "DIRECT" {
		t.Errorf("Latin-1 script: %q, %v", got, err)
	}
}

// TestRegexpBacktrackingBounded checks that a regular expression with
// catastrophic backtracking, which the interpreter cannot interrupt, ends
// within RegexpMatchTimeout and fails the evaluation with ErrTimeout.
func TestRegexpBacktrackingBounded(t *testing.T) {
	const src = `function FindProxyForURL(url, host) {
  var s = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";
  if (host == "shexp") return String(shExpMatch(s, "(a|aa)+\\1b"));
  return String(/^(a|aa)+\1b$/.test(s));
}`
	s := mustCompile(t, src, &pac.Options{Timeout: 100 * time.Millisecond})
	for _, host := range []string{"shexp", "regexp"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got, err := s.Eval(context.Background(), "http://"+host+"/", host)
			if !errors.Is(err, pac.ErrTimeout) {
				t.Errorf("Eval = %q, %v; want ErrTimeout", got, err)
			}
			if d := time.Since(start); d > pac.RegexpMatchTimeout+5*time.Second {
				t.Errorf("Eval took %v", d)
			}
		})
	}
}
