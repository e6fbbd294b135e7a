package pac

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// A StaticResolver answers DNS questions from a fixed table: host name
// (lower case, without a trailing dot) to addresses, in the order they are
// returned. Names not in the table do not resolve. It never blocks and is
// safe for concurrent use as long as it is not modified.
//
// For network "ip4" only the IPv4 addresses of a name are returned, for
// "ip6" only the IPv6 ones, and for "ip" all of them.
type StaticResolver map[string][]netip.Addr

// errNoSuchHost is what a StaticResolver says of a name it does not have.
type errNoSuchHost struct{ host string }

func (e errNoSuchHost) Error() string { return "pac: no such host " + e.host }

// LookupNetIP implements [Resolver].
func (r StaticResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	addrs, _ := r.lookupCached(network, host)
	if len(addrs) == 0 {
		return nil, errNoSuchHost{host}
	}
	return addrs, nil
}

// lookupCached answers without blocking: a StaticResolver always knows.
func (r StaticResolver) lookupCached(network, host string) ([]netip.Addr, bool) {
	addrs, ok := r[hostname.Lower(host)]
	if !ok && strings.HasSuffix(host, ".") {
		addrs = r[hostname.Lower(strings.TrimSuffix(host, "."))]
	}
	switch network {
	case "ip4", "ip6":
		want4 := network == "ip4"
		for _, a := range addrs {
			if a.Unmap().Is4() != want4 {
				return filterFamily(addrs, want4), true
			}
		}
	}
	return addrs, true
}

func filterFamily(addrs []netip.Addr, want4 bool) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if u := a.Unmap(); u.Is4() == want4 {
			if want4 {
				a = u
			}
			out = append(out, a)
		}
	}
	return out
}

// ParseHostsEntry parses a fixed DNS answer written as
// "HOST=ADDR[,ADDR...]", the form of `pacd eval --resolve`. It returns the
// host in lower case without a trailing dot, and the addresses in order.
func ParseHostsEntry(s string) (string, []netip.Addr, error) {
	host, list, ok := strings.Cut(s, "=")
	host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	if !ok || host == "" {
		return "", nil, fmt.Errorf("pac: ParseHostsEntry(%q): want HOST=ADDR[,ADDR...]", s)
	}
	var addrs []netip.Addr
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(f, "["), "]"))
		if err != nil || a.Zone() != "" {
			return "", nil, fmt.Errorf("pac: ParseHostsEntry(%q): invalid address %q", s, f)
		}
		addrs = append(addrs, a)
	}
	return host, addrs, nil
}
