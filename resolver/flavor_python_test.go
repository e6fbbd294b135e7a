package resolver_test

import (
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestPythonFlavour is urllib 3.11 clause by clause; the numbers are the
// notes' measurement rows. TestClientParity checks the same against
// Python.
func TestPythonFlavour(t *testing.T) {
	runFlavourCases(t, resolver.FlavorPython, []flavourCase{
		{"lower case wins", []string{"http_proxy=" + p1, "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p1, ""},
		{"empty lower case hides upper case (4)", []string{"http_proxy=", "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", "DIRECT", "urllib/empty-hides-upper"},
		{"any case mix", []string{"Http_Proxy=" + p2}, resolver.Config{}, "http://example.com/", p2, "urllib/any-case"},
		{"CGI drops HTTP_PROXY", []string{"HTTP_PROXY=" + p2, "REQUEST_METHOD=GET"}, resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"no all_proxy", []string{"all_proxy=" + p1}, resolver.Config{}, "http://example.com/", "DIRECT", "urllib/no-all-proxy"},
		{"* alone", rowEnv("no_proxy=*"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"* in a list (106)", rowEnv("no_proxy=other.org,*"), resolver.Config{}, "http://example.com/", pP, "urllib/star-alone"},
		{"leading dot stripped (52)", rowEnv("no_proxy=.example.com"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"port only when written (76)", rowEnv("no_proxy=example.com:80"), resolver.Config{}, "http://example.com/", pP, "urllib/port-only-written"},
		{"port when written", rowEnv("no_proxy=example.com:8080"), resolver.Config{}, "http://www.example.com:8080/", "DIRECT", ""},
		{"no CIDR (116)", rowEnv("no_proxy=10.0.0.0/8"), resolver.Config{}, "http://10.1.2.3/", pP, "urllib/no-cidr"},
		{"text suffix on addresses (132)", rowEnv("no_proxy=.1.1"), resolver.Config{}, "http://192.168.1.1/", "DIRECT", "urllib/ip-suffix"},
		{"brackets kept (137)", rowEnv("no_proxy=2001:db8::1"), resolver.Config{}, "http://[2001:db8::1]/", pP, "urllib/brackets-kept"},
		{"bracketed entry (142)", rowEnv("no_proxy=[2001:db8::1]"), resolver.Config{}, "http://[2001:db8::1]/", "DIRECT", ""},
		{"names as written (157)", rowEnv("no_proxy=xn--bcher-kva.example"), resolver.Config{}, "http://www.bücher.example/", pP, "urllib/idn-as-text"},
		{"trailing dot (50)", rowEnv("no_proxy=example.com"), resolver.Config{}, "http://example.com./", pP, "urllib/trailing-dot"},
		{"commas only (91)", rowEnv("no_proxy=a.com b.com"), resolver.Config{}, "http://b.com/", pP, "urllib/commas-only"},
		{"no wildcards (60)", rowEnv("no_proxy=*.example.com"), resolver.Config{}, "http://www.example.com/", pP, "urllib/no-glob"},
		{"no implicit loopback", rowEnv(), resolver.Config{}, "http://127.0.0.1/", pP, "urllib/no-implicit"},
		{"ProxyHandler dict replaces the environment", []string{"http_proxy=" + p2}, resolver.Config{Proxies: map[string]string{"http": p1}}, "http://example.com/", p1, ""},
		{"NO_PROXY applies to the dict", []string{"no_proxy=example.com"}, resolver.Config{Proxies: map[string]string{"http": p1}}, "http://example.com/", "DIRECT", ""},
	})
}
