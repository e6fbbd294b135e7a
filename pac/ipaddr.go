package pac

import (
	"net/netip"
	"strings"
)

// This file holds the three ways the PAC world reads an IP address:
//
//   - parseIPLiteral is Chromium's IPAddress::AssignFromIPLiteral, used by
//     isPlainHostName, isInNetEx and sortIpAddressList: an IPv6 address
//     without brackets, or an IPv4 address in any form a URL may carry
//     ("127.1", "0x7f.0.0.1", "0177.0.0.1").
//   - parseDottedQuad is the JavaScript isValidIpAddress of the Netscape
//     library, used by isInNet: exactly four decimal parts of one to three
//     digits, each at most 255 (leading zeros allowed, and still decimal).
//   - parseURLIPv4 is the URL-style IPv4 parser on its own, also used to
//     canonicalise proxy hosts in results.
//
// None of them allocates.

// parseIPLiteral parses s as Chromium's AssignFromIPLiteral does: a string
// with a colon must be an IPv6 address (no brackets, no zone); any other
// must be a URL-style IPv4 address. IPv4 addresses come back as 4-byte
// addresses, never IPv4-mapped.
func parseIPLiteral(s string) (netip.Addr, bool) {
	if strings.IndexByte(s, ':') >= 0 {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, false
		}
		return a, true
	}
	return parseURLIPv4(s)
}

// parseDottedQuad parses s as the PAC library's isValidIpAddress accepts
// it: /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/ with every part at most 255.
func parseDottedQuad(s string) (netip.Addr, bool) {
	var b [4]byte
	part, digits, val := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			if digits > 3 {
				return netip.Addr{}, false
			}
			val = val*10 + int(c-'0')
		case c == '.':
			if digits == 0 || part == 3 || val > 255 {
				return netip.Addr{}, false
			}
			b[part] = byte(val)
			part, digits, val = part+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if part != 3 || digits == 0 || val > 255 {
		return netip.Addr{}, false
	}
	b[3] = byte(val)
	return netip.AddrFrom4(b), true
}

// looksNumeric reports whether a label would make a URL parser treat the
// host as IPv4: all decimal digits, or "0x" followed by hex digits.
func looksNumeric(label string) bool {
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

// parseURLIPv4 parses an IPv4 address in any form a URL may carry (the
// WHATWG URL standard's IPv4 parser, which Chromium and getaddrinfo's
// inet_aton share): one to four parts separated by dots, with one
// trailing dot allowed, each decimal, octal (a leading 0) or hexadecimal
// (0x); the last part fills the remaining bytes.
func parseURLIPv4(s string) (netip.Addr, bool) {
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
