package pac

import (
	"context"
	"net/netip"
	"time"

	"github.com/dop251/goja"
)

// host is what a compiled script asks of the outside world: the resolved,
// defaulted form of Options. It is immutable after Compile.
type host struct {
	resolver   Resolver
	dnsTimeout time.Duration
	myIPs      func(ctx context.Context) []netip.Addr
	now        func() time.Time
	loc        *time.Location
	alert      func(string)
}

// evalState is the per-runtime state that PAC built-ins see. Each goja
// runtime has exactly one, owned by whichever goroutine holds the runtime.
// Fields that depend on the evaluation (ctx, trace, the clock reading) are
// reset by begin before every call.
type evalState struct {
	vm *goja.Runtime
	h  *host

	ctx   context.Context
	trace func(Call)

	clock      time.Time
	clockValid bool
}

// begin prepares st for one evaluation under ctx.
func (st *evalState) begin(ctx context.Context) {
	st.ctx = ctx
	st.trace = traceFromContext(ctx)
	st.clockValid = false
}

// end drops references to the finished evaluation.
func (st *evalState) end() {
	st.ctx = context.Background()
	st.trace = nil
}

// now returns the current time in the script's configured location. It is
// read once per evaluation, so that every time function of one call sees
// the same instant.
func (st *evalState) now() time.Time {
	if !st.clockValid {
		st.clock = st.h.now().In(st.h.loc)
		st.clockValid = true
	}
	return st.clock
}

// lookup resolves name for network "ip4" or "ip" through the configured
// resolver, bounded by the DNS timeout and the evaluation's context. A name
// that does not resolve gives nil.
func (st *evalState) lookup(network, name string) []netip.Addr {
	if name == "" {
		return nil
	}
	// An IP literal "resolves" to itself without asking anyone, as
	// getaddrinfo does, whatever resolver is configured.
	if a, err := netip.ParseAddr(name); err == nil && a.Zone() == "" {
		a = a.Unmap()
		if network == "ip4" && !a.Is4() {
			return nil
		}
		return []netip.Addr{a}
	}
	ctx, cancel := context.WithTimeout(st.ctx, st.h.dnsTimeout)
	defer cancel()
	addrs, err := st.h.resolver.LookupNetIP(ctx, network, name)
	if err != nil {
		return nil
	}
	if network == "ip4" {
		// Keep only IPv4 answers (as Unmap'd 4-byte addresses): a resolver
		// that ignores the network must not leak IPv6 into dnsResolve.
		out := addrs[:0:0]
		for _, a := range addrs {
			a = a.Unmap()
			if a.Is4() {
				out = append(out, a)
			}
		}
		return out
	}
	return addrs
}

// myIPAddresses returns the machine's addresses, best first.
func (st *evalState) myIPAddresses() []netip.Addr {
	return st.h.myIPs(st.ctx)
}

// define installs a PAC built-in under name. When the evaluation is being
// traced, every call is recorded with its arguments and result.
func (st *evalState) define(name string, fn func(goja.FunctionCall) goja.Value) {
	wrapped := func(call goja.FunctionCall) goja.Value {
		if st.trace == nil {
			return fn(call)
		}
		res := fn(call)
		st.trace(newCall(name, call.Arguments, res))
		return res
	}
	if err := st.vm.Set(name, wrapped); err != nil {
		panic("pac: cannot define built-in " + name + ": " + err.Error())
	}
}

// installBuiltins defines the whole PAC function library in st's runtime.
func installBuiltins(st *evalState) {
	installMatch(st)
	installNet(st)
	installTime(st)
	installMisc(st)
}
