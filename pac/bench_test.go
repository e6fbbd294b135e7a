package pac_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
)

// The benchmarks of the README's performance table:
//
//	go test -run='^$' -bench=. -benchmem ./pac
//
// Every evaluation runs with a fixed clock and static DNS, so that what is
// measured is the engine.

func benchOptions() *pac.Options {
	now := time.Date(2026, 3, 2, 10, 20, 30, 0, time.UTC)
	return &pac.Options{
		Resolver: pac.StaticResolver{
			"intranet.example.com": {netip.MustParseAddr("10.1.2.3")},
		},
		MyIPAddresses: func(context.Context) []netip.Addr { return []netip.Addr{netip.MustParseAddr("10.5.5.5")} },
		Now:           func() time.Time { return now },
		Location:      time.UTC,
	}
}

func benchScript(b *testing.B, name string) *pac.Script {
	b.Helper()
	src, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		b.Fatal(err)
	}
	opts := benchOptions()
	opts.Name = name
	s, err := pac.Compile(string(src), opts)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSmallPAC evaluates the ten-rule bench-small.pac for a URL that
// falls through every rule to the default.
func BenchmarkSmallPAC(b *testing.B) {
	s := benchScript(b, "bench-small.pac")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Eval(ctx, "https://www.google.com/", "www.google.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallPACRotate evaluates bench-small.pac for the five URLs
// that web/test/bench.mjs rotates through under Node, in the same order,
// so that the module's per-call time in Node has a native figure to be
// compared with.
func BenchmarkSmallPACRotate(b *testing.B) {
	s := benchScript(b, "bench-small.pac")
	ctx := context.Background()
	urls := [...]string{
		"http://intranet/",
		"http://wiki.corp.example.com/page",
		"http://update.example.org/win/x.cab",
		"http://a.b.c.d.e.f.example.com/",
		"https://www.example.org/search?q=1",
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Eval(ctx, urls[i%len(urls)], ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSmallPACParsed adds what a caller of FindProxyForURL pays: the
// URL formatted and the answer parsed into a Result.
func BenchmarkSmallPACParsed(b *testing.B) {
	s := benchScript(b, "bench-small.pac")
	ctx := context.Background()
	u := mustURL(b, "https://www.google.com/search?q=pac")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.FindProxyForURL(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallPACParallel runs the small PAC from GOMAXPROCS goroutines;
// compare its ns/op with BenchmarkSmallPAC's in the same run to see how
// throughput scales with cores.
func BenchmarkSmallPACParallel(b *testing.B) {
	s := benchScript(b, "bench-small.pac")
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Eval(ctx, "https://www.google.com/", "www.google.com"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCorporate5000 evaluates the generated 5,000-rule PAC for a URL
// that no rule matches, the worst case: every rule is tried.
func BenchmarkCorporate5000(b *testing.B) {
	s := benchScript(b, "corporate-5000.pac")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Eval(ctx, "https://no-rule-matches.example.org/", "no-rule-matches.example.org"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCorporate5000Parallel(b *testing.B) {
	s := benchScript(b, "corporate-5000.pac")
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Eval(ctx, "https://no-rule-matches.example.org/", "no-rule-matches.example.org"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCompile measures Compile of the small PAC: parsing, and one
// runtime prepared with the built-ins and the script's top level.
func BenchmarkCompile(b *testing.B) {
	src, err := os.ReadFile(filepath.Join(corpusDir, "bench-small.pac"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pac.Compile(string(src), benchOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResult(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pac.ParseResult("PROXY p1.example.com:8080; PROXY p2.example.com:8080; DIRECT"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCorporate5000Mix evaluates the 5,000-rule PAC for each URL of
// its expectation file in turn (hits early, in the middle and late, and
// misses), reporting the mean per URL.
func BenchmarkCorporate5000Mix(b *testing.B) {
	f, err := pactest.ParseFile(filepath.Join(corpusDir, "corporate-5000.pactest"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(f.PAC)
	if err != nil {
		b.Fatal(err)
	}
	s, err := pac.Compile(string(src), f.Options()) // the file's DNS answers and clock
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c := f.Cases[i%len(f.Cases)]
		if _, err := s.Eval(ctx, c.URL, c.Host); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
