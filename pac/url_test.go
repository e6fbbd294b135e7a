package pac

import "testing"

func TestSanitizeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://www.example.com/path?q=1#f", "https://www.example.com/"},
		{"https://user:pw@www.example.com:8443/x", "https://www.example.com:8443/"},
		{"HTTPS://Example.com", "HTTPS://Example.com/"},
		{"wss://ws.example/chat?token=s3cret", "wss://ws.example/"},
		{"http://user:pw@example.com/a?b#c", "http://example.com/a?b"},
		{"http://example.com/a?b", "http://example.com/a?b"},
		{"ftp://ftp.example/pub/#x", "ftp://ftp.example/pub/"},
		{"https://[2001:db8::1]:443/p", "https://[2001:db8::1]:443/"},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := sanitizeURL(tt.in, false); got != tt.want {
			t.Errorf("sanitizeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := sanitizeURL(tt.in, true); got != tt.in {
			t.Errorf("sanitizeURL(%q, full) = %q, want it unchanged", tt.in, got)
		}
	}
}

func TestHostOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://WWW.Example.com:8080/x", "www.example.com"},
		{"https://user@host/", "host"},
		{"http://[2001:DB8::1]:80/", "2001:db8::1"},
		{"http://h?q", "h"},
		{"h", ""},
	}
	for _, tt := range tests {
		if got := hostOf(tt.in); got != tt.want {
			t.Errorf("hostOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeURLNoAlloc(t *testing.T) {
	n := testing.AllocsPerRun(100, func() { sanitizeURL("http://example.com/a?b", false) })
	if n != 0 {
		t.Errorf("sanitizeURL allocates %v times for a URL it leaves alone", n)
	}
}
