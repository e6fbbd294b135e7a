package pac

import (
	"context"
	"errors"
	"net/netip"
)

// scaffold: replaced by the net work.
type StaticResolver map[string][]netip.Addr

func (r StaticResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	a := r[host]
	if len(a) == 0 {
		return nil, errors.New("no such host")
	}
	return a, nil
}

func ParseHostsEntry(s string) (string, []netip.Addr, error) { return "", nil, errors.New("scaffold") }
