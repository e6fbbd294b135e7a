package resolver_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
)

func TestPACFileSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proxy.pac")
	const src = `function FindProxyForURL(u, h) { return "PROXY p.example:8080" }`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &resolver.PACFile{Location: path, Compile: func(b []byte, name string) (resolver.Evaluator, error) {
		return pac.Compile(string(b), &pac.Options{Name: name})
	}}
	if _, ok := f.Source(); ok {
		t.Fatal("Source before any load reports a script")
	}
	if err := f.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, ok := f.Source()
	if !ok || string(got) != src {
		t.Errorf("Source = %q, %v", got, ok)
	}
	r := mustNew(t, &resolver.Config{PAC: f})
	if got := resolve(t, r, "https://www.example.org/"); got != "http://p.example:8080 (pac)" {
		t.Errorf("Resolve through the PAC file = %s", got)
	}
}
