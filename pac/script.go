package pac

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/pacd/pacd/internal/hostname"
)

// A Script is a compiled PAC script. It is immutable and safe for
// concurrent use: every evaluation runs in a JavaScript runtime of its own,
// taken from a pool that grows with the number of concurrent callers.
//
// Each runtime runs the script's top level once, when it is created.
// Global variables that the script changes during an evaluation are
// therefore private to one runtime; a PAC script that keeps state between
// calls (rare, and never portable across browsers) may see a different
// state on each call.
type Script struct {
	prog    *goja.Program
	name    string
	entry   string // "FindProxyForURL" or "FindProxyForURLEx"
	h       *host
	timeout time.Duration
	stack   int
	maxRes  int
	full    bool
	maxMem  int64 // < 0: no bound
	memErr  error

	mu      sync.Mutex
	idle    []*jsRuntime
	maxIdle int

	parsed resultCache
}

// jsRuntime is one goja runtime prepared with the PAC built-ins and the
// script's top level. It is owned by one goroutine at a time.
type jsRuntime struct {
	vm   *goja.Runtime
	st   *evalState
	fn   goja.Callable
	args [2]goja.Value // the entry point's arguments during a call

	timer *time.Timer // interrupts vm at the deadline; armed per evaluation
	mem   memEntry    // the memory watcher's entry; registered per evaluation

	describer goja.Callable // exceptionMessage, as a call into vm

	flag *uint32 // goja's interrupt word, found once by the WebAssembly build
}

// Compile compiles src, a PAC script, and runs its top level once to check
// that it defines an entry point: FindProxyForURLEx when the script defines
// it (as pacparser and Windows' WinHTTP do), otherwise FindProxyForURL.
// opts may be nil.
//
// A script that cannot be parsed gives a [*SyntaxError]; one whose top
// level throws gives a [*ScriptError]; one whose top level needs more
// memory than Options.MaxMemory, an error that is [ErrMemoryLimit]; one
// without an entry point gives [ErrNoEntryPoint]; one larger than
// Options.MaxScriptSize gives [ErrScriptTooLarge]. A leading byte order mark is ignored.
func Compile(src string, opts *Options) (*Script, error) {
	name := opts.name()
	if len(src) > opts.maxScriptSize() {
		return nil, fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrScriptTooLarge, name, len(src), opts.maxScriptSize())
	}
	src = strings.TrimPrefix(src, "\ufeff")
	if !utf8.ValidString(src) {
		// Firefox reads a script that is not valid UTF-8 as Latin-1; do the
		// same rather than let invalid bytes reach the parser.
		src = latin1ToUTF8(src)
	}
	prog, err := compileProgram(name, src)
	if err != nil {
		return nil, err
	}
	s := &Script{
		prog:    prog,
		name:    name,
		h:       newHost(opts),
		timeout: opts.timeout(),
		stack:   opts.maxCallStackSize(),
		maxRes:  opts.maxResultSize(),
		full:    opts != nil && opts.FullURLs,
		maxMem:  opts.maxMemory(),
		maxIdle: 2 * runtime.GOMAXPROCS(0),
	}
	if s.maxMem >= 0 {
		s.memErr = memoryLimitError(s.maxMem)
		startMemWatcher()
	}
	rt, err := s.newRuntime(context.Background())
	if err != nil {
		return nil, err
	}
	s.put(rt)
	return s, nil
}

func newHost(opts *Options) *host {
	h := &host{
		dnsTimeout: opts.dnsTimeout(),
		now:        opts.now(),
		loc:        opts.location(),
		alert:      func(string) {},
	}
	if opts != nil && opts.Resolver != nil {
		h.resolver = opts.Resolver
	} else {
		h.resolver = newSystemResolver(h.dnsTimeout)
	}
	if opts != nil && opts.MyIPAddresses != nil {
		h.myIPs = opts.MyIPAddresses
	} else {
		h.myIPs = newMyIPFinder(h.dnsTimeout)
	}
	if opts != nil && opts.Alert != nil {
		h.alert = opts.Alert
	}
	return h
}

// compileProgram parses and compiles src, turning goja's errors into
// *SyntaxError with a position.
func compileProgram(name, src string) (*goja.Program, error) {
	ast, err := parser.ParseFile(nil, name, src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			e := list[0]
			return nil, &SyntaxError{Name: name, Line: e.Position.Line, Column: e.Position.Column, Msg: "SyntaxError: " + e.Message}
		}
		return nil, &SyntaxError{Name: name, Msg: "SyntaxError: " + err.Error()}
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		se := &SyntaxError{Name: name, Msg: "SyntaxError: " + err.Error()}
		var ce *goja.CompilerSyntaxError
		if errors.As(err, &ce) {
			se.Msg = "SyntaxError: " + ce.Message
			if ce.File != nil {
				p := ce.File.Position(ce.Offset)
				se.Line, se.Column = p.Line, p.Column
			}
		}
		return nil, se
	}
	return prog, nil
}

// newRuntime prepares a runtime: the built-ins, the script's top level
// (bounded by the script's timeout and ctx), and its entry point.
func (s *Script) newRuntime(ctx context.Context) (*jsRuntime, error) {
	vm := goja.New()
	vm.SetMaxCallStackSize(s.stack)
	vm.SetTimeSource(s.h.now)
	installBounds(vm)
	st := newEvalState(vm, s.h)
	rt := &jsRuntime{vm: vm, st: st, mem: memEntry{limit: s.maxMem, err: s.memErr}}
	rt.describer, _ = goja.AssertFunction(vm.ToValue(func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(exceptionMessage(call.Argument(0)))
	}))
	rt.timer = time.AfterFunc(time.Hour, func() {
		vm.Interrupt(ErrTimeout)
		st.abortLookup()
	})
	rt.timer.Stop()

	// The top level may call built-ins (a DNS lookup, say): give them the
	// deadline, but no trace, which belongs to the evaluation that
	// happened to need a new runtime.
	st.begin(ctx)
	st.trace = nil
	defer st.end()
	_, prepErr, reusable, err := rt.guard(ctx, s.timeout, func(rt *jsRuntime) (goja.Value, error) {
		if _, err := vm.RunProgram(s.prog); err != nil {
			return nil, err
		}
		for _, name := range [...]string{"FindProxyForURLEx", "FindProxyForURL"} {
			v, err := getGlobal(vm, name)
			if err != nil {
				return nil, err
			}
			if fn, ok := goja.AssertFunction(v); ok {
				rt.fn = fn
				if s.entry == "" {
					s.entry = name
				}
				break
			}
		}
		return nil, nil
	})
	if err == nil {
		err = prepErr
	}
	if rt.mem.hit {
		// Whatever the top level did once interrupted for its memory,
		// the memory is the cause.
		return nil, s.memErr
	}
	if err == nil && !reusable {
		// The top level finished just as its deadline came: an interrupt
		// may still be pending in the runtime, so it cannot be used.
		err = ErrTimeout
	}
	if err != nil {
		return nil, s.scriptError(err)
	}
	if rt.fn == nil {
		return nil, ErrNoEntryPoint
	}
	return rt, nil
}

// guard runs f with the runtime armed to be interrupted at the deadline
// (the sooner of timeout and ctx's deadline), when ctx ends, or when the
// memory watcher finds the heap grown past the runtime's limit (then
// rt.mem.hit is set when guard returns), and returns what f returned; f
// reports an interruption through the error of the goja call it makes.
// guard also reports whether the runtime may be reused: not when an
// interrupt fired (or was firing as f returned, and may still be
// pending), nor when f panicked, which guard turns into err.
// If ctx has already ended or the deadline has passed, f is not run and
// err says why. (f takes the runtime rather than closing over it so that
// the evaluations' f, a plain function, costs no allocation.)
func (rt *jsRuntime) guard(ctx context.Context, timeout time.Duration, f func(*jsRuntime) (goja.Value, error)) (res goja.Value, callErr error, reusable bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, true, err
	}
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d < timeout {
			timeout = d
		}
	}
	if timeout <= 0 {
		return nil, nil, true, ErrTimeout
	}
	var stopCtx func() bool
	if ctx.Done() != nil {
		vm := rt.vm
		stopCtx = context.AfterFunc(ctx, func() { vm.Interrupt(context.Cause(ctx)) })
	}
	rt.timer.Reset(timeout)
	watchMem(rt)
	beginRun(rt)
	defer func() {
		memHit := unwatchMem(rt)
		timerStopped := rt.timer.Stop()
		ctxStopped := stopCtx == nil || stopCtx()
		reusable = timerStopped && ctxStopped && !endRun(rt) && !memHit
		if r := recover(); r != nil {
			reusable = false
			err = fmt.Errorf("pac: internal error: %v", r)
		}
	}()
	res, callErr = f(rt)
	// The goja errors are told apart by their types, not with errors.As:
	// a *goja.Exception's Unwrap may read a property of the thrown
	// value, which runs the script's getters.
	switch e := callErr.(type) {
	case *goja.InterruptedError:
		// Whoever interrupted it, a runtime stopped halfway through the
		// script may hold half-made state: it is not reused.
		return res, callErr, false, nil
	case *goja.Exception:
		// Describe the exception now, while the deadline holds: its name,
		// message and toString may be the script's own getters, which
		// may loop or throw.
		th, stop := rt.describe(e)
		if stop != nil {
			return res, stop, false, nil
		}
		return res, th, true, nil
	}
	return res, callErr, true, nil
}

// A thrownError is an exception that the script threw, with its message
// read while the deadline held.
type thrownError struct {
	msg   string
	stack []goja.StackFrame
}

func (e *thrownError) Error() string { return e.msg }

// describe reads the message of ex, which the script threw (see
// exceptionMessage). Reading it runs the script's code when the thrown
// value has getters, a toString or Proxy traps; rt.describer runs it as a
// call into the runtime, so that goja catches what that code throws (the
// message is then only "uncaught exception") and leaves the runtime
// clean. If the code is interrupted, describe returns the interruption.
func (rt *jsRuntime) describe(ex *goja.Exception) (*thrownError, error) {
	th := &thrownError{msg: "uncaught exception", stack: ex.Stack()}
	v := ex.Value()
	if v == nil {
		return th, nil
	}
	msg, err := rt.describer(goja.Undefined(), v)
	switch err.(type) {
	case nil:
		th.msg = msg.String()
	case *goja.InterruptedError:
		return nil, err
	}
	return th, nil
}

// getGlobal returns the global variable name. It reads it through a call
// into vm, so that an exception that a getter of the script throws
// becomes the error, and leaves the runtime clean.
func getGlobal(vm *goja.Runtime, name string) (goja.Value, error) {
	get, _ := goja.AssertFunction(vm.ToValue(func(goja.FunctionCall) goja.Value { return vm.Get(name) }))
	return get(goja.Undefined())
}

// callEntry calls the script's entry point with the arguments in rt.args.
func callEntry(rt *jsRuntime) (goja.Value, error) {
	return rt.fn(goja.Undefined(), rt.args[:]...)
}

func (s *Script) get(ctx context.Context) (*jsRuntime, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		rt := s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return rt, nil
	}
	s.mu.Unlock()
	return s.newRuntime(ctx)
}

func (s *Script) put(rt *jsRuntime) {
	s.mu.Lock()
	if len(s.idle) < s.maxIdle {
		s.idle = append(s.idle, rt)
		rt = nil
	}
	s.mu.Unlock()
	if rt != nil {
		rt.timer.Stop()
	}
}

// Entry returns the name of the function that evaluations call:
// "FindProxyForURLEx" or "FindProxyForURL".
func (s *Script) Entry() string { return s.entry }

// Name returns the script's name, as given in Options.Name.
func (s *Script) Name() string { return s.name }

// Eval calls the script's entry point with url and host and returns the
// string it returned, unparsed. If host is empty it is derived from url:
// its host name, lower-cased, without brackets or port.
//
// Unless Options.FullURLs is set, the URL is sanitised first, as Chromium
// does: user information and fragment are removed from every URL, and the
// path and query from https:// and wss:// URLs, leaving
// "https://host:port/".
//
// Eval returns [ErrTimeout] when the script runs past its deadline, an
// error that is [ErrMemoryLimit] when it makes the heap grow past
// Options.MaxMemory, ctx's error when ctx ends first, and a
// [*ScriptError] when the script throws, overflows its stack, or returns
// something other than a string (or a string longer than
// Options.MaxResultSize).
func (s *Script) Eval(ctx context.Context, url, host string) (string, error) {
	url = sanitizeURL(url, s.full)
	if host == "" {
		host = hostOf(url)
	}
	rt, err := s.get(ctx)
	if err != nil {
		return "", err
	}
	rt.args[0], rt.args[1] = rt.vm.ToValue(url), rt.vm.ToValue(host)
	rt.st.begin(ctx)
	res, callErr, reusable, err := rt.guard(ctx, s.timeout, callEntry)
	rt.st.end()
	rt.args = [2]goja.Value{}
	if reusable {
		s.put(rt)
	} else {
		rt.timer.Stop()
	}
	if err != nil {
		return "", err
	}
	if callErr != nil {
		if !reusable && ctx.Err() == nil {
			if rt.mem.hit {
				return "", s.memErr
			}
			// The deadline passed while the script failed, for instance
			// in a built-in that overran it: the timeout is the cause.
			return "", ErrTimeout
		}
		return "", s.scriptError(callErr)
	}
	return s.result(res)
}

// FindProxyForURL evaluates the script for u and parses its answer with
// [ParseResult]. The host passed to the script is u's host name, lower
// case, without brackets. Entries of the answer that cannot be parsed are
// dropped, as Chromium drops them; an answer with no valid entry means
// DIRECT. (Call Eval and ParseResult to see what was dropped.) The Result
// is the caller's to keep and modify.
func (s *Script) FindProxyForURL(ctx context.Context, u *url.URL) (Result, error) {
	var us string
	if !s.full && u.Opaque == "" && (u.Scheme == "https" || u.Scheme == "wss") {
		us = u.Scheme + "://" + u.Host + "/" // what sanitizeURL would leave
	} else {
		us = u.String()
	}
	raw, err := s.Eval(ctx, us, hostname.Lower(u.Hostname()))
	if err != nil {
		return nil, err
	}
	return s.parsed.parse(raw), nil
}

// resultCache remembers how the strings a script returns parse: a script
// returns few distinct strings, and parsing one costs more than the
// evaluation's bookkeeping.
type resultCache struct {
	m sync.Map // string -> Result
	n atomic.Int32
}

func (c *resultCache) parse(raw string) Result {
	if r, ok := c.m.Load(raw); ok {
		return slices.Clone(r.(Result))
	}
	r, _ := ParseResult(raw)
	if c.n.Load() < maxCachedResults {
		if _, loaded := c.m.LoadOrStore(raw, slices.Clone(r)); !loaded {
			c.n.Add(1)
		}
	}
	return r
}

// maxCachedResults bounds the cache of parsed results, against a script
// that returns a different string every time.
const maxCachedResults = 1024

func (s *Script) result(v goja.Value) (string, error) {
	str, ok := v.(goja.String)
	if !ok {
		what := "undefined"
		if v != nil && !goja.IsUndefined(v) {
			what = typeName(v)
		}
		return "", &ScriptError{Name: s.name, Msg: fmt.Sprintf("%s() did not return a string (it returned %s)", s.entry, what)}
	}
	if str.Length() > s.maxRes {
		return "", &ScriptError{Name: s.name, Msg: fmt.Sprintf("%s() returned a string of %d characters, the limit is %d", s.entry, str.Length(), s.maxRes)}
	}
	out := str.String()
	for i := 0; i < len(out); i++ {
		if out[i] >= utf8.RuneSelf {
			return "", &ScriptError{Name: s.name, Msg: fmt.Sprintf("%s() returned a string with non-ASCII characters: %q", s.entry, out)}
		}
	}
	return out, nil
}

func typeName(v goja.Value) string {
	switch {
	case goja.IsNull(v):
		return "null"
	case v.ExportType() == nil:
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, isFn := goja.AssertFunction(o); isFn {
			return "a function"
		}
		return "an object"
	}
	switch v.Export().(type) {
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return "a " + v.ExportType().String()
}

// scriptError converts an error from goja into one of this package's.
//
// It must not run the script's code, which the deadline no longer bounds:
// guard has already turned a *goja.Exception into a *thrownError.
func (s *Script) scriptError(err error) error {
	switch e := err.(type) {
	case *goja.InterruptedError:
		if e, ok := e.Value().(error); ok {
			return e
		}
		return ErrTimeout
	case *goja.StackOverflowError:
		se := &ScriptError{Name: s.name, Msg: "RangeError: maximum call stack size exceeded"}
		s.locate(se, e.Stack())
		return se
	case *thrownError:
		se := &ScriptError{Name: s.name, Msg: e.msg}
		s.locate(se, e.stack)
		return se
	case *goja.Exception:
		// Not described under the deadline (guard describes every
		// exception): say no more than its position.
		se := &ScriptError{Name: s.name, Msg: "uncaught exception"}
		s.locate(se, e.Stack())
		return se
	}
	if err == ErrTimeout || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &ScriptError{Name: s.name, Msg: err.Error()}
}

// locate fills in se's position from the innermost stack frame that lies in
// the script, and its stack trace.
func (s *Script) locate(se *ScriptError, stack []goja.StackFrame) {
	var b strings.Builder
	for i := range stack {
		f := &stack[i]
		p := f.Position()
		if p.Line == 0 {
			continue
		}
		if se.Line == 0 {
			se.Line, se.Column = p.Line, p.Column
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fn := f.FuncName()
		if fn == "" {
			fn = "<top level>"
		}
		fmt.Fprintf(&b, "at %s (%s:%d:%d)", fn, s.name, p.Line, p.Column)
	}
	se.Stack = b.String()
}

// exceptionMessage describes v, a value the script threw. It runs the
// script's code when v has getters, a toString or Proxy traps: it is
// called only through jsRuntime.describe, under the deadline.
func exceptionMessage(v goja.Value) string {
	if v == nil {
		return "uncaught exception"
	}
	if o, ok := v.(*goja.Object); ok {
		// Error objects: "Name: message", as browsers print them.
		name, msg := o.Get("name"), o.Get("message")
		if name != nil && msg != nil && !goja.IsUndefined(name) {
			if m := msg.String(); m != "" {
				return name.String() + ": " + m
			}
			return name.String()
		}
	}
	return "uncaught exception: " + v.String()
}

func latin1ToUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
