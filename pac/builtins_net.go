package pac

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// installNet defines the DNS and address built-ins. (scaffold)
func installNet(st *evalState) {}

// scaffold
type scaffoldResolver struct{}

func (scaffoldResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return nil, errors.New("scaffold")
}

func newSystemResolver(timeout time.Duration) Resolver { return scaffoldResolver{} }

func newMyIPFinder(timeout time.Duration) func(ctx context.Context) []netip.Addr {
	return func(context.Context) []netip.Addr { return nil }
}
