package hostname

import (
	"strings"
	"testing"
)

func TestParseLiteral(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.1.2.3", "10.1.2.3"},
		{"127.1", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"1234", "0.0.4.210"},
		{"0x", "0.0.0.0"},
		{"1.2.3.4.", "1.2.3.4"},
		{"4294967295", "255.255.255.255"},
		{"::1", "::1"},
		{"2001:DB8::1", "2001:db8::1"},
		{"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
		// Not literals.
		{"", ""}, {".", ""}, {"1..2", ""}, {"1.2.3.4.5", ""}, {"256.1.1.1", ""},
		{"09", ""}, {"0x1g", ""}, {"4294967296", ""}, {"1.2.3.4..", ""},
		{"[::1]", ""}, {"fe80::1%eth0", ""}, {"foopy::1", ""}, {" 1.2.3.4", ""}, {"example.com", ""},
	}
	for _, tt := range tests {
		a, ok := ParseLiteral(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("ParseLiteral(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Proxy.EXAMPLE.com", "proxy.example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"under_score.corp", "under_score.corp"},
		{"0xA.020.3.4", "10.16.3.4"},
		{"127.1", "127.0.0.1"},
		{"example.com.", "example.com."},
		// Not hosts.
		{strings.Repeat("0", 250) + "ü0", ""}, // too long once in punycode
		{"caf\xe9", ""},                       // not UTF-8
		{"\u034f", ""}, {"\u00ad\u200b", ""},  // mapped to nothing (found by FuzzParseProxyURL)
		{"", ""}, {"a..b", ""}, {".a", ""}, {"a/b", ""}, {"256.1.1.1", ""}, {"1.2.3.x1", "1.2.3.x1"},
	}
	for _, tt := range tests {
		got, ok := Canonical(tt.in)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLower(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "ABC": "abc", "Ä": "ä", "": ""} {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Lower("already.lower") }); n != 0 {
		t.Errorf("Lower allocates %v times for a lower-case string", n)
	}
}
