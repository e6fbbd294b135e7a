package pac

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"golang.org/x/net/idna"
)

// installNet defines the built-ins that resolve names or compute with
// addresses: dnsResolve, isResolvable, isInNet, convert_addr and
// myIpAddress from Netscape's library, and Microsoft's IPv6 extensions
// dnsResolveEx, isResolvableEx, isInNetEx, myIpAddressEx and
// sortIpAddressList. What they return on failure follows Chromium's table:
// dnsResolve gives null, myIpAddress "127.0.0.1", and the Ex functions
// "" (sortIpAddressList and isInNetEx false).
func installNet(st *evalState) {
	// dnsResolve(host) returns host's first IPv4 address, or null. A host
	// that is not a string gives null without a lookup; an international
	// name is looked up in punycode.
	st.define("dnsResolve", 1, func(call goja.FunctionCall) goja.Value {
		name, ok := hostArgument(call.Argument(0))
		if !ok {
			return goja.Null()
		}
		addrs := st.lookup("ip4", name)
		if len(addrs) == 0 {
			return goja.Null()
		}
		return st.vm.ToValue(addrs[0].String())
	})

	// isResolvable(host) reports whether dnsResolve(host) is not null.
	st.define("isResolvable", 1, func(call goja.FunctionCall) goja.Value {
		name, ok := hostArgument(call.Argument(0))
		return st.bool(ok && len(st.lookup("ip4", name)) > 0)
	})

	// dnsResolveEx(host) returns all of host's addresses, IPv6 and IPv4,
	// separated by ';', or "" when it does not resolve. A host that is not
	// a string gives undefined, as in Chromium.
	st.define("dnsResolveEx", 1, func(call goja.FunctionCall) goja.Value {
		name, ok := hostArgument(call.Argument(0))
		if !ok {
			return goja.Undefined()
		}
		return st.vm.ToValue(joinAddrs(st.lookup("ip", name)))
	})

	// isResolvableEx(host) reports whether dnsResolveEx(host) is not "".
	// Because dnsResolveEx gives undefined for a host that is not a
	// string, such a host is "resolvable", in Chromium and here.
	st.define("isResolvableEx", 1, func(call goja.FunctionCall) goja.Value {
		name, ok := hostArgument(call.Argument(0))
		return st.bool(!ok || len(st.lookup("ip", name)) > 0)
	})

	// isInNet(host, pattern, mask) reports whether host, an IPv4 address
	// or a name that resolves to one, is in the network pattern/mask.
	// pattern and mask must be dotted quads (four decimal parts, at most
	// 255 each) or the answer is false, as in Chromium and Firefox;
	// pacparser computes with whatever it was given. A host that is not a
	// dotted quad is resolved with dnsResolve.
	st.define("isInNet", 3, func(call goja.FunctionCall) goja.Value {
		pat, ok := parseDottedQuad(call.Argument(1).String())
		if !ok {
			return st.vFalse
		}
		mask, ok := parseDottedQuad(call.Argument(2).String())
		if !ok {
			return st.vFalse
		}
		h := call.Argument(0)
		addr, ok := parseDottedQuad(h.String())
		if !ok {
			name, ok := hostArgument(h)
			if !ok {
				return st.vFalse
			}
			addrs := st.lookup("ip4", name)
			if len(addrs) == 0 {
				return st.vFalse
			}
			addr = addrs[0]
		}
		m := ipv4Uint(mask)
		return st.bool(ipv4Uint(addr)&m == ipv4Uint(pat)&m)
	})

	// convert_addr(ipchars) returns the dotted quad ipchars as a signed
	// 32-bit integer, as the JavaScript library computes it: each part
	// converted to a number and masked to a byte, missing parts as 0.
	st.define("convert_addr", 1, func(call goja.FunctionCall) goja.Value {
		s := st.requireStringLike(call.Argument(0), "ipchars", "split")
		parts := strings.SplitN(s, ".", 5) // only the first four count
		var v uint32
		for i := 0; i < 4; i++ {
			var b int32 // undefined & 0xff is 0
			if i < len(parts) {
				b = toInt32(st.vm.ToValue(parts[i]).ToFloat())
			}
			v = v<<8 | uint32(b)&0xff
		}
		return st.vm.ToValue(int64(int32(v)))
	})

	// myIpAddress() returns the machine's address: the first IPv4 address
	// of Options.MyIPAddresses, else its first address, else "127.0.0.1".
	st.define("myIpAddress", 0, func(call goja.FunctionCall) goja.Value {
		addrs := st.myIPAddresses()
		for _, a := range addrs {
			if a = a.Unmap(); a.Is4() {
				return st.vm.ToValue(a.String())
			}
		}
		if len(addrs) > 0 {
			return st.vm.ToValue(formatAddr(addrs[0]))
		}
		return st.vm.ToValue("127.0.0.1")
	})

	// myIpAddressEx() returns all the machine's addresses separated by
	// ';', or "".
	st.define("myIpAddressEx", 0, func(call goja.FunctionCall) goja.Value {
		return st.vm.ToValue(joinAddrs(st.myIPAddresses()))
	})

	// isInNetEx(ip, prefix) reports whether the address ip is in the CIDR
	// block prefix ("10.0.0.0/8", "2001:db8::/32"), as Chromium's does:
	// both must be strict literals (a name is not resolved, and
	// "3ffe:8311:ffff/48" is not a prefix), and when one is IPv4 and the
	// other IPv6 the IPv4 one is taken as IPv4-mapped (::ffff:a.b.c.d).
	// Arguments that are not strings give null.
	st.define("isInNetEx", 2, func(call goja.FunctionCall) goja.Value {
		ip, ok1 := primitiveString(call.Argument(0))
		prefix, ok2 := primitiveString(call.Argument(1))
		if !ok1 || !ok2 {
			return goja.Null()
		}
		return st.bool(isInNetEx(ip, prefix))
	})

	// sortIpAddressList(list) sorts a ';'-separated list of addresses, IPv6
	// before IPv4 and each family in ascending order, as Chromium's does:
	// blanks and tabs are removed first, and the addresses are returned as
	// written. It returns false for an empty list or one with anything
	// that is not an address, and null for an argument that is not a
	// string.
	st.define("sortIpAddressList", 1, func(call goja.FunctionCall) goja.Value {
		list, ok := primitiveString(call.Argument(0))
		if !ok || !isASCII(list) {
			return goja.Null()
		}
		sorted, ok := sortIPAddressList(list)
		if !ok {
			return st.vFalse
		}
		return st.vm.ToValue(sorted)
	})
}

// hostArgument is Chromium's GetHostnameArgument: the argument must be a
// string primitive; an international name is converted to punycode, and
// one that cannot be converted is refused.
func hostArgument(v goja.Value) (string, bool) {
	s, ok := primitiveString(v)
	if !ok {
		return "", false
	}
	if isASCII(s) {
		return s, true
	}
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return "", false
	}
	return a, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func ipv4Uint(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// toInt32 is JavaScript's ToInt32.
func toInt32(f float64) int32 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	f = math.Mod(math.Trunc(f), 1<<32)
	if f < 0 {
		f += 1 << 32
	}
	return int32(uint32(f))
}

// isInNetEx is Chromium's IsInNetEx.
func isInNetEx(ip, prefix string) bool {
	if !isASCII(ip) || !isASCII(prefix) {
		return false
	}
	addr, ok := parseIPLiteral(ip)
	if !ok {
		return false
	}
	p, ok := parseCIDR(prefix)
	if !ok {
		return false
	}
	bits := p.Bits()
	pa := p.Addr()
	switch {
	case addr.Is4() && pa.Is6():
		addr = netip.AddrFrom16(addr.As16())
	case addr.Is6() && pa.Is4():
		pa, bits = netip.AddrFrom16(pa.As16()), bits+96
	}
	pp, err := pa.Prefix(bits)
	if err != nil {
		return false
	}
	return pp.Contains(addr)
}

// parseCIDR is Chromium's ParseCIDRBlock: "ADDR/BITS" with blanks allowed
// around either part, ADDR a literal as parseIPLiteral reads it, BITS
// decimal digits only and at most the address's length. The address need
// not be the network's first.
func parseCIDR(s string) (netip.Prefix, bool) {
	a, b, ok := strings.Cut(s, "/")
	if !ok || strings.IndexByte(b, '/') >= 0 {
		return netip.Prefix{}, false
	}
	addr, ok := parseIPLiteral(strings.TrimSpace(a))
	if !ok {
		return netip.Prefix{}, false
	}
	b = strings.TrimSpace(b)
	if b == "" {
		return netip.Prefix{}, false
	}
	for i := 0; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return netip.Prefix{}, false
		}
	}
	n, err := strconv.ParseUint(b, 10, 32)
	if err != nil || int(n) > addr.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(addr, int(n)), true
}

// sortIPAddressList is Chromium's SortIpAddressList.
func sortIPAddressList(list string) (string, bool) {
	list = strings.NewReplacer(" ", "", "\t", "").Replace(list)
	type entry struct {
		s string
		a netip.Addr
	}
	var entries []entry
	for _, tok := range strings.Split(list, ";") {
		if tok == "" {
			continue
		}
		a, ok := parseIPLiteral(tok)
		if !ok {
			return "", false
		}
		entries = append(entries, entry{tok, a})
	}
	if len(entries) == 0 {
		return "", false
	}
	slices.SortStableFunc(entries, func(x, y entry) int {
		if x.a.Is6() != y.a.Is6() {
			if x.a.Is6() {
				return -1
			}
			return 1
		}
		return x.a.Compare(y.a)
	})
	var b strings.Builder
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(e.s)
	}
	return b.String(), true
}
