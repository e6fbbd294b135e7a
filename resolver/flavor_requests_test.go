package resolver_test

import (
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestRequestsFlavour is requests 2.34 clause by clause; the numbers are
// the notes' measurement rows. TestClientParity checks the environment
// cases against requests itself.
func TestRequestsFlavour(t *testing.T) {
	runFlavourCases(t, resolver.FlavorRequests, []flavourCase{
		{"all_proxy through the all key", []string{"all_proxy=" + p1}, resolver.Config{}, "http://example.com/", p1, ""},
		{"empty lower case hides upper case (4)", []string{"http_proxy=", "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", "DIRECT", "urllib/empty-hides-upper"},
		{"but not for its own NO_PROXY (110)", rowEnv("no_proxy=", "NO_PROXY=example.com"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"IPv4 CIDR (116)", rowEnv("NO_PROXY=10.0.0.0/8"), resolver.Config{}, "http://10.1.2.3/", "DIRECT", ""},
		{"mask 0 is invalid (124)", rowEnv("NO_PROXY=0.0.0.0/0"), resolver.Config{}, "http://10.1.2.3/", pP, "requests/cidr-mask"},
		{"urllib's text suffix (132)", rowEnv("NO_PROXY=.1.1"), resolver.Config{}, "http://192.168.1.1/", "DIRECT", "requests/ip-suffix"},
		{"IPv6 without brackets (137)", rowEnv("NO_PROXY=2001:db8::1"), resolver.Config{}, "http://[2001:db8::1]/", "DIRECT", ""},
		{"bracketed IPv6 (142)", rowEnv("NO_PROXY=[2001:db8::1]"), resolver.Config{}, "http://[2001:db8::1]/", pP, "requests/bracketed-ipv6"},
		{"port only when written (80)", rowEnv("NO_PROXY=example.com:80"), resolver.Config{}, "http://example.com/", pP, "requests/port-only-written"},
		{"blanks removed (91)", rowEnv("NO_PROXY=a.com b.com"), resolver.Config{}, "http://b.com/", pP, "requests/blanks-removed"},
		{"* alone", rowEnv("NO_PROXY=*"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"padded * (105)", rowEnv("NO_PROXY= * "), resolver.Config{}, "http://example.com/", pP, "requests/star-alone"},
		{"no implicit loopback", rowEnv(), resolver.Config{}, "http://localhost/", pP, "requests/no-implicit"},
		{"explicit dict ignores NO_PROXY", []string{"NO_PROXY=example.com"}, resolver.Config{Proxies: map[string]string{"http": p1}}, "http://example.com/", p1, "requests/explicit-ignores-no-proxy"},
		{"explicit all loses to HTTP_PROXY", []string{"HTTP_PROXY=" + p2}, resolver.Config{Proxies: map[string]string{"all": p1}}, "http://example.com/", p2, "requests/env-beats-all"},
		{"explicit all for https without HTTPS_PROXY", []string{"HTTP_PROXY=" + p2}, resolver.Config{Proxies: map[string]string{"all": p1}}, "https://example.com/", p1, ""},
		{"explicit none blocks the environment", []string{"HTTP_PROXY=" + p2}, resolver.Config{Proxies: map[string]string{"http": "none"}}, "http://example.com/", "DIRECT", ""},
		{"scheme://host key", []string{"HTTP_PROXY=" + p2}, resolver.Config{Proxies: map[string]string{"http://example.com": p1}}, "http://example.com:8080/", p1, ""},
		{"no_proxy key bypasses environment proxies", []string{"HTTP_PROXY=" + p2}, resolver.Config{Proxies: map[string]string{"no_proxy": "example.com"}}, "http://example.com/", "DIRECT", ""},
		{"Bypass is the no_proxy key", []string{"HTTP_PROXY=" + p2, "NO_PROXY=example.com"}, resolver.Config{Bypass: "other.org"}, "http://example.com/", p2, ""},
	})
}
