// Package hostname holds the host-name and IP-literal parsing that pacd's
// packages share, so that a PAC answer, a NO_PROXY entry and a URL read a
// host the same way: lower case, international names in punycode, IPv4
// addresses in every form a URL may carry.
package hostname

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ParseLiteral parses s as Chromium's AssignFromIPLiteral does: a string
// with a colon must be an IPv6 address (no brackets, no zone); any other
// must be a URL-style IPv4 address. IPv4 addresses come back as 4-byte
// addresses, never IPv4-mapped.
func ParseLiteral(s string) (netip.Addr, bool) {
	if strings.IndexByte(s, ':') >= 0 {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
		return a, true
	}
	return ParseIPv4(s)
}

// LooksNumeric reports whether a label would make a URL parser treat the
// host as IPv4: all decimal digits, or "0x" followed by hex digits.
func LooksNumeric(label string) bool {
	if label == "" {
		return false
	}
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		for i := 2; i < len(label); i++ {
			if !isHex(label[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(label); i++ {
		if label[i] < '0' || label[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ParseIPv4 parses an IPv4 address in any form a URL may carry (the
// WHATWG URL standard's IPv4 parser, which Chromium and getaddrinfo's
// inet_aton share): one to four parts separated by dots, with one
// trailing dot allowed, each decimal, octal (a leading 0) or hexadecimal
// (0x); the last part fills the remaining bytes.
func ParseIPv4(s string) (netip.Addr, bool) {
	if strings.HasSuffix(s, ".") {
		s = s[:len(s)-1]
	}
	if s == "" {
		return netip.Addr{}, false
	}
	var nums [4]uint64
	n := 0
	for {
		end := strings.IndexByte(s, '.')
		p := s
		if end >= 0 {
			p = s[:end]
		}
		if n == 4 {
			return netip.Addr{}, false
		}
		v, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, false
		}
		nums[n] = v
		n++
		if end < 0 {
			break
		}
		s = s[end+1:]
	}
	var v uint64
	for i := 0; i < n-1; i++ {
		if nums[i] > 255 {
			return netip.Addr{}, false
		}
		v |= nums[i] << (8 * (3 - i))
	}
	last := nums[n-1]
	if last >= 1<<(8*(5-n)) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseIPv4Number parses one part of a URL-style IPv4 address. Values
// above 2^32 are rejected without overflowing.
func parseIPv4Number(p string) (uint64, bool) {
	if p == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
		base, p = 16, p[2:]
		if p == "" {
			return 0, true // "0x" alone is zero
		}
	case len(p) >= 2 && p[0] == '0':
		base, p = 8, p[1:]
	}
	var v uint64
	for i := 0; i < len(p); i++ {
		c := p[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, false
		}
	}
	return v, true
}

// Lower is strings.ToLower without an allocation for the common case of
// a string that is already lower case ASCII.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// ToASCII converts a host name to the form DNS and proxies see: lower
// case, international labels in punycode. ASCII names are only
// Lower-cased, without a round trip through IDNA, so that names with
// underscores (common on intranets) survive.
func ToASCII(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return Lower(s), nil
	}
	return idna.Lookup.ToASCII(s)
}

// Canonical canonicalises a host name or IPv4 address the way a URL
// parser does (WHATWG URL host parsing): lower case, international
// names in punycode, and an IPv4 address written with hexadecimal, octal
// or fewer than four parts turned into dotted decimal. It reports false
// for an empty or invalid host.
func Canonical(s string) (string, bool) {
	if s == "" || len(s) > 253 {
		return "", false
	}
	h, err := ToASCII(s)
	if err != nil || h == "" || len(h) > 253 || !utf8.ValidString(s) {
		// Punycode can make a name too long for DNS; a name of
		// characters that IDNA maps to nothing (U+034F, say) is empty;
		// and invalid UTF-8 is no name at all.
		return "", false
	}
	// A host whose last label is numeric must be an IPv4 address.
	last := strings.TrimSuffix(h, ".")
	if i := strings.LastIndexByte(last, '.'); i >= 0 {
		last = last[i+1:]
	}
	if LooksNumeric(last) {
		a, ok := ParseIPv4(h)
		if !ok {
			return "", false
		}
		return a.String(), true
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", false
		}
	}
	if h[0] == '.' || strings.Contains(h, "..") {
		return "", false
	}
	return h, true
}
