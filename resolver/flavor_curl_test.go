package resolver_test

import (
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestCurlFlavour is curl 7.88 clause by clause; the numbers are the
// notes' measurement rows. TestClientParity checks the same against curl.
func TestCurlFlavour(t *testing.T) {
	runFlavourCases(t, resolver.FlavorCurl, []flavourCase{
		{"lower-case http_proxy only", []string{"HTTP_PROXY=" + p1}, resolver.Config{}, "http://example.com/", "DIRECT", "curl/no-upper-http-proxy"},
		{"upper-case HTTPS_PROXY is read", []string{"HTTPS_PROXY=" + p1}, resolver.Config{}, "https://example.com/", p1, ""},
		{"ALL_PROXY after the scheme's", []string{"ALL_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p2, ""},
		{"NO_PROXY applies to ALL_PROXY", []string{"ALL_PROXY=" + p2, "NO_PROXY=example.com"}, resolver.Config{}, "ftp://example.com/", "DIRECT", ""},
		{"port 1080 by default", []string{"http_proxy=proxy.example"}, resolver.Config{}, "http://example.com/", "http://proxy.example:1080", "curl/proxy-port-1080"},
		{"port 443 for https://", []string{"http_proxy=https://proxy.example"}, resolver.Config{}, "http://example.com/", "https://proxy.example:443", ""},
		{"unknown proxy scheme", []string{"http_proxy=gopher://proxy.example:70"}, resolver.Config{}, "http://example.com/", "error", "curl/unknown-proxy-scheme"},
		{"* alone", rowEnv("NO_PROXY=*"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"padded * matches nothing (105)", rowEnv("NO_PROXY= * "), resolver.Config{}, "http://example.com/", pP, "curl/star-alone"},
		{"* in a list matches nothing (106)", rowEnv("NO_PROXY=example.org,*"), resolver.Config{}, "http://example.com/", pP, "curl/star-alone"},
		{"blanks separate (91)", rowEnv("NO_PROXY=a.com b.com"), resolver.Config{}, "http://b.com/", "DIRECT", ""},
		{"leading dot stripped (52)", rowEnv("NO_PROXY=.example.com"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"no wildcards (60)", rowEnv("NO_PROXY=*.example.com"), resolver.Config{}, "http://www.example.com/", pP, "curl/no-glob"},
		{"port never matches (76)", rowEnv("NO_PROXY=example.com:8080"), resolver.Config{}, "http://example.com:8080/", pP, "curl/no-proxy-port"},
		{"trailing dots stripped (50, 97)", rowEnv("NO_PROXY=example.com."), resolver.Config{}, "http://example.com./", "DIRECT", ""},
		{"IPv4 CIDR (116)", rowEnv("NO_PROXY=10.0.0.0/8"), resolver.Config{}, "http://10.1.2.3/", "DIRECT", ""},
		{"/0 means exact (124)", rowEnv("NO_PROXY=0.0.0.0/0"), resolver.Config{}, "http://10.1.2.3/", pP, "curl/cidr-zero"},
		{"bits read with atoi (136)", rowEnv("NO_PROXY=10.0.0.0/8:80"), resolver.Config{}, "http://10.1.2.3/", "DIRECT", "curl/cidr-atoi"},
		{"IPv6 as text (137)", rowEnv("NO_PROXY=2001:db8::1"), resolver.Config{}, "http://[2001:db8::1]/", "DIRECT", ""},
		{"IPv6 CIDR is text (145)", rowEnv("NO_PROXY=2001:db8::/32"), resolver.Config{}, "http://[2001:db8::1]/", pP, "curl/ipv6-as-text"},
		{"no implicit loopback", rowEnv(), resolver.Config{}, "http://localhost/", pP, "curl/no-implicit"},
		{"Unicode entry (159)", rowEnv("NO_PROXY=bücher.example"), resolver.Config{}, "http://www.bücher.example/", pP, "curl/unicode-entry"},
		{"semicolons do not separate", rowEnv("NO_PROXY=other.org;example.com"), resolver.Config{}, "http://example.com/", pP, "curl/no-semicolon"},
		{"ws_proxy, not http_proxy, for ws", []string{"http_proxy=" + p1}, resolver.Config{}, "ws://example.com/", "DIRECT", "curl/scheme-variable"},
		{"-x is subject to NO_PROXY", []string{"NO_PROXY=example.com"}, resolver.Config{Proxy: p1}, "http://example.com/", "DIRECT", ""},
		{"--noproxy replaces NO_PROXY", rowEnv("NO_PROXY=example.com"), resolver.Config{Bypass: "other.org"}, "http://example.com/", pP, ""},
	})
}
