package resolver_test

import (
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestNodeFlavour is proxy-from-env 2.1 clause by clause; the numbers are
// the notes' measurement rows. TestClientParity checks the same against
// the package.
func TestNodeFlavour(t *testing.T) {
	runFlavourCases(t, resolver.FlavorNode, []flavourCase{
		{"lower case, else upper", []string{"HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p2, ""},
		{"empty lower case does not hide", []string{"http_proxy=", "HTTP_PROXY=" + p2}, resolver.Config{}, "http://example.com/", p2, ""},
		{"all_proxy after the scheme's", []string{"all_proxy=" + p1}, resolver.Config{}, "ws://example.com/", p1, ""},
		{"no CGI guard", []string{"HTTP_PROXY=" + p2, "REQUEST_METHOD=GET"}, resolver.Config{}, "http://example.com/", p2, "node/no-cgi-guard"},
		{"schemeless proxy takes the URL's scheme", []string{"https_proxy=127.0.0.1:3128"}, resolver.Config{}, "https://example.com/", "https://127.0.0.1:3128", "node/proxy-scheme-from-url"},
		{"exact bare names (42)", rowEnv("NO_PROXY=example.com"), resolver.Config{}, "http://www.example.com/", pP, "node/exact-only"},
		{"exact bare names match the name", rowEnv("NO_PROXY=example.com"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{".x is a suffix without the apex (52)", rowEnv("NO_PROXY=.example.com"), resolver.Config{}, "http://example.com/", pP, "node/dot-excludes-apex"},
		{"*x is a plain suffix (67)", rowEnv("NO_PROXY=*example.com"), resolver.Config{}, "http://notexample.com/", "DIRECT", ""},
		{"text suffix on addresses (132)", rowEnv("NO_PROXY=.1.1"), resolver.Config{}, "http://192.168.1.1/", "DIRECT", "node/plain-suffix"},
		{"default port in an entry (80)", rowEnv("NO_PROXY=example.com:80"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"white space separates (91)", rowEnv("NO_PROXY=a.com b.com"), resolver.Config{}, "http://b.com/", "DIRECT", ""},
		{"* anywhere (106)", rowEnv("NO_PROXY=example.org,*"), resolver.Config{}, "http://example.com/", "DIRECT", ""},
		{"no CIDR (116)", rowEnv("NO_PROXY=10.0.0.0/8"), resolver.Config{}, "http://10.1.2.3/", pP, "node/no-cidr"},
		{"brackets kept (137)", rowEnv("NO_PROXY=2001:db8::1"), resolver.Config{}, "http://[2001:db8::1]/", pP, "node/brackets-kept"},
		{"bracketed entry (142)", rowEnv("NO_PROXY=[2001:db8::1]"), resolver.Config{}, "http://[2001:db8::1]/", "DIRECT", ""},
		{"invalid URL gets no proxy (130)", rowEnv(), resolver.Config{}, "http://1192.168.1.1/", "DIRECT", "node/invalid-url"},
		{"no implicit loopback", rowEnv(), resolver.Config{}, "http://localhost/", pP, "node/no-implicit"},
		{"semicolons do not separate", rowEnv("NO_PROXY=other.org;example.com"), resolver.Config{}, "http://example.com/", pP, "node/no-semicolon"},
	})
}
