package wasm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
)

const corpusDir = "../testdata/pac"

// tracedCases is how many cases of each file TestCorpusParity also
// traces in both engines: all of a small file, a sample of a large one
// (corporate-5000's cases make 4,000 calls each).
const tracedCases = 20

// TestCorpusParity runs every expectation file of the shared corpus
// (testdata/pac) through the native engine and through the module, and
// requires the same compile errors, the same answers and the same
// evaluation errors (kind, message, position and stack) from both for
// every case, the same traced calls for a sample of them, and that the
// module passes every case. The one exception is a case with a sandbox
// error text ("error: timed out | sandbox: ran out of memory"): each
// engine must then fail as the case says it does.
func TestCorpusParity(t *testing.T) {
	e := testEngine(t)
	files, err := pactest.Expand(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("%s holds %d files; the corpus went missing", corpusDir, len(files))
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), pactest.Ext), func(t *testing.T) {
			t.Parallel()
			f, err := pactest.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(f.PAC)
			if err != nil {
				t.Fatal(err)
			}
			ns, nerr := pac.Compile(string(src), f.Options())
			ws, werr := e.Compile(context.Background(), string(src), f.Options())
			if got, want := describe("", werr), describe("", nerr); got != want {
				t.Fatalf("Compile: module gives %s, native %s", got, want)
			}
			if f.CompileError != "" {
				if werr == nil || !strings.Contains(werr.Error(), f.CompileError) {
					t.Errorf("%s: compile error %v, want one containing %q", path, werr, f.CompileError)
				}
				return
			}
			if nerr != nil {
				t.Fatalf("Compile: %v", nerr)
			}
			defer ws.Close()
			every := max(1, len(f.Cases)/tracedCases)
			for i, c := range f.Cases {
				var nres, wres string
				var nerr, werr error
				var ncalls, wcalls []string
				if i%every == 0 {
					ctx := pac.WithTrace(context.Background(), func(c pac.Call) { ncalls = append(ncalls, c.String()) })
					nres, nerr = ns.Eval(ctx, c.URL, c.Host)
					var calls []pac.Call
					wres, calls, werr = ws.EvalTraced(context.Background(), c.URL, c.Host)
					for _, c := range calls {
						wcalls = append(wcalls, c.String())
					}
				} else {
					nres, nerr = ns.Eval(context.Background(), c.URL, c.Host)
					wres, werr = ws.Eval(context.Background(), c.URL, c.Host)
				}
				if c.SandboxErr != "" {
					if o := (pactest.Outcome{Case: c, Got: nres, Err: nerr}); !o.Passed() {
						t.Errorf("%s:%d: native: %s", path, c.Line, o)
					}
					if o := (pactest.Outcome{Case: c, Got: wres, Err: werr, Sandboxed: true}); !o.Passed() {
						t.Errorf("%s:%d: module: %s", path, c.Line, o)
					}
					continue
				}
				if got, want := describe(wres, werr), describe(nres, nerr); got != want {
					t.Errorf("%s:%d: %s: module gives %s, native %s", path, c.Line, c.URL, got, want)
				}
				if g, w := strings.Join(wcalls, "\n"), strings.Join(ncalls, "\n"); g != w {
					t.Errorf("%s:%d: %s: module traced\n%s\nnative traced\n%s", path, c.Line, c.URL, g, w)
				}
				if o := (pactest.Outcome{Case: c, Got: wres, Err: werr, Sandboxed: true}); !o.Passed() {
					t.Errorf("%s:%d: %s", path, c.Line, o)
				}
			}
		})
	}
}
