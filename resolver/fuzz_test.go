package resolver_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pacd/pacd/resolver"
)

// FuzzParseProxyURL checks that proxy URL parsing never panics, that an
// accepted proxy prints without its password, and that its URL parses
// back to the same proxy.
func FuzzParseProxyURL(f *testing.F) {
	for _, s := range []string{
		"http://proxy:8080",            // the common form
		"proxy:3128",                   // no scheme: http
		"socks5h://u:p%40w@s:1080",     // credentials, escaped
		"https://[2001:db8::1]",        // IPv6, default port
		"socks4://id:pw@s",             // SOCKS4 cannot take a password
		"http://bücher.example",        // international name
		"http://p:0", "http://p:65536", // bad ports
		"ftp://p", "http://", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := resolver.ParseProxyURL(s)
		if err != nil {
			return
		}
		if p.Password != "" && strings.Contains(p.String(), p.URL().User.String()+"@") {
			t.Fatalf("ParseProxyURL(%q).String() = %q shows the password", s, p)
		}
		back, err := resolver.ParseProxyURL(p.URL().String())
		if err != nil {
			t.Fatalf("ParseProxyURL(%q) = %v, whose URL %q does not parse: %v", s, p, p.URL(), err)
		}
		if back != p {
			t.Fatalf("ParseProxyURL(%q) = %#v, but its URL parses to %#v", s, p, back)
		}
	})
}

// FuzzBypassList checks that bypass lists and destinations never make
// parsing or matching panic, and that what the strict parser accepts the
// lenient reading of the environment accepts the same way.
func FuzzBypassList(f *testing.F) {
	for _, s := range [][2]string{
		{"example.com, .corp, *.x, 10.0.0.0/8", "www.corp"},
		{"[2001:db8::1]:443 ::1 <local>", "2001:db8::1"},
		{"*", "anything"},
		{"build-*.corp?x", "build-7.corpyx"},
		{"http://bad, 1.2.3.0/40, :1", "1.2.3.4"},
		{"xn--bcher-kva.example", "bücher.example"},
	} {
		f.Add(s[0], s[1], uint16(80))
	}
	f.Fuzz(func(t *testing.T, list, host string, port uint16) {
		b, strictErr := resolver.ParseBypassList(list)
		env := map[string]string{"no_proxy": list, "http_proxy": "http://p:1"}
		r, err := resolver.New(&resolver.Config{Env: resolver.ReadEnv(func(k string) string { return env[k] })})
		if err != nil {
			t.Fatalf("New with NO_PROXY %q: %v", list, err)
		}
		if strictErr == nil && len(r.Warnings()) > 0 && strings.Contains(strings.Join(r.Warnings(), " "), "bad bypass entry") {
			t.Fatalf("ParseBypassList(%q) accepts what NO_PROXY rejects: %q", list, r.Warnings())
		}
		if b != nil {
			b.Match(host, port)
		}
		if u, err := url.Parse("http://" + host + "/"); err == nil && u.Host != "" {
			r.Resolve(context.Background(), u)
		}
	})
}

// FuzzMount checks that HTTPX mount patterns never make New or Resolve
// panic.
func FuzzMount(f *testing.F) {
	for _, s := range []string{"all://", "https://", "all://*.example.com", "all://*example.com", "http://example.com:1234", "all://[::1]:80", "http", "://x", "all://a*b"} {
		f.Add(s, "http://www.example.com:1234/")
	}
	f.Fuzz(func(t *testing.T, pattern, rawURL string) {
		r, err := resolver.New(&resolver.Config{Mounts: []resolver.Mount{{Pattern: pattern, Proxy: "http://p:1"}}})
		if err != nil {
			return
		}
		if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
			r.Resolve(context.Background(), u)
		}
	})
}
