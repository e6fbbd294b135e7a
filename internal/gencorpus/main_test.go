package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedFilesUpToDate checks that testdata/pac holds what the
// generator writes with its defaults, so that a change to the generator
// comes with the regenerated files (make corpus-gen).
func TestCommittedFilesUpToDate(t *testing.T) {
	pac, pactest := generate(defaults)
	for name, want := range map[string][]byte{baseName + ".pac": pac, baseName + ".pactest": pactest} {
		got, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pac", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/pac/%s is not what the generator writes; run make corpus-gen", name)
		}
	}
}

func TestGenerate(t *testing.T) {
	pac, pactest := generate(defaults)
	if len(pac) > maxScriptSize {
		t.Errorf("script is %d bytes, over %d", len(pac), maxScriptSize)
	}
	conds := 0
	for _, f := range []string{"isPlainHostName(", "host == ", "dnsDomainIs(", "shExpMatch(", "isInNet("} {
		conds += bytes.Count(pac, []byte(f))
	}
	if conds < 5000 {
		t.Errorf("script has %d conditions, want at least 5000", conds)
	}
	if n := bytes.Count(pactest, []byte(" => ")); n != defaults.cases {
		t.Errorf("expectation file has %d cases, want %d", n, defaults.cases)
	}
	// The output depends only on the parameters.
	pac2, pactest2 := generate(defaults)
	if !bytes.Equal(pac, pac2) || !bytes.Equal(pactest, pactest2) {
		t.Error("two runs with the same parameters differ")
	}
	other, _ := generate(config{seed: 1, rules: defaults.rules, cases: defaults.cases})
	if bytes.Equal(pac, other) {
		t.Error("another seed gives the same script")
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		glob, s string
		want    bool
	}{
		{"*.a.com", "www.a.com", true},
		{"*.a.com", "a.com", false},
		{"*.a.com", "x.b.a.com", true},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a.c", "abc", false},
		{"http://*/api/*", "http://h.example/api/", true},
		{"http://*/api/*", "https://h.example/api/x", false},
		{"*/dl/*", "http://h/x/dl/y", true},
		{"*x*y*", "axbycy", true},
		{"*ab", "aab", true},
		{"db??.x", "db1.x", false},
	} {
		if got := globMatch(tc.glob, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.glob, tc.s, got, tc.want)
		}
	}
}

func TestDottedQuad(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want uint32
		ok   bool
	}{
		{"10.1.2.3", 10<<24 | 1<<16 | 2<<8 | 3, true},
		{"010.001.0.1", 10<<24 | 1<<16 | 1, true},
		{"255.255.255.255", 0xffffffff, true},
		{"256.1.1.1", 0, false},
		{"1.2.3", 0, false},
		{"1.2.3.4.5", 0, false},
		{"1.2.3.0004", 0, false},
		{"a.b.c.d", 0, false},
		{"1.2..3", 0, false},
	} {
		got, ok := dottedQuad(tc.s)
		if got != tc.want || ok != tc.ok {
			t.Errorf("dottedQuad(%q) = %d, %v, want %d, %v", tc.s, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSeenBy(t *testing.T) {
	for _, tc := range []struct{ in, url, host string }{
		{"http://h.example/a/b", "http://h.example/a/b", "h.example"},
		{"https://h.example/a/b", "https://h.example/", "h.example"},
		{"https://h.example:8443/a", "https://h.example:8443/", "h.example"},
		{"http://localhost:8080/", "http://localhost:8080/", "localhost"},
	} {
		url, host := seenBy(tc.in)
		if url != tc.url || host != tc.host {
			t.Errorf("seenBy(%q) = %q, %q, want %q, %q", tc.in, url, host, tc.url, tc.host)
		}
	}
}

// TestModelFirstMatch checks the model on a hand-made rule list.
func TestModelFirstMatch(t *testing.T) {
	m := &model{
		rules: []*rule{
			{kind: kindPlain, pool: poolDirect},
			{kind: kindDomain, arg: ".a.example", pool: 1},
			{kind: kindDomain, arg: ".x.a.example", pool: 2}, // shadowed
			{kind: kindURLGlob, arg: "http://*/dl/*", pool: 3},
			{kind: kindNet, net: 10 << 24, mask: 0xff000000, pool: 4},
		},
		resolve: map[string]uint32{"db.test": 10<<24 | 5},
	}
	for _, tc := range []struct {
		url  string
		rule int
	}{
		{"http://intranet/", 0},
		{"http://q.x.a.example/", 1},
		{"http://h.test/dl/f", 3},
		{"https://h.test/dl/f", -1},
		{"http://10.9.8.7/", 4},
		{"http://db.test/", 4},
		{"http://other.test/", -1},
	} {
		i, want := m.answer(tc.url)
		if i != tc.rule {
			t.Errorf("answer(%q): rule %d, want %d", tc.url, i, tc.rule)
		}
		if i < 0 && want != "DIRECT" || i >= 0 && want != pools[m.rules[i].pool].value {
			t.Errorf("answer(%q) = %q, not the answer of rule %d", tc.url, want, i)
		}
	}
	if !strings.HasPrefix(pools[poolDirect].value, "DIRECT") {
		t.Errorf("poolDirect is %q", pools[poolDirect].value)
	}
}
