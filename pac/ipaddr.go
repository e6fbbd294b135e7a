package pac

import (
	"net/netip"

	"github.com/pacd/pacd/internal/hostname"
)

// The PAC world reads an IP address in two ways:
//
//   - parseIPLiteral is Chromium's IPAddress::AssignFromIPLiteral, used by
//     isPlainHostName, isInNetEx, sortIpAddressList and DNS: an IPv6
//     address without brackets, or an IPv4 address in any form a URL may
//     carry ("127.1", "0x7f.0.0.1", "0177.0.0.1"); see package hostname.
//   - parseDottedQuad is the JavaScript isValidIpAddress of the Netscape
//     library, used by isInNet: exactly four decimal parts of one to three
//     digits, each at most 255 (leading zeros allowed, and still decimal).
//
// Neither allocates.

func parseIPLiteral(s string) (netip.Addr, bool) { return hostname.ParseLiteral(s) }

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
