package wasm

import (
	"bytes"
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/api"
)

// The host functions the module imports from "pac_host" (see
// cmd/pac-wasm). They run on the goroutine that called into the guest.

const i32 = api.ValueTypeI32

func (e *Engine) instantiateHost(ctx context.Context) error {
	_, err := e.rt.NewHostModuleBuilder("pac_host").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(e.dnsLookup), []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("family", "host", "host_len", "out", "out_cap").Export("dns_lookup").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(e.myIPAddresses), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("out", "out_cap").Export("my_ip_addresses").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(e.logMessage), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "msg", "msg_len").Export("log").
		Instantiate(ctx)
	return err
}

// maxDNSName is the longest name dns_lookup passes to the resolver: a DNS
// name has at most 253 characters, and a longer one cannot resolve.
const maxDNSName = 1024

// dnsLookup resolves a name for the guest. Its lookups are bounded by
// the DNS timeout and the deadline of the call in progress.
func (e *Engine) dnsLookup(ctx context.Context, m api.Module, stack []uint64) {
	family, hostPtr, hostLen := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
	out, outCap := uint32(stack[3]), uint32(stack[4])
	stack[0] = api.EncodeI32(-1)
	in := e.lookup(m)
	if in == nil || hostLen > maxDNSName {
		return
	}
	b, ok := m.Memory().Read(hostPtr, hostLen)
	if !ok {
		return
	}
	host := string(b)
	network := "ip"
	if family == 4 {
		network = "ip4"
	}
	deadline := time.Now().Add(in.s.dnsTimeout)
	if d := in.deadline; !d.IsZero() && d.Before(deadline) {
		deadline = d
	}
	if in.ctx != nil {
		ctx = in.ctx // ctx does not end when the caller's does
	}
	lctx, cancel := context.WithDeadline(ctx, deadline)
	addrs, err := in.s.resolver.LookupNetIP(lctx, network, host)
	cancel()
	if err != nil {
		return
	}
	stack[0] = api.EncodeI32(writeAddrs(m.Memory(), out, outCap, addrs))
}

// myIPAddresses gives the guest the machine's addresses.
func (e *Engine) myIPAddresses(ctx context.Context, m api.Module, stack []uint64) {
	out, outCap := uint32(stack[0]), uint32(stack[1])
	stack[0] = 0
	in := e.lookup(m)
	if in == nil {
		return
	}
	if in.ctx != nil {
		ctx = in.ctx
	}
	stack[0] = api.EncodeI32(writeAddrs(m.Memory(), out, outCap, in.s.myIPs(ctx)))
}

// writeAddrs writes as many of addrs as fit in outCap bytes at out,
// separated by ';', and returns the length written.
func writeAddrs(mem api.Memory, out, outCap uint32, addrs []netip.Addr) int32 {
	var b []byte
	for _, a := range addrs {
		n := len(b)
		if n > 0 {
			b = append(b, ';')
		}
		b = a.AppendTo(b)
		if len(b) > int(outCap) {
			b = b[:n]
			break
		}
	}
	if len(b) == 0 || !mem.Write(out, b) {
		return 0
	}
	return int32(len(b))
}

// logMessage receives the guest's log lines: alert() messages (level
// 0) and anything else it reports.
func (e *Engine) logMessage(_ context.Context, m api.Module, stack []uint64) {
	level, ptr, n := uint32(stack[0]), uint32(stack[1]), uint32(stack[2])
	in := e.lookup(m)
	if in == nil {
		return
	}
	b, ok := m.Memory().Read(ptr, n)
	if !ok {
		return
	}
	if level == 0 && in.s.alert != nil {
		in.s.alert(string(b))
		return
	}
	if !in.out.take(len(b)) {
		return
	}
	msg := truncate(b, maxLogLine)
	if level == 0 {
		e.log.Info("wasm: alert", "script", in.s.name, "msg", msg)
	} else {
		e.log.Info("wasm: guest", "script", in.s.name, "level", level, "msg", msg)
	}
}

// Bounds on what an instance may log: a script calling alert() in a
// loop, or a Go runtime printing every goroutine of a crash, must not
// flood the logs.
const (
	maxLogLine     = 1 << 10  // longest line logged; the rest is cut
	maxLogPerInst  = 16 << 10 // bytes logged per instance, then it is silenced
	logSilencedMsg = "wasm: guest output silenced after 16 KiB"
)

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// output collects one instance's standard output and error: it logs
// complete lines, up to a budget, and keeps the line of standard error
// that says why a guest died.
type output struct {
	e      *Engine
	script string

	mu       sync.Mutex
	budget   int
	silenced bool
	partial  [2][]byte // an unfinished line per stream
	fatal    string    // the first "fatal error: " or "panic: " line of standard error
}

func newOutput(e *Engine, script string) *output {
	return &output{e: e, script: script, budget: maxLogPerInst}
}

// take reports whether n more bytes may be logged, and spends them.
func (o *output) take(n int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.takeLocked(n)
}

func (o *output) takeLocked(n int) bool {
	if o.silenced {
		return false
	}
	if n > o.budget {
		o.silenced = true
		o.e.log.Warn(logSilencedMsg, "script", o.script)
		return false
	}
	o.budget -= n
	return true
}

func (o *output) write(stream int, p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	buf := append(o.partial[stream-1], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		o.logLine(stream, buf[:i])
		buf = buf[i+1:]
	}
	if len(buf) > maxLogLine {
		o.logLine(stream, buf)
		buf = nil
	}
	o.partial[stream-1] = append(o.partial[stream-1][:0], buf...)
}

func (o *output) logLine(stream int, line []byte) {
	if stream == 2 && o.fatal == "" && (bytes.HasPrefix(line, []byte("fatal error: ")) || bytes.HasPrefix(line, []byte("panic: "))) {
		o.fatal = truncate(line, maxLogLine)
	}
	if len(line) == 0 || !o.takeLocked(len(line)) {
		return
	}
	name := "stdout"
	if stream == 2 {
		name = "stderr"
	}
	o.e.log.Warn("wasm: guest output", "script", o.script, "stream", name, "line", truncate(line, maxLogLine))
}

// fatalLine returns the line of standard error in which the guest said
// why it died, if it did.
func (o *output) fatalLine() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fatal
}

// stream is an io.Writer for one of the guest's streams.
type stream struct {
	o *output
	n int // 1 standard output, 2 standard error
}

func (s stream) Write(p []byte) (int, error) {
	s.o.write(s.n, p)
	return len(p), nil
}
