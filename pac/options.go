package pac

import (
	"context"
	"net/netip"
	"time"
)

// Defaults applied when the corresponding [Options] field is zero.
const (
	DefaultTimeout          = 2 * time.Second
	DefaultDNSTimeout       = 1 * time.Second
	DefaultMaxCallStackSize = 1000
	DefaultMaxScriptSize    = 1 << 20
	DefaultMaxResultSize    = 64 << 10
	DefaultMaxMemory        = 256 << 20
)

// A Resolver answers the DNS questions of a PAC script. It is the only way
// dnsResolve, isResolvable, isInNet and their "Ex" variants learn about names.
//
// LookupNetIP follows [net.Resolver.LookupNetIP]: network is "ip4" for the
// IPv4-only functions (dnsResolve, isResolvable, isInNet) and "ip" for the
// Microsoft extensions (dnsResolveEx, isResolvableEx). A name that does not
// resolve is reported with a non-nil error or an empty list; both mean
// "unresolvable" to the script. Implementations must honour ctx and must be
// safe for concurrent use.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options configures [Compile]. A nil *Options is valid and means all
// defaults. An Options must not be modified after it has been passed to
// Compile.
type Options struct {
	// Name is the script's file name, used in error positions
	// ("Name:line:col: message"). If empty, "proxy.pac" is used.
	Name string

	// Resolver answers DNS questions. If nil, the system resolver is used,
	// with DNSTimeout per lookup, IDN names converted to punycode, and a
	// small positive and negative cache.
	Resolver Resolver

	// DNSTimeout bounds one DNS lookup made by the default resolver.
	// If zero, DefaultDNSTimeout. Ignored when Resolver is set.
	DNSTimeout time.Duration

	// MyIPAddresses returns the machine's own addresses, best first, for
	// myIpAddress (the first IPv4, else the first) and myIpAddressEx (all).
	// If nil, they are found as Chromium does: route probes that send no
	// packets, then the host name, skipping loopback and link-local; the
	// answer is computed with a timeout and cached.
	MyIPAddresses func(ctx context.Context) []netip.Addr

	// Now returns the current time for weekdayRange, dateRange, timeRange
	// and the script's Date objects. If nil, time.Now.
	Now func() time.Time

	// Location is the time zone of the time functions when they are not
	// given "GMT". If nil, time.Local. (Date objects created by the script
	// always use time.Local, as goja does.)
	Location *time.Location

	// Timeout bounds one evaluation of FindProxyForURL, and the run of the
	// script's top level at compile time. If zero, DefaultTimeout. A
	// context deadline that is earlier wins.
	Timeout time.Duration

	// MaxMemory bounds, in bytes, how much the process's Go heap may grow
	// while one evaluation runs (or the script's top level, at compile
	// time): an evaluation that makes it grow more is interrupted and
	// fails with an error that is [ErrMemoryLimit]. The heap is the
	// process's, so the bound is approximate (see Bounds in the package
	// documentation): a script may overrun it by some megabytes, and an
	// evaluation may be charged with what other goroutines allocate
	// while it runs. If zero, DefaultMaxMemory (256 MiB); if negative,
	// memory is not bounded. The WebAssembly engine ignores it: its
	// module has an exact cap of its own.
	MaxMemory int64

	// MaxCallStackSize limits the script's call depth. If zero,
	// DefaultMaxCallStackSize.
	MaxCallStackSize int

	// MaxScriptSize is the largest script Compile accepts, in bytes.
	// If zero, DefaultMaxScriptSize (1 MiB, Chromium's limit on a fetched
	// PAC file).
	MaxScriptSize int

	// MaxResultSize is the longest string FindProxyForURL may return, in
	// bytes; a longer one is an error. If zero, DefaultMaxResultSize.
	MaxResultSize int

	// FullURLs passes https:// and wss:// URLs to FindProxyForURL whole.
	// By default their path, query, fragment and user information are
	// removed first, as Chromium does, so that a script cannot read them.
	FullURLs bool

	// Alert receives the messages of the script's alert() calls. If nil,
	// they are discarded.
	Alert func(msg string)
}

func (o *Options) name() string {
	if o == nil || o.Name == "" {
		return "proxy.pac"
	}
	return o.Name
}

func (o *Options) timeout() time.Duration {
	if o == nil || o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}

func (o *Options) maxMemory() int64 {
	if o == nil || o.MaxMemory == 0 {
		return DefaultMaxMemory
	}
	if o.MaxMemory < 0 {
		return -1
	}
	return o.MaxMemory
}

func (o *Options) dnsTimeout() time.Duration {
	if o == nil || o.DNSTimeout <= 0 {
		return DefaultDNSTimeout
	}
	return o.DNSTimeout
}

func (o *Options) maxCallStackSize() int {
	if o == nil || o.MaxCallStackSize <= 0 {
		return DefaultMaxCallStackSize
	}
	return o.MaxCallStackSize
}

func (o *Options) maxScriptSize() int {
	if o == nil || o.MaxScriptSize <= 0 {
		return DefaultMaxScriptSize
	}
	return o.MaxScriptSize
}

func (o *Options) maxResultSize() int {
	if o == nil || o.MaxResultSize <= 0 {
		return DefaultMaxResultSize
	}
	return o.MaxResultSize
}

func (o *Options) now() func() time.Time {
	if o == nil || o.Now == nil {
		return time.Now
	}
	return o.Now
}

func (o *Options) location() *time.Location {
	if o == nil || o.Location == nil {
		return time.Local
	}
	return o.Location
}

// SystemResolver returns the resolver that [Compile] uses when
// Options.Resolver is nil: the system's, with timeout per lookup, IDN
// names converted to punycode, and a small positive and negative cache.
// It is safe for concurrent use.
func SystemResolver(timeout time.Duration) Resolver {
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	return newSystemResolver(timeout)
}

// SystemAddresses returns the function that [Compile] uses when
// Options.MyIPAddresses is nil: it finds the machine's addresses as
// Chromium does (see Options.MyIPAddresses), with timeout per search,
// and caches the answer. It is safe for concurrent use.
func SystemAddresses(timeout time.Duration) func(ctx context.Context) []netip.Addr {
	if timeout <= 0 {
		timeout = DefaultDNSTimeout
	}
	return newMyIPFinder(timeout)
}
