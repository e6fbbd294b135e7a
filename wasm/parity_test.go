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

// TestCorpusParity runs every expectation file of the shared corpus
// (testdata/pac) through the native engine and through the module, and
// requires the same answers, the same errors (kind, message, position
// and stack) and the same traced calls from both, for every case; and
// that the module passes every case (through Eval, untraced, as pacd
// test --sandbox runs them).
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
			// The module passes the file as the native engine does.
			r := f.RunWith(t.Context(), wasmCompiler(e))
			if r.Failure != "" {
				t.Errorf("%s: %s", path, r.Failure)
			}
			for _, o := range r.Outcomes {
				if !o.Passed() {
					t.Errorf("%s:%d: %s", path, o.Line, o)
				}
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
			if nerr != nil {
				return
			}
			defer ws.Close()
			for _, c := range f.Cases {
				var ncalls []string
				ctx := pac.WithTrace(context.Background(), func(c pac.Call) { ncalls = append(ncalls, c.String()) })
				nres, nerr := ns.Eval(ctx, c.URL, c.Host)
				wres, wcalls, werr := ws.EvalTraced(context.Background(), c.URL, c.Host)
				if got, want := describe(wres, werr), describe(nres, nerr); got != want {
					t.Errorf("%s:%d: %s: module gives %s, native %s", path, c.Line, c.URL, got, want)
				}
				var got []string
				for _, c := range wcalls {
					got = append(got, c.String())
				}
				if g, w := strings.Join(got, "\n"), strings.Join(ncalls, "\n"); g != w {
					t.Errorf("%s:%d: %s: module traced\n%s\nnative traced\n%s", path, c.Line, c.URL, g, w)
				}
			}
		})
	}
}
