package resolver_test

import (
	"testing"

	"github.com/pacd/pacd/resolver"
)

// TestChromiumFlavour is Chromium clause by clause, as read from its
// source (nothing here was measured).
func TestChromiumFlavour(t *testing.T) {
	fixed := func(bypass string) resolver.Config { return resolver.Config{Proxy: p1, Bypass: bypass} }
	runFlavourCases(t, resolver.FlavorChromium, []flavourCase{
		{"all_proxy first, for every scheme", []string{"all_proxy=" + p1, "http_proxy=" + p2}, resolver.Config{}, "http://example.com/", p1, "chromium/all-proxy-first"},
		{"other case when unset", []string{"HTTPS_PROXY=" + p2}, resolver.Config{}, "https://example.com/", p2, ""},
		{"set but empty hides the other case", []string{"https_proxy=", "HTTPS_PROXY=" + p2}, resolver.Config{}, "https://example.com/", "DIRECT", "chromium/empty-hides-upper"},
		{"WebSocket: the HTTPS proxy first", []string{"http_proxy=" + p1, "https_proxy=" + p2}, resolver.Config{}, "ws://example.com/", p2, "chromium/websocket-https-first"},
		{"SOCKS_SERVER when nothing else", []string{"SOCKS_SERVER=127.0.0.1:1080"}, resolver.Config{}, "http://example.com/", "socks5://127.0.0.1:1080", ""},
		{"environment: suffix matching", rowEnv("no_proxy=example.com"), resolver.Config{}, "http://notexample.com/", "DIRECT", "chromium/env-suffix"},
		{"environment: .x excludes the apex", rowEnv("no_proxy=.example.com"), resolver.Config{}, "http://example.com/", pP, "chromium/dot-excludes-apex"},
		{"implicit: localhost", rowEnv(), resolver.Config{}, "http://LOCALHOST./", "DIRECT", ""},
		{"implicit: link-local", rowEnv(), resolver.Config{}, "http://169.254.169.254/", "DIRECT", ""},
		{"implicit: not IPv4-mapped loopback", rowEnv(), resolver.Config{}, "http://[::ffff:127.0.0.1]/", pP, "chromium/mapped-loopback"},
		{"bypass list: a bare name is exact", nil, fixed("example.com"), "http://www.example.com/", p1, "chromium/exact-name"},
		{"bypass list: the name itself", nil, fixed("example.com"), "http://example.com/", "DIRECT", ""},
		{"bypass list: ; separates", nil, fixed("other.org;example.com"), "http://example.com/", "DIRECT", ""},
		{"bypass list: blanks do not", nil, fixed("other.org example.com"), "http://example.com/", p1, "chromium/no-blank-separator"},
		{"bypass list: wildcards", nil, fixed("build-*.corp"), "http://build-7.corp/", "DIRECT", ""},
		{"bypass list: scheme", nil, fixed("https://example.com"), "http://example.com/", p1, ""},
		{"bypass list: port", nil, fixed("example.com:8080"), "http://example.com:8080/", "DIRECT", ""},
		{"bypass list: short IPv4", nil, fixed("127.0.1"), "http://127.0.0.1/", "DIRECT", ""},
		{"bypass list: CIDR", nil, fixed("192.168.1.1/16"), "http://192.168.7.7/", "DIRECT", ""},
		{"bypass list: IPv6 in brackets", nil, fixed("[2001:db8::1]"), "http://[2001:db8::1]/", "DIRECT", ""},
		{"bypass list: IPv6 without brackets", nil, fixed("2001:db8::1"), "http://[2001:db8::1]/", p1, "chromium/ipv6-brackets"},
		{"<local>", nil, fixed("<local>"), "http://intranet/", "DIRECT", ""},
		{"<local> skips dotted names", nil, fixed("<local>"), "http://intranet.corp/", p1, ""},
		{"<-loopback> lifts the implicit rules", nil, fixed("<-loopback>"), "http://localhost/", p1, ""},
		{"an entry before <-loopback> still counts", nil, fixed("localhost,<-loopback>"), "http://localhost/", "DIRECT", ""},
		{"PAC mode: the implicit rules, then the script", nil, resolver.Config{PAC: pacFunc("PROXY 127.0.0.1:9"), Proxy: p1}, "http://localhost/", "DIRECT", ""},
		{"PAC mode wins over Proxy", nil, resolver.Config{PAC: pacFunc("PROXY 127.0.0.1:9"), Proxy: p1}, "http://example.com/", "http://127.0.0.1:9", ""},
	})
}
