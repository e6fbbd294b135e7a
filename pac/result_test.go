package pac_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pacd/pacd/pac"
)

func TestParseResult(t *testing.T) {
	tests := []struct {
		in      string
		want    string // canonical form of the Result
		dropped []string
	}{
		// From Chromium's result-parsing tests (proxy_list and
		// proxy_string_util unit tests): blanks, case, junk entries.
		{"PROXY foopy1 ; proxy foopy2;\t DIRECT", "PROXY foopy1:80; PROXY foopy2:80; DIRECT", nil},
		{"PROXY foopy1 ; JUNK ; JUNK ; SOCKS5 foopy2 ; ;", "PROXY foopy1:80; SOCKS5 foopy2:1080", []string{"JUNK", "JUNK"}},
		{"DIRECT", "DIRECT", nil},
		{"direct; DIRECT", "DIRECT; DIRECT", nil},
		{"PROXY a:8080", "PROXY a:8080", nil},
		{"HTTPS secure.example", "HTTPS secure.example:443", nil},
		{"SOCKS s", "SOCKS4 s:1080", nil},
		{"socks4 s:9", "SOCKS4 s:9", nil},
		{"SOCKS5 [2001:DB8::1]:1080", "SOCKS5 [2001:db8::1]:1080", nil},
		{"PROXY [::1]", "PROXY [::1]:80", nil},
		{"PROXY Proxy.EXAMPLE.com:3128", "PROXY proxy.example.com:3128", nil},
		{"PROXY 0xA.020.3.4:1", "PROXY 10.16.3.4:1", nil},
		{"PROXY 127.1", "PROXY 127.0.0.1:80", nil},
		{"PROXY bücher.example", "PROXY xn--bcher-kva.example:80", nil},
		{"PROXY under_score.corp:8080", "PROXY under_score.corp:8080", nil},
		{"  PROXY\ta:1  ", "PROXY a:1", nil},

		// Dropped entries; nothing valid left means DIRECT.
		{"", "DIRECT", nil},
		{" ; ; ", "DIRECT", nil},
		{"PROXY", "DIRECT", []string{"PROXY"}},
		{"PROXY-foopy:10", "DIRECT", []string{"PROXY-foopy:10"}},
		{"HTTP foopy:10; DIRECT", "DIRECT", []string{"HTTP foopy:10"}},
		{"DIRECT foopy:10", "DIRECT", []string{"DIRECT foopy:10"}},
		{"PROXY host:", "DIRECT", []string{"PROXY host:"}},
		{"PROXY host:0", "DIRECT", []string{"PROXY host:0"}},
		{"PROXY host:65536", "DIRECT", []string{"PROXY host:65536"}},
		{"PROXY host:+80", "DIRECT", []string{"PROXY host:+80"}},
		{"PROXY user:pass@evil.example:80; DIRECT", "DIRECT", []string{"PROXY user:pass@evil.example:80"}},
		{"PROXY 2001:db8::1", "DIRECT", []string{"PROXY 2001:db8::1"}},
		{"PROXY [1.2.3.4]:80", "DIRECT", []string{"PROXY [1.2.3.4]:80"}},
		{"PROXY 256.1.1.1", "DIRECT", []string{"PROXY 256.1.1.1"}},
		{"PROXY a/b:80", "DIRECT", []string{"PROXY a/b:80"}},
		{"PROXY a..b", "DIRECT", []string{"PROXY a..b"}},
		{"QUIC q:443; PROXY p:1", "PROXY p:1", []string{"QUIC q:443"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := pac.ParseResult(tt.in)
			if got := r.String(); got != tt.want {
				t.Errorf("ParseResult(%q) = %q, want %q", tt.in, got, tt.want)
			}
			var re *pac.ResultError
			switch {
			case len(tt.dropped) == 0 && len(r) > 0 && (err == nil) != (strings.Trim(tt.in, " ;") != ""):
				t.Errorf("ParseResult(%q) error = %v", tt.in, err)
			case len(tt.dropped) > 0 && !errors.As(err, &re):
				t.Fatalf("ParseResult(%q) error = %v, want *ResultError", tt.in, err)
			case len(tt.dropped) > 0:
				var got []string
				for _, d := range re.Dropped {
					got = append(got, d.Entry)
				}
				if strings.Join(got, "|") != strings.Join(tt.dropped, "|") {
					t.Errorf("ParseResult(%q) dropped %q, want %q", tt.in, got, tt.dropped)
				}
			}
		})
	}
}

func TestParseResultNoValidEntry(t *testing.T) {
	r, err := pac.ParseResult("JUNK")
	var re *pac.ResultError
	if !errors.As(err, &re) || !re.Empty {
		t.Fatalf("ParseResult(JUNK) error = %v, want Empty ResultError", err)
	}
	if !r.IsDirect() || len(r) != 1 {
		t.Fatalf("ParseResult(JUNK) = %v, want DIRECT", r)
	}
	want := `pac: ParseResult("JUNK"): dropped "JUNK" (unknown type "JUNK"); no valid entry, using DIRECT`
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestProxyAddr(t *testing.T) {
	tests := []struct {
		p    pac.Proxy
		addr string
	}{
		{pac.Proxy{}, ""},
		{pac.Proxy{Type: pac.HTTP, Host: "a", Port: 1}, "a:1"},
		{pac.Proxy{Type: pac.SOCKS5, Host: "::1", Port: 1080}, "[::1]:1080"},
	}
	for _, tt := range tests {
		if got := tt.p.Addr(); got != tt.addr {
			t.Errorf("%v.Addr() = %q, want %q", tt.p, got, tt.addr)
		}
	}
}

func TestParseProxy(t *testing.T) {
	p, err := pac.ParseProxy(" SOCKS5 h:9 ")
	if err != nil || p != (pac.Proxy{Type: pac.SOCKS5, Host: "h", Port: 9}) {
		t.Errorf("ParseProxy = %v, %v", p, err)
	}
	if _, err := pac.ParseProxy("PROXY a; DIRECT"); err == nil {
		t.Errorf("ParseProxy accepted two entries")
	}
}

// FuzzParseResult checks that parsing never panics and that the canonical
// form is a fixed point: it parses without loss to the same Result.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{
		"DIRECT",
		"PROXY a:1; DIRECT",
		"PROXY foopy1 ; JUNK ; SOCKS5 foopy2 ; ;",
		"HTTPS [2001:db8::1]:8443",
		"SOCKS 0x7f.1:1080",
		"PROXY user:pw@h:1",
		"PROXY bücher.example",
		";;;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, _ := pac.ParseResult(s)
		if len(r) == 0 {
			t.Fatalf("ParseResult(%q) returned an empty Result", s)
		}
		canon := r.String()
		r2, err := pac.ParseResult(canon)
		if err != nil {
			t.Fatalf("ParseResult(%q) = %q, which does not parse back: %v", s, canon, err)
		}
		if r2.String() != canon {
			t.Fatalf("round trip of %q: %q then %q", s, canon, r2.String())
		}
	})
}
