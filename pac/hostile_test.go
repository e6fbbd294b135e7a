package pac_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
)

// The tests of this file check that the engine's defences against
// hostile scripts hold: each fails when its defence is taken away (the
// deadline, the call-depth limit, the description of exceptions under
// the deadline). The hostile corpus (testdata/pac/hostile-*.pac) holds
// the scripts' expected answers; these tests hold the engine to its
// bounds in time, memory and goroutines.

// evalWithin evaluates s for url in a goroutine and fails the test if no
// answer comes within limit: a hung evaluation cannot be stopped, so it
// is left behind rather than hang the test binary.
func evalWithin(t *testing.T, s *pac.Script, url string, limit time.Duration) (string, error, time.Duration) {
	t.Helper()
	type answer struct {
		res string
		err error
	}
	done := make(chan answer, 1)
	start := time.Now()
	go func() {
		res, err := s.Eval(context.Background(), url, "")
		done <- answer{res, err}
	}()
	select {
	case a := <-done:
		return a.res, a.err, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("Eval(%s) has not returned after %v", url, limit)
		return "", nil, 0
	}
}

// TestHostileThrownValues throws values whose name, message or toString
// are the script's own code: getters that loop or throw, a Proxy whose
// traps do, an object whose toString loops. The engine reads them to
// describe the error, and must do so under the evaluation's deadline
// and without letting their exceptions escape: before it did, a looping
// getter hung Eval for ever (the deadline's timer had been stopped) and a
// throwing one crashed the process with a Go panic.
func TestHostileThrownValues(t *testing.T) {
	const src = `function FindProxyForURL(url, host) {
  switch (host) {
  case "name-loops": throw { get name() { for (;;) {} }, message: "m" };
  case "tostring-loops": throw { toString: function () { for (;;) {} } };
  case "proxy-loops": throw new Proxy({}, { get: function () { for (;;) {} } });
  case "message-throws": throw { name: "E", get message() { throw new Error("inner"); } };
  case "name-throws": throw { get name() { throw { get name() { throw 1; } }; } };
  case "proxy-throws": throw new Proxy({}, { get: function () { throw new Error("trap"); } });
  case "tostring-recurses": var o = { toString: function () { return String(o); } }; throw o;
  case "goerror-value": throw Object.create(GoError.prototype, { value: { get: function () { for (;;) {} } } });
  case "name-object": throw { name: { toString: function () { throw new Error("n"); } }, message: "m" };
  }
  return "DIRECT";
}`
	// The deadline leaves room for tostring-recurses, which recurses to
	// the call-depth limit before it throws, on a loaded machine under
	// the race detector.
	s := mustCompile(t, src, &pac.Options{Name: "t.pac", Timeout: 500 * time.Millisecond})
	tests := []struct {
		host string
		want string // the error's text
	}{
		{"name-loops", "pac: script timed out"},
		{"tostring-loops", "pac: script timed out"},
		{"proxy-loops", "pac: script timed out"},
		{"message-throws", "t.pac:6:26: uncaught exception"},
		{"name-throws", "t.pac:7:23: uncaught exception"},
		{"proxy-throws", "t.pac:8:24: uncaught exception"},
		{"tostring-recurses", "t.pac:9:86: uncaught exception"},
		{"goerror-value", "t.pac:10:25: GoError"},
		{"name-object", "t.pac:11:23: uncaught exception"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			_, err, took := evalWithin(t, s, "http://"+tt.host+"/", 10*time.Second)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Eval(%s) error = %v, want %q", tt.host, err, tt.want)
			}
			if took > 3*time.Second {
				t.Errorf("Eval(%s) took %v, with a deadline of 500ms", tt.host, took)
			}
			if res, err := s.Eval(context.Background(), "http://ok/", ""); err != nil || res != "DIRECT" {
				t.Errorf("after %s: Eval = %q, %v", tt.host, res, err)
			}
		})
	}
	// The same at compile time, where the top level throws.
	for _, top := range []string{
		`throw { get name() { for (;;) {} } };`,
		`throw { get message() { throw new Error("x"); }, name: "E" };`,
		`Object.defineProperty(this, "FindProxyForURL", { get: function () { throw new Error("getter"); } });`,
		`Object.defineProperty(this, "FindProxyForURL", { get: function () { for (;;) {} } });`,
	} {
		done := make(chan error, 1)
		go func() {
			_, err := pac.Compile(top, &pac.Options{Name: "top.pac", Timeout: 100 * time.Millisecond})
			done <- err
		}()
		select {
		case err := <-done:
			var se *pac.ScriptError
			if !errors.Is(err, pac.ErrTimeout) && !errors.As(err, &se) {
				t.Errorf("Compile(%s) = %v (%T), want a timeout or a ScriptError", top, err, err)
			}
			if err != nil && strings.Contains(err.Error(), "internal error") {
				t.Errorf("Compile(%s) = %v, an internal error", top, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Compile(%s) has not returned after 10s", top)
		}
	}
}

// TestHostileOneCallGiants guards the bounds of pac/bounds.go: built-ins
// that would loop over, or allocate, a size the script chooses in one
// call of Go code, where the deadline cannot reach. Without the bounds
// Array(1e9).join("") loops for minutes and "x".repeat(2e9) allocates
// 2 GB; with them each is a RangeError at once (or, for the binary-data
// constructors, a ReferenceError), and the process allocates little.
func TestHostileOneCallGiants(t *testing.T) {
	const src = `function FindProxyForURL(url, host) {
  switch (host) {
  case "join": return Array(4294967295).join("");
  case "index-of": return Array(1e9).indexOf(1);
  case "generic": return Array.prototype.lastIndexOf.call({ length: 1e15 }, 1);
  case "sort": var a = []; a.length = 1e9; return a.sort();
  case "fill": return new Array(5e8).fill(0);
  case "from": return Array.from({ length: 1e9 });
  case "repeat": return "x".repeat(2e9);
  case "pad-end": return "x".padEnd(1e9);
  case "split": return "x".repeat(1 << 22).split("");
  case "buffer": return new ArrayBuffer(2e9);
  case "typed": return new Uint8Array(1e9);
  case "json-tree": var t = [1]; for (var d = 0; d < 40; d++) t = [t, t]; return JSON.stringify(t);
  case "json-tree-spaced": var u = [1]; for (var e = 0; e < 40; e++) u = [u, u]; return JSON.stringify(u, null, 2);
  }
  return "DIRECT";
}`
	s := mustCompile(t, src, &pac.Options{Name: "t.pac", Timeout: 200 * time.Millisecond})
	for _, host := range []string{"join", "index-of", "generic", "sort", "fill", "from", "repeat", "pad-end", "split", "buffer", "typed", "json-tree", "json-tree-spaced"} {
		t.Run(host, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err, took := evalWithin(t, s, "http://"+host+"/", 10*time.Second)
			runtime.ReadMemStats(&after)
			var se *pac.ScriptError
			if !errors.As(err, &se) && !errors.Is(err, pac.ErrTimeout) {
				t.Errorf("Eval(%s) = %v, want a RangeError, a ReferenceError or a timeout", host, err)
			}
			if took > 2*time.Second {
				t.Errorf("Eval(%s) took %v, with a deadline of 200ms", host, took)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
				t.Errorf("Eval(%s) allocated %d MiB", host, grew>>20)
			}
		})
	}
	// Sizes that scripts use are untouched.
	ok := mustCompile(t, `function FindProxyForURL(url, host) {
  return "PROXY " + "ab".repeat(1000).length + Array(1000).join("x").length + [3, 1, 2].sort().join("") + JSON.stringify({a: [1]}) + ".example";
}`, nil)
	if res, err := ok.Eval(context.Background(), "http://a/", ""); err != nil || res != `PROXY 2000999123{"a":[1]}.example` {
		t.Errorf("Eval = %q, %v", res, err)
	}
}

// TestHostileRegexpEntryPoints guards RegexpMatchTimeout at every way into
// a backtracking match: test, exec, match, matchAll, replace with a
// string and with a function, split, search, a sticky expression, a
// lookahead and shExpMatch. goja's deadline cannot stop a match; without
// the match timeout each runs for hours. The cases run at once, so the
// test takes one match timeout, not eleven.
func TestHostileRegexpEntryPoints(t *testing.T) {
	const src = `var A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!";
function FindProxyForURL(url, host) {
  switch (host) {
  case "test": return "R" + /^(a|aa)+\1b$/.test(A);
  case "exec": return "R" + /(a+)+\1$/.exec(A);
  case "match": return "R" + A.match(/(a+)+\1$/);
  case "match-all": var n = 0; for (var m of A.matchAll(/(a+)+\1$/g)) n++; return "R" + n;
  case "replace": return A.replace(/(a+)+\1$/g, "x");
  case "replace-function": return A.replace(/(a+)+\1$/g, function (m) { return "x"; });
  case "split": return "R" + A.split(/(a+)+\1$/).length;
  case "search": return "R" + A.search(/(a+)+\1$/);
  case "sticky": return "R" + /(a+)+\1$/y.test(A);
  case "lookahead": return "R" + /^(?=(a+)+\1$)/.test(A);
  case "shexp": return "R" + shExpMatch(A, "(a+)+\\1b");
  }
  return "DIRECT";
}`
	s := mustCompile(t, src, &pac.Options{Name: "t.pac", Timeout: 200 * time.Millisecond})
	hosts := []string{"test", "exec", "match", "match-all", "replace", "replace-function", "split", "search", "sticky", "lookahead", "shexp"}
	var wg sync.WaitGroup
	for _, host := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			res, err := s.Eval(context.Background(), "http://"+host+"/", "")
			took := time.Since(start)
			if !errors.Is(err, pac.ErrTimeout) {
				t.Errorf("Eval(%s) = %q, %v; want a timeout", host, res, err)
			}
			if limit := pac.RegexpMatchTimeout + 3*time.Second; took > limit {
				t.Errorf("Eval(%s) took %v, more than %v", host, took, limit)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(pac.RegexpMatchTimeout + 10*time.Second):
		t.Fatalf("the evaluations have not returned after %v", pac.RegexpMatchTimeout+10*time.Second)
	}
}

// TestHostileHugeScript guards Options.MaxScriptSize: a script over 1 MiB
// is refused before it is parsed, in a moment, and one just under it
// compiles within a few seconds.
func TestHostileHugeScript(t *testing.T) {
	var b strings.Builder
	b.WriteString("// A generated script of many rules.\nfunction FindProxyForURL(url, host) {\n")
	for i := 0; b.Len() < pac.DefaultMaxScriptSize-200; i++ {
		fmt.Fprintf(&b, "  if (host == \"h%d.example\") return \"PROXY p%d.example:8080\";\n", i, i%97)
	}
	b.WriteString("  return \"DIRECT\";\n}\n")
	under := b.String()
	start := time.Now()
	s, err := pac.Compile(under, nil)
	if err != nil {
		t.Fatalf("Compile(%d bytes) = %v", len(under), err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Compile(%d bytes) took %v", len(under), took)
	}
	if res, err := s.Eval(context.Background(), "http://h5.example/", ""); err != nil || res != "PROXY p5.example:8080" {
		t.Errorf("Eval = %q, %v", res, err)
	}
	over := under + strings.Repeat("// padding\n", 100)
	start = time.Now()
	_, err = pac.Compile(over, nil)
	if !errors.Is(err, pac.ErrScriptTooLarge) {
		t.Errorf("Compile(%d bytes) = %v, want ErrScriptTooLarge", len(over), err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("refusing %d bytes took %v", len(over), took)
	}
}
