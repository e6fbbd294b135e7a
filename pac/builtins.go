package pac

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// host is what a compiled script asks of the outside world: the resolved,
// defaulted form of Options. It is immutable after Compile, apart from the
// caches, which are safe for concurrent use.
type host struct {
	resolver   Resolver
	dnsTimeout time.Duration
	myIPs      func(ctx context.Context) []netip.Addr
	now        func() time.Time
	loc        *time.Location
	alert      func(string)

	patterns shexpCache // shExpMatch globs, shared by all runtimes
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

	// The DNS lookup under way, which the evaluation's timer cancels
	// when it interrupts the script: a native call cannot be
	// interrupted, only made to return.
	lookupMu     sync.Mutex
	lookupCancel context.CancelFunc
	aborted      bool

	clock      time.Time
	clockValid bool
	memo       lookupMemo

	vTrue, vFalse goja.Value
	errorCtor     goja.Value // the Error constructor, as it was before the script ran

	patterns map[uintptr]*shexp // this runtime's view of h.patterns; see shExpMatch
	re       regexpState
	safeStr  string // the last string globSafe was asked about
	safeOK   bool
}

func newEvalState(vm *goja.Runtime, h *host) *evalState {
	st := &evalState{
		vm:       vm,
		h:        h,
		ctx:      context.Background(),
		vTrue:    vm.ToValue(true),
		vFalse:   vm.ToValue(false),
		patterns: make(map[uintptr]*shexp),
	}
	st.errorCtor = vm.Get("Error")
	st.initRegexp()
	installBuiltins(st)
	return st
}

// begin prepares st for one evaluation under ctx.
func (st *evalState) begin(ctx context.Context) {
	st.ctx = ctx
	st.trace = traceFromContext(ctx)
	st.clockValid = false
	st.memo = lookupMemo{}
}

// end drops references to the finished evaluation.
func (st *evalState) end() {
	st.ctx = context.Background()
	st.trace = nil
	st.memo = lookupMemo{}
}

func (st *evalState) bool(b bool) goja.Value {
	if b {
		return st.vTrue
	}
	return st.vFalse
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

// cachedResolver is implemented by resolvers that can answer from memory
// without blocking; lookup asks them first, which spares the context
// that a real lookup needs.
type cachedResolver interface {
	lookupCached(network, host string) (addrs []netip.Addr, ok bool)
}

// lookup resolves name for network "ip4" or "ip" through the configured
// resolver, bounded by the DNS timeout, the evaluation's deadline and its
// context. A name that does not resolve gives nil. IPv4 answers are
// always 4-byte addresses.
func (st *evalState) lookup(network, name string) []netip.Addr {
	if name == "" {
		return nil
	}
	// An IP literal "resolves" to itself without asking anyone, as
	// getaddrinfo does, whatever resolver is configured.
	lit := name
	if len(lit) > 2 && lit[0] == '[' && lit[len(lit)-1] == ']' {
		lit = lit[1 : len(lit)-1]
	}
	if a, ok := parseIPLiteral(lit); ok {
		if network == "ip4" && !a.Is4() {
			return nil
		}
		return []netip.Addr{a}
	}
	if st.memo.valid && st.memo.name == name && st.memo.network == network {
		return st.memo.addrs
	}
	var addrs []netip.Addr
	if c, ok := st.h.resolver.(cachedResolver); ok {
		addrs, ok = c.lookupCached(network, name)
		if !ok {
			addrs = st.resolve(network, name)
		}
	} else {
		addrs = st.resolve(network, name)
	}
	if network == "ip4" && !allIPv4(addrs) {
		// Keep only IPv4 answers: a resolver that ignores the network
		// must not leak IPv6 into dnsResolve. (addrs may be a cache's
		// own slice: it is never modified.)
		var out []netip.Addr
		for _, a := range addrs {
			if a = a.Unmap(); a.Is4() {
				out = append(out, a)
			}
		}
		addrs = out
	}
	st.memo = lookupMemo{valid: true, network: network, name: name, addrs: addrs}
	return addrs
}

// lookupMemo is the last answer of one evaluation: scripts ask about the
// same host over and over (isInNet(host, ...) rule after rule).
type lookupMemo struct {
	valid         bool
	network, name string
	addrs         []netip.Addr
}

func allIPv4(addrs []netip.Addr) bool {
	for _, a := range addrs {
		if !a.Is4() {
			return false
		}
	}
	return true
}

// resolve asks the resolver, bounded by the DNS timeout and ctx, and cut
// short if the evaluation times out meanwhile.
func (st *evalState) resolve(network, name string) []netip.Addr {
	ctx, cancel := lookupContext(st.ctx, st.h.dnsTimeout)
	defer cancel()
	st.lookupMu.Lock()
	if st.aborted {
		st.lookupMu.Unlock()
		return nil
	}
	st.lookupCancel = cancel
	st.lookupMu.Unlock()
	addrs, err := st.h.resolver.LookupNetIP(ctx, network, name)
	st.lookupMu.Lock()
	st.lookupCancel = nil
	st.lookupMu.Unlock()
	if err != nil {
		return nil
	}
	return addrs
}

// abortLookup ends the DNS lookup under way, and any the script would
// start after it: the evaluation has timed out. It may be called from any
// goroutine. (A runtime that has been aborted is never reused.)
func (st *evalState) abortLookup() {
	st.lookupMu.Lock()
	st.aborted = true
	if st.lookupCancel != nil {
		st.lookupCancel()
	}
	st.lookupMu.Unlock()
}

// myIPAddresses returns the machine's addresses, best first.
func (st *evalState) myIPAddresses() []netip.Addr {
	return st.h.myIPs(st.ctx)
}

// define installs a PAC built-in under name, with the given number of
// declared parameters (its length property). When the evaluation is being
// traced, every call is recorded with its arguments and result. A Go
// panic inside a built-in (a bug in pacd, never the script's doing)
// becomes a JavaScript Error at the call, so that the evaluation fails
// with the script's position instead of taking the process down.
func (st *evalState) define(name string, nargs int, fn func(goja.FunctionCall) goja.Value) {
	wrapped := func(call goja.FunctionCall) goja.Value {
		defer st.recoverBuiltin(name)
		if st.trace == nil {
			return fn(call)
		}
		res := fn(call)
		st.trace(newCall(name, call.Arguments, res))
		return res
	}
	f := st.vm.ToValue(wrapped).(*goja.Object)
	// goja names native functions after their Go symbol; give them the
	// names and lengths they have in browsers.
	if err := f.DefineDataProperty("name", st.vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		panic("pac: cannot name built-in " + name + ": " + err.Error())
	}
	if err := f.DefineDataProperty("length", st.vm.ToValue(nargs), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		panic("pac: cannot set length of built-in " + name + ": " + err.Error())
	}
	if err := st.vm.Set(name, f); err != nil {
		panic("pac: cannot define built-in " + name + ": " + err.Error())
	}
}

// recoverBuiltin turns a Go runtime panic in the built-in name into a
// JavaScript Error. Everything else that panics through a built-in is
// goja's own control flow (a thrown exception, an interrupt) and goes on.
func (st *evalState) recoverBuiltin(name string) {
	r := recover()
	if r == nil {
		return
	}
	if err, ok := r.(runtime.Error); ok {
		msg := fmt.Sprintf("pac: internal error in %s: %v", name, err)
		o, nerr := st.vm.New(st.errorCtor, st.vm.ToValue(msg))
		if nerr != nil {
			panic(r)
		}
		panic(o)
	}
	panic(r)
}

// installBuiltins defines the whole PAC function library in st's runtime.
func installBuiltins(st *evalState) {
	installMatch(st)
	installNet(st)
	installTime(st)
	installMisc(st)
}

// joinAddrs formats addresses as the Ex functions return them, separated
// by ';'.
func joinAddrs(addrs []netip.Addr) string {
	var b strings.Builder
	for i, a := range addrs {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(formatAddr(a))
	}
	return b.String()
}

// formatAddr formats a as Chromium's IPAddress::ToString does: IPv4 in
// dotted decimal, IPv6 as a URL host is serialised (RFC 5952 compression,
// and IPv4-mapped addresses in hexadecimal: "::ffff:a01:203", where
// netip writes "::ffff:10.1.2.3").
func formatAddr(a netip.Addr) string {
	if a.Is4In6() {
		b := a.As16()
		return fmt.Sprintf("::ffff:%x:%x", uint16(b[12])<<8|uint16(b[13]), uint16(b[14])<<8|uint16(b[15]))
	}
	return a.String()
}
