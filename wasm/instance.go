package wasm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// An instance is one instance of the module with a script loaded. It is
// owned by one goroutine at a time, which calls into it; everything
// about the call in progress is read and written on that goroutine
// (the yield hook, which enforces the deadline, runs on it too), so
// none of it needs a lock.
type instance struct {
	e   *Engine
	s   *pool
	mod api.Module
	out *output

	fns map[string]api.Function // the exports, looked up once

	slot   uint32 // pac_interrupt_slot
	buf    uint32 // a guest buffer for the inputs of a call
	bufCap uint32
	stack  [4]uint64

	// The call in progress, if running.
	running  bool
	ctx      context.Context // the caller's, for the host functions
	done     <-chan struct{} // ctx.Done()
	deadline time.Time
	fired    reason    // why the interrupt of this call was written, if it was
	firedAt  time.Time // when it was written, or first tried
	killed   bool      // the call did not stop when asked, and was killed

	broken bool // the instance must not be used again
}

// reason says why a call was interrupted.
type reason uint8

const (
	notInterrupted reason = iota
	byDeadline
	byContext
)

// killGrace is how long after the interrupt (or the first try at it) a
// call that has not stopped is killed: a guest stuck outside the
// script's interpreter, which the interrupt does not reach.
const killGrace = 100 * time.Millisecond

// errKilled is the panic that kills a call, from the yield hook.
var errKilled = errors.New("wasm: the call did not stop when interrupted")

// yield is the module's sched_yield, which the code the host compiled
// calls every yieldEvery loops (see instrument). During a call that runs
// the script, it stops the script once the deadline has passed or the
// caller's context has ended, as the ABI says: it reads the interrupt
// slot and writes 1 at the address the slot holds, at most once per
// call. When the slot is 0 (the guest is between two runs of the
// script's interpreter), it tries again at the next yield. A call that
// still runs killGrace later is killed.
func (in *instance) yield() {
	if !in.running {
		return
	}
	now := time.Now()
	if in.fired == notInterrupted {
		why := notInterrupted
		if !now.Before(in.deadline) {
			why = byDeadline
		} else if in.done != nil {
			select {
			case <-in.done:
				why = byContext
			default:
			}
		}
		if why == notInterrupted {
			return
		}
		if in.firedAt.IsZero() {
			in.firedAt = now
		}
		mem := in.mod.Memory()
		if addr, ok := mem.ReadUint32Le(in.slot); ok && addr != 0 && mem.WriteUint32Le(addr, 1) {
			in.fired = why
			in.firedAt = now
			return
		}
		if now.Sub(in.firedAt) < killGrace {
			return
		}
		in.fired = why
	} else if now.Sub(in.firedAt) < killGrace {
		return
	}
	in.killed = true
	panic(errKilled)
}

// newInstance instantiates the module and loads p's script into it.
func (p *pool) newInstance(ctx context.Context) (_ *instance, err error) {
	e := p.e
	in := &instance{e: e, s: p}
	in.out = newOutput(e, p.name)
	defer func() {
		// wazero panics when a memory cannot be had, for one.
		if r := recover(); r != nil {
			err = fmt.Errorf("wasm: creating an instance: %v", r)
		}
		if err != nil {
			in.close()
		}
	}()
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions("_initialize").
		WithStdout(stream{in.out, 1}).
		WithStderr(stream{in.out, 2}).
		WithSysNanotime().
		WithOsyield(in.yield).
		WithRandSource(rand.Reader)
	if p.now != nil {
		now := p.now
		cfg = cfg.WithWalltime(func() (int64, int32) {
			t := now()
			return t.Unix(), int32(t.Nanosecond())
		}, 1000)
	} else {
		cfg = cfg.WithSysWalltime()
	}
	in.mod, err = e.rt.InstantiateModule(ctx, e.mod, cfg)
	if err != nil {
		return nil, in.failure("_initialize", err)
	}
	e.instances.Store(in.mod, in)
	in.fns = make(map[string]api.Function, len(exports))
	for _, name := range exports {
		in.fns[name] = in.mod.ExportedFunction(name)
	}

	v, err := in.call("pac_abi_version")
	if err != nil {
		return nil, err
	}
	if v := int32(v); v != ABIVersion {
		return nil, fmt.Errorf("wasm: the module speaks ABI version %d, this package version %d", v, ABIVersion)
	}
	v, err = in.call("pac_interrupt_slot")
	if err != nil {
		return nil, err
	}
	in.slot = uint32(v)
	if err := in.reserve(256); err != nil {
		return nil, err
	}
	if err := in.load(ctx); err != nil {
		return nil, err
	}
	return in, nil
}

// load loads the pool's script: the top level runs, under the script's
// deadline.
func (in *instance) load(ctx context.Context) error {
	cfg := in.s.loadConfig
	ptr, err := in.call("pac_alloc", uint64(len(cfg)))
	if err != nil {
		return err
	}
	if !in.mod.Memory().Write(uint32(ptr), cfg) {
		return errors.New("wasm: pac_alloc returned a buffer out of memory")
	}
	in.stack[0], in.stack[1] = ptr, uint64(len(cfg))
	why, err := in.run(ctx, "pac_load")
	if err != nil {
		return err
	}
	rc := int32(in.stack[0])
	if _, err := in.call("pac_free", ptr); err != nil {
		return err
	}
	if rc != 0 {
		ge, err := in.lastErr()
		if err != nil {
			return err
		}
		return in.s.guestError(ctx, ge, why)
	}
	return nil
}

// reserve makes the input buffer at least n bytes long.
func (in *instance) reserve(n int) error {
	if uint64(n) <= uint64(in.bufCap) {
		return nil
	}
	if n > 1<<30 {
		return errors.New("wasm: input too long")
	}
	size := max(uint32(n), 2*in.bufCap)
	if in.buf != 0 {
		if _, err := in.call("pac_free", uint64(in.buf)); err != nil {
			return err
		}
		in.buf, in.bufCap = 0, 0
	}
	ptr, err := in.call("pac_alloc", uint64(size))
	if err != nil {
		return err
	}
	in.buf, in.bufCap = uint32(ptr), size
	return nil
}

// call calls a guest function that runs no script, with up to two
// arguments, and returns its result. It is not interrupted, and does not
// heed a context: it may be needed after the caller's has ended, to read
// what the guest made of it.
func (in *instance) call(name string, args ...uint64) (uint64, error) {
	copy(in.stack[:], args)
	if err := in.fn(name).CallWithStack(context.Background(), in.stack[:]); err != nil {
		in.broken = true
		return 0, in.failure(name, err)
	}
	return in.stack[0], nil
}

// run calls fn, a guest function that runs the script, with the
// arguments in in.stack, under the script's timeout and ctx: the yield
// hook interrupts it at the deadline, and when ctx ends. It returns why
// it was interrupted, if it was; a call that failed at the wazero level
// gives err, and breaks the instance. If ctx has ended or the deadline
// has passed already, fn is not called, and err says why, as in package
// pac.
//
// An interrupted call leaves the instance usable: the guest's engine
// notices the interrupt when its run ends, and does not use that run's
// interpreter again.
func (in *instance) run(ctx context.Context, name string) (why reason, err error) {
	if err := ctx.Err(); err != nil {
		return notInterrupted, err
	}
	timeout := in.s.timeout
	if name == "pac_load" {
		// The load parses and compiles the script before its top level
		// runs, which the native engine does outside the deadline; inside
		// WebAssembly that takes some twenty times longer, so a large
		// script gets time in proportion to its size (a 300 KB script a
		// few seconds more).
		timeout += loadAllowance(len(in.s.loadConfig))
	}
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d < timeout {
			timeout = d
		}
	}
	if timeout <= 0 {
		return notInterrupted, pac.ErrTimeout
	}
	in.ctx, in.done, in.deadline = ctx, ctx.Done(), time.Now().Add(timeout)
	in.fired, in.firedAt, in.killed = notInterrupted, time.Time{}, false
	in.running = true
	callErr := in.fn(name).CallWithStack(ctx, in.stack[:])
	in.running = false
	why, killed := in.fired, in.killed
	in.ctx, in.done = nil, nil
	if callErr != nil {
		in.broken = true
		if killed {
			in.e.log.Warn("wasm: killed a call that did not stop when interrupted", "script", in.s.name, "call", name)
			return why, in.s.interrupted(ctx, why)
		}
		return why, in.failure(name, callErr)
	}
	return why, nil
}

// failure describes a call that failed at the wazero level: the guest
// trapped, exited or ran out of memory. It prefers the guest's own
// account, from its standard error.
func (in *instance) failure(what string, err error) error {
	fatal := in.out.fatalLine()
	if strings.Contains(fatal, "out of memory") {
		return fmt.Errorf("%w (the limit is %d MiB)", ErrMemoryLimit, in.e.memLimit/16)
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if fatal != "" {
		msg += ": " + fatal
	}
	in.e.log.Warn("wasm: instance failed", "script", in.s.name, "call", what, "err", msg)
	return fmt.Errorf("wasm: %s: %s", what, msg)
}

// ErrMemoryLimit reports an evaluation, or the load of a script, that
// needed more memory than Config.MemoryLimitPages allows.
var ErrMemoryLimit = errors.New("wasm: the script ran out of memory")

// guestError is the module's description of a failure (see cmd/pac-wasm).
type guestError struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Msg     string `json:"msg"`
	Name    string `json:"name"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Stack   string `json:"stack"`
}

// lastErr reads pac_last_error.
func (in *instance) lastErr() (*guestError, error) {
	packed, err := in.call("pac_last_error")
	if err != nil {
		return nil, err
	}
	b, err := in.read(packed)
	if err != nil {
		return nil, err
	}
	ge := new(guestError)
	if err := json.Unmarshal(b, ge); err != nil {
		in.broken = true
		return nil, fmt.Errorf("wasm: pac_last_error: %v", err)
	}
	return ge, nil
}

// read returns a view of the packed string result of a call: valid
// until the next call.
func (in *instance) read(packed uint64) ([]byte, error) {
	ptr, n := uint32(packed>>32), uint32(packed)
	b, ok := in.mod.Memory().Read(ptr, n)
	if !ok {
		in.broken = true
		return nil, fmt.Errorf("wasm: result out of memory (%#x, %d bytes)", ptr, n)
	}
	return b, nil
}

// eval evaluates the script for url and host with pac_find, or
// pac_find_traced. It returns the guest's packed result (a view of its
// memory, valid until the next call) or its error, and why the call was
// interrupted.
func (in *instance) eval(ctx context.Context, traced bool, url, host string) (res []byte, ge *guestError, why reason, err error) {
	if err := in.reserve(len(url) + len(host)); err != nil {
		return nil, nil, notInterrupted, err
	}
	mem := in.mod.Memory()
	if !mem.WriteString(in.buf, url) || !mem.WriteString(in.buf+uint32(len(url)), host) {
		in.broken = true
		return nil, nil, notInterrupted, errors.New("wasm: input buffer out of memory")
	}
	in.stack = [4]uint64{uint64(in.buf), uint64(len(url)), uint64(in.buf) + uint64(len(url)), uint64(len(host))}
	fn := "pac_find"
	if traced {
		fn = "pac_find_traced"
	}
	why, err = in.run(ctx, fn)
	if err != nil {
		return nil, nil, why, err
	}
	if packed := in.stack[0]; int64(packed) != -1 {
		res, err = in.read(packed)
		return res, nil, why, err
	}
	ge, err = in.lastErr()
	return nil, ge, why, err
}

func (in *instance) fn(name string) api.Function { return in.fns[name] }

// close closes the instance. No call may be in progress.
func (in *instance) close() {
	if in.mod != nil {
		in.e.instances.Delete(in.mod)
		_ = in.mod.Close(context.Background())
	}
}

// loadAllowance is the time pac_load gets beyond the script's timeout to
// parse and compile size bytes of configuration: 10 s per MiB.
func loadAllowance(size int) time.Duration {
	return time.Duration(size) * 10 * time.Second / (1 << 20)
}
