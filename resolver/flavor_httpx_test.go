package resolver_test

import (
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestHTTPXFlavour is HTTPX 0.28 clause by clause; the numbers are the
// notes' measurement rows.
func TestHTTPXFlavour(t *testing.T) {
	m := func(pat, proxy string) resolver.Config {
		return resolver.Config{Mounts: []resolver.Mount{{Pattern: pat, Proxy: proxy}}}
	}
	runFlavourCases(t, resolver.FlavorHTTPX, []flavourCase{
		{"environment proxies become mounts", []string{"all_proxy=" + p1}, resolver.Config{}, "ftp://example.com/", p1, ""},
		{"empty lower case hides upper case (8)", []string{"https_proxy=", "HTTPS_PROXY=" + p2}, resolver.Config{}, "https://example.com/", "DIRECT", "urllib/empty-hides-upper"},
		{"x matches x and below (42)", rowEnv("NO_PROXY=example.com"), resolver.Config{}, "http://www.example.com/", "DIRECT", ""},
		{"not at a non-label boundary (69)", rowEnv("NO_PROXY=example.com"), resolver.Config{}, "http://wwwexample.com/", pP, ""},
		{".x excludes the apex (52)", rowEnv("NO_PROXY=.example.com"), resolver.Config{}, "http://example.com/", pP, "httpx/dot-excludes-apex"},
		{"*.x never matches (60)", rowEnv("NO_PROXY=*.example.com"), resolver.Config{}, "http://www.example.com/", pP, "httpx/star-never"},
		{"* anywhere drops every proxy (106)", rowEnv("NO_PROXY=example.org,*"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"commas only (91)", rowEnv("NO_PROXY=a.com b.com"), resolver.Config{}, "http://b.com/", pP, "httpx/commas-only"},
		{"port pattern, default port (80)", rowEnv("NO_PROXY=example.com:80"), resolver.Config{}, "http://example.com/", pP, "httpx/port-pattern"},
		{"port pattern, that port", rowEnv("NO_PROXY=example.com:8080"), resolver.Config{}, "http://example.com:8080/", "DIRECT", ""},
		{"CIDR is a path: only the network (118)", rowEnv("NO_PROXY=10.0.0.0/8"), resolver.Config{}, "http://10.1.2.3/", pP, "httpx/cidr-network-only"},
		{"CIDR is a path: the network itself (122)", rowEnv("NO_PROXY=10.0.0.0/8"), resolver.Config{}, "http://10.0.0.0/", "DIRECT", ""},
		{"text suffix on addresses (132)", rowEnv("NO_PROXY=.1.1"), resolver.Config{}, "http://192.168.1.1/", "DIRECT", "httpx/pattern-suffix"},
		{"IPv6 without brackets (137)", rowEnv("NO_PROXY=2001:db8::1"), resolver.Config{}, "http://[2001:db8::1]/", "DIRECT", ""},
		{"bracketed IPv6 refuses the client (142)", rowEnv("NO_PROXY=[2001:db8::1]"), resolver.Config{}, "http://example.com/", "error", "httpx/refuses-entry"},
		{"IPv6 CIDR refuses the client (145)", rowEnv("NO_PROXY=2001:db8::/32"), resolver.Config{}, "http://example.com/", "error", "httpx/refuses-entry"},
		{"Unicode entry refuses the client (159)", rowEnv("NO_PROXY=bücher.example"), resolver.Config{}, "http://example.com/", "error", "httpx/refuses-entry"},
		{"a refusing entry after * is never parsed", rowEnv("NO_PROXY=*,[2001:db8::1]"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"localhost is exact (152)", rowEnv("NO_PROXY=localhost"), resolver.Config{}, "http://app.localhost/", pP, "httpx/localhost-exact"},
		{"scheme entry is a pattern (113)", rowEnv("NO_PROXY=http://example.com"), resolver.Config{}, "http://example.com/", "DIRECT", "httpx/scheme-entry"},
		{"scheme entry, other scheme", rowEnv("NO_PROXY=http://example.com"), resolver.Config{}, "https://example.com/", pP, ""},
		{"punycode host decoded when it starts with xn--", rowEnv("NO_PROXY=xn--bcher-kva.example"), resolver.Config{}, "http://bücher.example/", pP, "httpx/idn-decoded"},
		{"punycode below", rowEnv("NO_PROXY=xn--bcher-kva.example"), resolver.Config{}, "http://www.bücher.example/", "DIRECT", ""},
		{"no implicit loopback", rowEnv(), resolver.Config{}, "http://localhost/", pP, "httpx/no-implicit"},
		{"unknown proxy scheme refuses the client", []string{"http_proxy=socks4://127.0.0.1:1080"}, resolver.Config{}, "http://example.com/", "error", "httpx/bad-proxy"},
		{"proxy= ignores the environment", rowEnv("NO_PROXY=example.com"), resolver.Config{Proxy: p1}, "http://example.com/", p1, "httpx/proxy-ignores-env"},
		{"mounts= over the environment", rowEnv(), m("http://", p1), "http://example.com/", p1, ""},
		{"mounts sorted with NO_PROXY's", rowEnv("NO_PROXY=www.example.com"), m("all://*.example.com", p1), "http://www.example.com/", "DIRECT", "httpx/mounts-sorted"},
		{"a mount with a port first", rowEnv("NO_PROXY=example.com"), m("all://example.com:8080", p1), "http://example.com:8080/", p1, "httpx/mounts-sorted"},
		{"mount to no proxy", rowEnv(), m("all://example.com", "none"), "http://example.com/", "DIRECT", ""},
		{"a mount key without ://", rowEnv(), m("http", p1), "http://example.com/", "error: resolver: flavour httpx: mount \"http\": proxy keys should use proper URL forms rather than plain scheme strings: instead of \"http\", use \"http://\"", ""},
	})
}
