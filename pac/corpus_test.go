package pac_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacd/pacd/pac/pactest"
)

// minCorpusFiles is the fewest expectation files the corpus may hold: a
// smaller corpus means files went missing (a bad merge, a wrong path).
const minCorpusFiles = 30

// TestCorpus runs every expectation file of the shared PAC corpus (see
// testdata/pac/README.md), the same files `pacd test testdata/pac` runs,
// one subtest per file. A failing case is reported as FILE:LINE and the
// outcome.
func TestCorpus(t *testing.T) {
	files, err := pactest.Expand(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minCorpusFiles {
		t.Fatalf("%s holds %d %s files, want at least %d", corpusDir, len(files), pactest.Ext, minCorpusFiles)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), pactest.Ext), func(t *testing.T) {
			t.Parallel()
			f, err := pactest.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := f.Run(t.Context())
			if r.Failure != "" {
				t.Errorf("%s: %s", path, r.Failure)
			}
			for _, o := range r.Outcomes {
				if !o.Passed() {
					t.Errorf("%s:%d: %s", path, o.Line, o)
				}
			}
			if r.Failure == "" && f.CompileError == "" && len(r.Outcomes) != len(f.Cases) {
				t.Errorf("%s: %d outcomes for %d cases", path, len(r.Outcomes), len(f.Cases))
			}
		})
	}
}
