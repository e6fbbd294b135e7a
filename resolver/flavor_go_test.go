package resolver_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pacd/pacd/resolver"
	"golang.org/x/net/http/httpproxy"
)

const (
	p1 = "http://127.0.0.1:1"
	p2 = "http://127.0.0.1:2"
	pP = "http://127.0.0.1:3128"
)

// goCases is the go flavour clause by clause; the numbers are the notes'
// measurement rows.
var goCases = []flavourCase{
	{"lower case first (3)", []string{"http_proxy=" + p1, "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p1, ""},
	{"upper case when lower is empty (4)", []string{"http_proxy=", "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p2, ""},
	{"no ALL_PROXY", []string{"ALL_PROXY=" + p1}, resolver.Config{}, "http://example.com/", "DIRECT", "go/no-all-proxy"},
	{"http and https only", []string{"http_proxy=" + p1}, resolver.Config{}, "ws://example.com/", "DIRECT", "go/http-https-only"},
	{"CGI is an error (before NO_PROXY)", []string{"http_proxy=" + p1, "REQUEST_METHOD=GET", "NO_PROXY=*"}, resolver.Config{}, "http://example.com/", "error", "go/cgi-refuses"},
	{"CGI spares https", []string{"https_proxy=" + p1, "REQUEST_METHOD=GET"}, resolver.Config{}, "https://example.com/", p1, ""},
	{"localhost (28)", rowEnv(), resolver.Config{}, "http://localhost/", "DIRECT", ""},
	{"LOCALHOST is proxied (30)", rowEnv(), resolver.Config{}, "http://LOCALHOST/", pP, "go/loopback-literal-only"},
	{"localhost. is proxied (31)", rowEnv(), resolver.Config{}, "http://localhost./", pP, "go/loopback-literal-only"},
	{"link-local is proxied", rowEnv(), resolver.Config{}, "http://169.254.169.254/", pP, "go/no-link-local"},
	{"loopback before NO_PROXY", rowEnv("NO_PROXY=other.org"), resolver.Config{}, "http://127.1.2.3/", "DIRECT", ""},
	{"example.com and below (42)", rowEnv("NO_PROXY=example.com"), resolver.Config{}, "http://www.example.com/", "DIRECT", ""},
	{".x excludes the apex (52)", rowEnv("NO_PROXY=.example.com"), resolver.Config{}, "http://example.com/", pP, "go/dot-excludes-apex"},
	{"*.x is .x (60)", rowEnv("NO_PROXY=*.example.com"), resolver.Config{}, "http://example.com/", pP, "go/dot-excludes-apex"},
	{"*x matches nothing (64)", rowEnv("NO_PROXY=*example.com"), resolver.Config{}, "http://notexample.com/", pP, "go/no-glob"},
	{"commas only (91)", rowEnv("NO_PROXY=a.com b.com"), resolver.Config{}, "http://b.com/", pP, "go/commas-only"},
	{"padded * (105)", rowEnv("NO_PROXY= * "), resolver.Config{}, "http://example.com/", "DIRECT", ""},
	{"port-exact, effective port (80)", rowEnv("NO_PROXY=example.com:80"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
	{"trailing dot on the host (50)", rowEnv("NO_PROXY=example.com"), resolver.Config{}, "http://example.com./", pP, "go/trailing-dot"},
	{"trailing dot on the entry (97)", rowEnv("NO_PROXY=example.com."), resolver.Config{}, "http://example.com/", pP, "go/trailing-dot"},
	{"CIDR (116)", rowEnv("NO_PROXY=10.0.0.0/8"), resolver.Config{}, "http://10.1.2.3/", "DIRECT", ""},
	{"bracketed IPv6 is a name (142)", rowEnv("NO_PROXY=[2001:db8::1]"), resolver.Config{}, "http://[2001:db8::1]/", pP, "go/bracketed-ipv6"},
	{"[v6]:port (143)", rowEnv("NO_PROXY=[2001:db8::1]:80"), resolver.Config{}, "http://[2001:db8::1]/", "DIRECT", ""},
	{"no Chromium syntax", rowEnv("NO_PROXY=<local>"), resolver.Config{}, "http://intranet/", pP, "go/no-chromium-syntax"},
	{"address forms", rowEnv("NO_PROXY=10.1"), resolver.Config{}, "http://10.0.0.1/", pP, "go/address-forms"},
	{"Proxy is HTTPProxy and HTTPSProxy", []string{"http_proxy=" + p2}, resolver.Config{Proxy: p1}, "https://example.com/", p1, ""},
	{"Bypass is NoProxy, replacing NO_PROXY", rowEnv("NO_PROXY=example.com"), resolver.Config{Bypass: "other.org"}, "http://example.com/", pP, ""},
}

func TestGoFlavour(t *testing.T) { runFlavourCases(t, resolver.FlavorGo, goCases) }

func TestGoStdFlavour(t *testing.T) {
	runFlavourCases(t, resolver.FlavorGoStd, []flavourCase{
		{"upper case first (7)", []string{"http_proxy=" + p1, "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p2, "go-std/uppercase-first"},
		{"lower case when upper is unset", []string{"http_proxy=" + p1}, resolver.Config{}, "http://example.com/", p1, ""},
		{"NO_PROXY before no_proxy (111)", rowEnv("no_proxy=other.org", "NO_PROXY=example.com"), resolver.Config{}, "http://example.com/", "DIRECT", "go-std/uppercase-first"},
		{"the same when both agree", []string{"https_proxy=" + p1, "HTTPS_PROXY=" + p1}, resolver.Config{}, "https://example.com/", p1, ""},
		{".x excludes the apex, as in x/net (52)", rowEnv("NO_PROXY=.example.com"), resolver.Config{}, "http://example.com/", pP, "go/dot-excludes-apex"},
	})
}

// TestGoParity checks the go flavour against golang.org/x/net's
// httpproxy itself, on every parity case: the same environment, read as
// FromEnvironment reads it, must give the same verdict.
func TestGoParity(t *testing.T) {
	for _, c := range parityCases() {
		get := func(names ...string) string {
			for _, n := range names {
				for _, kv := range c.Env {
					if k, v, _ := strings.Cut(kv, "="); k == n && v != "" {
						return v
					}
				}
			}
			return ""
		}
		cfg := &httpproxy.Config{
			HTTPProxy:  get("http_proxy", "HTTP_PROXY"),
			HTTPSProxy: get("https_proxy", "HTTPS_PROXY"),
			NoProxy:    get("no_proxy", "NO_PROXY"),
			CGI:        get("REQUEST_METHOD") != "",
		}
		u, _ := url.Parse(c.URL)
		p, err := cfg.ProxyFunc()(u)
		want := "D"
		switch {
		case err != nil:
			want = "E"
		case p != nil:
			want = "P"
		}
		if got, d, _ := flavourVerdict(t, resolver.FlavorGo, c.Env, c.URL); got != want {
			t.Errorf("%s with %q: httpproxy says %s, the go flavour %s (%v)", c.URL, c.Env, want, got, d.Clauses)
		}
	}
}
