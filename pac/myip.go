package pac

import (
	"context"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"
)

// myIPTTL is how long the machine's addresses, once found, are used
// before they are looked for again (in the background: callers keep
// getting the last answer meanwhile).
const myIPTTL = time.Minute

// myIPFinder finds the machine's own addresses as Chromium does for
// myIpAddress (net/docs/proxy.md), stopping at the first step that finds
// any:
//
//  1. the source address of a route to 8.8.8.8, then to
//     2001:4860:4860::8888 (a UDP "connect", which sends nothing);
//  2. the addresses of the machine's host name;
//  3. the source address of a route to 10.0.0.0, 172.16.0.0,
//     192.168.0.0, then fc00::.
//
// Loopback and link-local addresses are skipped unless nothing else is
// found. The whole search runs under a timeout, and its answer is cached,
// so that no evaluation waits for it more than once a minute, and none
// waits beyond the timeout: the 30-second stalls of other engines on
// networks that drop packets to 8.8.8.8 cannot happen here.
type myIPFinder struct {
	timeout  time.Duration
	probe    func(ctx context.Context, network, addr string) (netip.Addr, error)
	hostname func() (string, error)
	lookup   func(ctx context.Context, host string) ([]netip.Addr, error)
	now      func() time.Time

	mu      sync.Mutex
	addrs   []netip.Addr
	expires time.Time
	running chan struct{} // closed when the search under way ends; nil if none
}

func newMyIPFinder(timeout time.Duration) func(ctx context.Context) []netip.Addr {
	f := &myIPFinder{
		timeout:  timeout,
		probe:    probeRoute,
		hostname: os.Hostname,
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
		now: time.Now,
	}
	return f.addresses
}

// probeRoute asks the kernel which source address it would use to reach
// addr, without sending a packet.
func probeRoute(ctx context.Context, network, addr string) (netip.Addr, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr().Unmap(), nil
}

// addresses returns the machine's addresses, best first. The first call
// searches (bounded by the timeout and ctx); later ones answer from the
// cache, refreshing it in the background once it is old.
func (f *myIPFinder) addresses(ctx context.Context) []netip.Addr {
	f.mu.Lock()
	if !f.expires.IsZero() {
		addrs := f.addrs
		if f.now().After(f.expires) && f.running == nil {
			f.start()
		}
		f.mu.Unlock()
		return addrs
	}
	if f.running == nil {
		f.start()
	}
	done := f.running
	f.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addrs
}

// start begins a search in the background. f.mu is held.
func (f *myIPFinder) start() {
	done := make(chan struct{})
	f.running = done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
		addrs := f.search(ctx)
		cancel()
		f.mu.Lock()
		f.addrs, f.expires, f.running = addrs, f.now().Add(myIPTTL), nil
		f.mu.Unlock()
		close(done)
	}()
}

// search runs Chromium's steps.
func (f *myIPFinder) search(ctx context.Context) []netip.Addr {
	var fallback []netip.Addr // loopback and link-local addresses seen
	keep := func(found []netip.Addr) []netip.Addr {
		var good []netip.Addr
		for _, a := range found {
			a = a.Unmap()
			switch {
			case !a.IsValid() || a.IsUnspecified():
			case a.IsLoopback() || a.IsLinkLocalUnicast():
				if !slices.Contains(fallback, a) {
					fallback = append(fallback, a)
				}
			case !slices.Contains(good, a):
				good = append(good, a)
			}
		}
		return good
	}
	probes := func(targets ...string) []netip.Addr {
		var found []netip.Addr
		for _, t := range targets {
			if ctx.Err() != nil {
				break
			}
			network := "udp4"
			if t[0] == '[' {
				network = "udp6"
			}
			if a, err := f.probe(ctx, network, t); err == nil {
				found = append(found, a)
			}
		}
		return keep(found)
	}
	if good := probes("8.8.8.8:80", "[2001:4860:4860::8888]:80"); len(good) > 0 {
		return good
	}
	if name, err := f.hostname(); err == nil && name != "" && ctx.Err() == nil {
		if addrs, err := f.lookup(ctx, name); err == nil {
			if good := keep(addrs); len(good) > 0 {
				return preferIPv4(good)
			}
		}
	}
	if good := probes("10.0.0.0:80", "172.16.0.0:80", "192.168.0.0:80", "[fc00::]:80"); len(good) > 0 {
		return good
	}
	return fallback
}

// preferIPv4 orders addrs IPv4 first, keeping the order within each
// family, as Chromium orders the host name's addresses.
func preferIPv4(addrs []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a.Is4() {
			out = append(out, a)
		}
	}
	for _, a := range addrs {
		if !a.Is4() {
			out = append(out, a)
		}
	}
	return out
}
