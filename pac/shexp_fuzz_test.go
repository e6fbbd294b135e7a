package pac

import (
	"context"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzRT   *jsRuntime
)

// fuzzRuntime returns one runtime for the fuzz target, made once per
// process (each fuzzing worker is a process of its own).
func fuzzRuntime(t *testing.T) *jsRuntime {
	fuzzOnce.Do(func() {
		s, err := Compile("function FindProxyForURL(u, h) { return 'DIRECT' }", nil)
		if err != nil {
			t.Fatal(err)
		}
		if fuzzRT, err = s.get(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	return fuzzRT
}

// FuzzShExpMatch checks that shExpMatch never panics in Go, and that the
// glob fast path answers as the regular expression the browsers build for
// the same pattern, on every string the fast path takes.
func FuzzShExpMatch(f *testing.F) {
	seeds := []struct{ s, pattern string }{
		{"www.example.com", "*.example.com"}, // the common suffix form
		{"example.com", "*.example.com"},     // '.' before the suffix is required
		{"http://a/b/c", "http://*/c"},       // '*' crosses '/'
		{"abc", "a?c"},                       // '?' is one character
		{"a,b", "{a,b}"},                     // braces are regular-expression syntax, not glob alternation
		{"a.com", "(*.a.com|a.com)"},         // alternation passes through
		{"bbc", "[a-c]bc"},                   // so do classes
		{"x", "a(b"},                         // and syntax errors
		{"a\nb", "a*b"},                      // line terminators stop '.'
		{"bücher", "b?cher"},                 // non-ASCII goes to the regular expression
		{"a!b", "a!b"},                       // glob metacharacters that are literal here
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.s, s.pattern)
	}
	f.Fuzz(func(t *testing.T, s, pattern string) {
		rt := fuzzRuntime(t)
		p := compileShExp(pattern)
		var got, want bool
		var gotErr, wantErr any
		func() {
			defer func() { gotErr = recover() }()
			got = rt.st.shExpMatch(rt.vm.ToValue(s), pattern)
		}()
		func() {
			defer func() { wantErr = recover() }()
			want = rt.st.regexpTest(p.re, rt.vm.ToValue(s))
		}()
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("shExpMatch(%q, %q): threw %v, the regular expression %q threw %v", s, pattern, gotErr, p.re, wantErr)
		}
		if gotErr == nil && got != want {
			t.Fatalf("shExpMatch(%q, %q) = %v, the regular expression %q says %v", s, pattern, got, p.re, want)
		}
	})
}
