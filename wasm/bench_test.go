package wasm_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
	"github.com/pacd/pacd/wasm"
)

// The benchmarks of the module, for the README:
//
//	go test -run='^$' -bench=. -benchtime=2s ./wasm
//
// BenchmarkEval measures an evaluation natively and in the module in
// the same run, and reports the module's cost as a multiple of the
// native one (x-native). BenchmarkFirstAnswer measures a program's first
// answer, from the module's bytes: with a cold compile and with the
// compilation cache. BenchmarkInstance measures making an instance with
// a script loaded, and the linear memory it takes. BenchmarkModuleSize
// reports the module's size.

func benchCases(b testing.TB, name string) (*pactest.File, string) {
	f, err := pactest.ParseFile(filepath.Join(corpusDir, name+".pactest"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(f.PAC)
	if err != nil {
		b.Fatal(err)
	}
	return f, string(src)
}

// evalAll evaluates the file's cases in turn, b.N of them in all.
func evalAll(b *testing.B, f *pactest.File, s pactest.Evaluator) time.Duration {
	ctx := context.Background()
	i := 0
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		c := f.Cases[i%len(f.Cases)]
		i++
		if _, err := s.Eval(ctx, c.URL, c.Host); err != nil && c.WantErr == "" {
			b.Fatal(err)
		}
	}
	return time.Since(start) / time.Duration(max(i, 1))
}

// BenchmarkEval evaluates the cases of bench-small (and of
// corporate-5000, with 5,000 rules, and of corporate-split-tunnel and
// isinnet, which call isInNet on names that the file's resolve: lines
// answer) natively, in the module, and in the module without the yield
// hook that lets the host stop it (which must never be used: it
// measures what the hook costs).
func BenchmarkEval(b *testing.B) {
	for _, name := range []string{"bench-small", "corporate-5000", "corporate-split-tunnel", "isinnet"} {
		f, src := benchCases(b, name)
		var native time.Duration
		b.Run(name+"/native", func(b *testing.B) {
			s, err := pac.Compile(src, f.Options())
			if err != nil {
				b.Fatal(err)
			}
			native = evalAll(b, f, s)
		})
		variants := []struct {
			name string
			e    func() *wasm.Engine
		}{
			{"wazero", func() *wasm.Engine { return testEngine(b) }},
			{"wazero-unstoppable", func() *wasm.Engine { return newEngine(b, *wasm.WithoutPreemption(wasm.Config{})) }},
		}
		for _, v := range variants {
			b.Run(name+"/"+v.name, func(b *testing.B) {
				s := mustCompile(b, v.e(), src, f.Options())
				d := evalAll(b, f, s)
				if native > 0 {
					b.ReportMetric(float64(d)/float64(native), "x-native")
				}
			})
		}
	}
}

// BenchmarkFirstAnswer measures what a program pays before its first
// answer: New (reading and compiling the module), Compile and one Eval.
func BenchmarkFirstAnswer(b *testing.B) {
	f, src := benchCases(b, "bench-small")
	bin, err := os.ReadFile(wasmModule(b))
	if err != nil {
		b.Fatal(err)
	}
	first := func(b *testing.B, cacheDir string) {
		ctx := context.Background()
		e, err := wasm.New(ctx, &wasm.Config{Module: bin, CacheDir: cacheDir})
		if err != nil {
			b.Fatal(err)
		}
		s, err := e.Compile(ctx, src, f.Options())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Eval(ctx, f.Cases[0].URL, f.Cases[0].Host); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		e.Close(ctx)
		b.StartTimer()
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			first(b, "-")
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		first(b, dir) // fills the cache
		b.ResetTimer()
		for b.Loop() {
			first(b, dir)
		}
	})
}

// BenchmarkInstance makes instances with bench-small loaded (Compile
// makes the first one), and reports the linear memory of one, in pages
// of 64 KiB and in MiB, after loading and after 2,000 evaluations.
func BenchmarkInstance(b *testing.B) {
	f, src := benchCases(b, "bench-small")
	e := testEngine(b)
	var loaded, used []uint32
	for b.Loop() {
		s, err := e.Compile(context.Background(), src, f.Options())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if loaded == nil {
			loaded, _ = s.InstancePages()
			for i := range 2000 {
				c := f.Cases[i%len(f.Cases)]
				s.Eval(context.Background(), c.URL, c.Host)
			}
			used, _ = s.InstancePages()
		}
		s.Close()
		b.StartTimer()
	}
	if len(loaded) > 0 && len(used) > 0 {
		b.ReportMetric(float64(loaded[0]), "pages-loaded")
		b.ReportMetric(float64(used[0]), "pages-used")
		b.ReportMetric(float64(used[0])/16, "MiB-used")
	}
}

// BenchmarkModuleSize reports the module's size raw (bytes-raw),
// compressed with gzip -9 (bytes-gzip) and with brotli -q 11
// (bytes-brotli, when the brotli command is installed, as
// scripts/install-deps.sh does). It is a benchmark, not a test, because
// brotli takes most of a minute over 20 MB.
func BenchmarkModuleSize(b *testing.B) {
	path := wasmModule(b)
	bin, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(bin)
	zw.Close()
	br := -1
	if _, err := exec.LookPath("brotli"); err == nil {
		out, err := exec.Command("brotli", "-q", "11", "-c", path).Output()
		if err != nil {
			b.Fatalf("brotli: %v", err)
		}
		br = len(out)
	} else {
		b.Log("brotli: not installed (scripts/install-deps.sh installs it)")
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(len(bin)), "bytes-raw")
	b.ReportMetric(float64(gz.Len()), "bytes-gzip")
	if br >= 0 {
		b.ReportMetric(float64(br), "bytes-brotli")
	}
}
