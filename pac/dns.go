package pac

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pacd/pacd/internal/hostname"
)

// The default resolver: the system's, with a timeout per lookup, a small
// cache of answers and of failures, and one lookup in flight per name
// however many evaluations ask for it at once.

const (
	dnsCacheSize   = 1024
	dnsPositiveTTL = 60 * time.Second
	dnsNegativeTTL = 10 * time.Second
)

type dnsKey struct{ network, host string }

type dnsEntry struct {
	addrs   []netip.Addr // nil: the name did not resolve
	expires time.Time
}

type dnsFlight struct {
	done  chan struct{}
	addrs []netip.Addr
	err   error
}

type systemResolver struct {
	lookup  func(ctx context.Context, network, host string) ([]netip.Addr, error)
	timeout time.Duration
	now     func() time.Time

	mu      sync.Mutex
	cache   map[dnsKey]dnsEntry
	flights map[dnsKey]*dnsFlight
}

func newSystemResolver(timeout time.Duration) *systemResolver {
	return newCachingResolver(net.DefaultResolver.LookupNetIP, timeout)
}

func newCachingResolver(lookup func(ctx context.Context, network, host string) ([]netip.Addr, error), timeout time.Duration) *systemResolver {
	return &systemResolver{
		lookup:  lookup,
		timeout: timeout,
		now:     time.Now,
		cache:   make(map[dnsKey]dnsEntry),
		flights: make(map[dnsKey]*dnsFlight),
	}
}

// errNotResolved is a cached failure.
type errNotResolved struct{ host string }

func (e errNotResolved) Error() string { return "pac: " + e.host + " did not resolve (cached)" }

// lookupCached implements cachedResolver.
func (r *systemResolver) lookupCached(network, host string) ([]netip.Addr, bool) {
	k := dnsKey{network, hostname.Lower(host)}
	r.mu.Lock()
	e, ok := r.cache[k]
	r.mu.Unlock()
	if !ok || r.now().After(e.expires) {
		return nil, false
	}
	return e.addrs, true
}

// LookupNetIP implements [Resolver]. The lookup itself runs under the
// resolver's own timeout, not ctx, so that a caller that gives up does
// not fail the lookup for the others waiting on it; ctx only bounds how
// long this caller waits.
func (r *systemResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if addrs, ok := r.lookupCached(network, host); ok {
		if addrs == nil {
			return nil, errNotResolved{host}
		}
		return addrs, nil
	}
	k := dnsKey{network, hostname.Lower(host)}
	r.mu.Lock()
	f := r.flights[k]
	if f == nil {
		f = &dnsFlight{done: make(chan struct{})}
		r.flights[k] = f
		go r.run(k, f)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.addrs, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *systemResolver) run(k dnsKey, f *dnsFlight) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	addrs, err := r.lookup(ctx, k.network, k.host)
	cancel()
	if err == nil && len(addrs) == 0 {
		err = errNotResolved{k.host}
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	f.addrs, f.err = addrs, err
	ttl := dnsPositiveTTL
	if err != nil {
		addrs, ttl = nil, dnsNegativeTTL
	}
	r.mu.Lock()
	delete(r.flights, k)
	if len(r.cache) >= dnsCacheSize {
		r.evict()
	}
	r.cache[k] = dnsEntry{addrs: addrs, expires: r.now().Add(ttl)}
	r.mu.Unlock()
	close(f.done)
}

// evict makes room in the cache: expired entries first, then, if none
// had expired, an arbitrary quarter of the rest. r.mu is held.
func (r *systemResolver) evict() {
	now := r.now()
	for k, e := range r.cache {
		if now.After(e.expires) {
			delete(r.cache, k)
		}
	}
	if len(r.cache) < dnsCacheSize {
		return
	}
	n := len(r.cache) / 4
	for k := range r.cache {
		if n == 0 {
			break
		}
		delete(r.cache, k)
		n--
	}
}
