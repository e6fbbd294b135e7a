package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/pacd/pacd/internal/hostname"
	"github.com/pacd/pacd/pac"
)

// A Script is a PAC script loaded into instances of the module. It is
// safe for concurrent use: each evaluation runs in an instance of its
// own, taken from a pool of at most Config.MaxInstances. As with
// pac.Script, each instance runs the script's top level once, so global
// state that the script changes is private to one instance.
//
// Close releases the instances; a Script that is no longer referenced
// releases them when the garbage collector finds it, so that a program
// that swaps scripts (such as a resolver.PACFile) need not close them.
type Script struct {
	p *pool
}

// pool is a Script's state: what every instance needs to load and run
// the script, and the idle instances. It never refers to its Script,
// whose cleanup closes it.
type pool struct {
	e          *Engine
	name       string
	loadConfig []byte // pac_load's JSON
	timeout    time.Duration
	dnsTimeout time.Duration
	resolver   pac.Resolver
	myIPs      func(context.Context) []netip.Addr
	now        func() time.Time // nil: the system's clock
	alert      func(string)     // nil: the engine's logger
	full       bool

	idle   chan *instance
	tokens chan struct{} // one per instance in existence or being made

	mu     sync.Mutex // orders put against close
	closed atomic.Bool

	parsed resultCache
}

// loadConfig is pac_load's configuration (see cmd/pac-wasm).
type loadConfig struct {
	Source           string `json:"source"`
	Name             string `json:"name"`
	Zone             string `json:"zone"`
	FullURLs         bool   `json:"full_urls"`
	MaxCallStackSize int    `json:"max_call_stack_size"`
	MaxScriptSize    int    `json:"max_script_size"`
	MaxResultSize    int    `json:"max_result_size"`
}

// Compile loads src, a PAC script, into an instance of the module, which
// runs its top level once, as [pac.Compile] does, and returns the
// Script. It honours every field of opts as pac.Compile does, with these
// differences:
//
//   - Location is passed to the guest by name (loc.String()), and must
//     name a zone of the IANA database, as time.LoadLocation's do; nil
//     and time.Local mean the machine's zone, found by name from $TZ or
//     the /etc/localtime link, or UTC where it has no name. It is also
//     the zone of the script's Date objects (pac.Compile leaves those
//     the process's zone).
//   - Timeout is enforced by the host, which stops the guest from
//     outside; MaxCallStackSize, MaxScriptSize and MaxResultSize are the
//     guest engine's, as natively.
//   - Alert, if nil, sends alert() messages to Config.Logger.
//   - MaxMemory is ignored: Config.MemoryLimitPages caps each
//     instance's memory, exactly, and the guest runs no memory watcher.
//
// Its errors are pac.Compile's: a [*pac.SyntaxError], a
// [*pac.ScriptError], [pac.ErrNoEntryPoint], [pac.ErrScriptTooLarge] or
// [pac.ErrTimeout], with the same messages; and [ErrMemoryLimit] for a
// top level that needs more memory than the cap. ctx bounds the load.
func (e *Engine) Compile(ctx context.Context, src string, opts *pac.Options) (*Script, error) {
	if err := e.enter(); err != nil {
		return nil, err
	}
	defer e.leave()
	if opts == nil {
		opts = &pac.Options{}
	}
	name := opts.Name
	if name == "" {
		name = "proxy.pac"
	}
	limit := opts.MaxScriptSize
	if limit <= 0 {
		limit = pac.DefaultMaxScriptSize
	}
	if len(src) > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, the limit is %d", pac.ErrScriptTooLarge, name, len(src), limit)
	}
	// The source crosses in JSON, which has no room for bytes that are
	// not UTF-8: read such a script as Latin-1 here, as pac.Compile does
	// (after dropping a byte order mark), and let the guest take the
	// result even if it has grown past the limit.
	src = strings.TrimPrefix(src, "\ufeff")
	maxSize := opts.MaxScriptSize
	if !utf8.ValidString(src) {
		src = latin1ToUTF8(src)
		if len(src) > limit {
			maxSize = len(src)
		}
	}
	cfg, err := json.Marshal(loadConfig{
		Source:           src,
		Name:             opts.Name,
		Zone:             zoneName(opts.Location),
		FullURLs:         opts.FullURLs,
		MaxCallStackSize: opts.MaxCallStackSize,
		MaxScriptSize:    maxSize,
		MaxResultSize:    opts.MaxResultSize,
	})
	if err != nil {
		return nil, fmt.Errorf("wasm: %v", err)
	}
	p := &pool{
		e:          e,
		name:       name,
		loadConfig: cfg,
		timeout:    opts.Timeout,
		dnsTimeout: opts.DNSTimeout,
		resolver:   opts.Resolver,
		myIPs:      opts.MyIPAddresses,
		now:        opts.Now,
		alert:      opts.Alert,
		full:       opts.FullURLs,
		idle:       make(chan *instance, e.maxInst),
		tokens:     make(chan struct{}, e.maxInst),
	}
	if p.timeout <= 0 {
		p.timeout = pac.DefaultTimeout
	}
	if p.dnsTimeout <= 0 {
		p.dnsTimeout = pac.DefaultDNSTimeout
	}
	if p.resolver == nil {
		p.resolver = pac.SystemResolver(p.dnsTimeout)
	}
	if p.myIPs == nil {
		p.myIPs = pac.SystemAddresses(p.dnsTimeout)
	}
	p.tokens <- struct{}{}
	in, err := p.newInstance(ctx)
	if err != nil {
		return nil, err
	}
	p.idle <- in
	s := &Script{p: p}
	runtime.AddCleanup(s, func(p *pool) { p.close() }, p)
	return s, nil
}

// Name returns the script's name, as given in Options.Name ("proxy.pac"
// if it was empty).
func (s *Script) Name() string { return s.p.name }

// MemoryLimit returns the memory cap of each of the script's instances,
// in bytes (Config.MemoryLimitPages pages of 64 KiB). Package
// github.com/pacd/pacd/pac/pactest reads it to hold the script to the
// sandbox's expected errors.
func (s *Script) MemoryLimit() uint64 { return uint64(s.p.e.memLimit) << 16 }

// Close closes the script's instances, waiting for none: those in use
// close when their evaluation ends. Evaluations after Close give
// [ErrClosed].
func (s *Script) Close() error {
	s.p.close()
	return nil
}

// Eval calls the script's entry point with url and host and returns the
// string it returned, unparsed, as [pac.Script.Eval] does, with the same
// sanitising of url, the same errors and the same messages: [pac.ErrTimeout]
// when the script runs past its deadline, ctx's error when ctx ends
// first, a [*pac.ScriptError] when the script throws or returns
// something other than a string. Calls traced with [pac.WithTrace] are
// reported before Eval returns. Beyond those, it returns [ErrMemoryLimit]
// when the script needs more memory than the cap, and an error from this
// package when the instance failed otherwise; either way the instance is
// replaced. Eval waits for an instance, bounded by ctx, when all are in
// use.
func (s *Script) Eval(ctx context.Context, url, host string) (string, error) {
	if trace := pac.TraceFunc(ctx); trace != nil {
		res, calls, err := s.EvalTraced(ctx, url, host)
		for _, c := range calls {
			trace(c)
		}
		return res, err
	}
	res, _, err := s.p.eval(ctx, false, url, host)
	return res, err
}

// EvalTraced is Eval that also returns the PAC built-ins the script
// called, in order, with their arguments and results, as [pac.WithTrace]
// reports them; the calls are returned when the evaluation fails, too.
func (s *Script) EvalTraced(ctx context.Context, url, host string) (string, []pac.Call, error) {
	return s.p.eval(ctx, true, url, host)
}

// FindProxyForURL evaluates the script for u and parses its answer, as
// [pac.Script.FindProxyForURL] does: the script sees u's host name, lower
// case, without brackets; entries that cannot be parsed are dropped, and
// an answer without a valid entry means DIRECT. The Result is the
// caller's.
func (s *Script) FindProxyForURL(ctx context.Context, u *url.URL) (pac.Result, error) {
	var us string
	if !s.p.full && u.Opaque == "" && (u.Scheme == "https" || u.Scheme == "wss") {
		us = u.Scheme + "://" + u.Host + "/"
	} else {
		us = u.String()
	}
	raw, err := s.Eval(ctx, us, hostname.Lower(u.Hostname()))
	if err != nil {
		return nil, err
	}
	return s.p.parsed.parse(raw), nil
}

// tracedResult is pac_find_traced's answer (see cmd/pac-wasm).
type tracedResult struct {
	Result *string      `json:"result"`
	Error  *guestError  `json:"error"`
	Calls  []tracedCall `json:"calls"`
}

type tracedCall struct {
	Func   string   `json:"func"`
	Args   []string `json:"args"`
	Result string   `json:"result"`
}

func (p *pool) eval(ctx context.Context, traced bool, url, host string) (string, []pac.Call, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	if err := p.e.enter(); err != nil {
		return "", nil, err
	}
	defer p.e.leave()
	in, err := p.get(ctx)
	if err != nil {
		return "", nil, err
	}
	raw, ge, why, err := in.eval(ctx, traced, url, host)
	var res string
	var calls []pac.Call
	if err == nil && traced {
		var tr tracedResult
		if jerr := json.Unmarshal(raw, &tr); jerr != nil {
			in.broken = true
			err = fmt.Errorf("wasm: pac_find_traced: %v", jerr)
		} else {
			for _, c := range tr.Calls {
				calls = append(calls, pac.Call{Func: c.Func, Args: c.Args, Result: c.Result})
			}
			if tr.Result != nil {
				res = *tr.Result
			} else if tr.Error != nil {
				ge = tr.Error
			} else {
				ge = &guestError{Kind: "internal", Message: "wasm: pac_find_traced gave neither result nor error"}
			}
		}
	} else if err == nil && ge == nil {
		res = string(raw)
	}
	p.put(in)
	switch {
	case err != nil:
		return "", calls, err
	case ge != nil:
		return "", calls, p.guestError(ctx, ge, why)
	}
	return res, calls, nil
}

// guestError turns the guest's account of a failure into pac's error
// types; why says whether the host interrupted the call.
func (p *pool) guestError(ctx context.Context, ge *guestError, why reason) error {
	switch ge.Kind {
	case "syntax":
		return &pac.SyntaxError{Name: ge.Name, Line: ge.Line, Column: ge.Column, Msg: ge.Msg}
	case "script":
		if why != notInterrupted {
			// The deadline (or ctx) came as the script failed: as in
			// package pac, the interruption is the cause.
			return p.interrupted(ctx, why)
		}
		return &pac.ScriptError{Name: ge.Name, Line: ge.Line, Column: ge.Column, Msg: ge.Msg, Stack: ge.Stack}
	case "timeout":
		return p.interrupted(ctx, why)
	case "no_entry":
		return pac.ErrNoEntryPoint
	case "too_large":
		return fmt.Errorf("%w%s", pac.ErrScriptTooLarge, strings.TrimPrefix(ge.Message, pac.ErrScriptTooLarge.Error()))
	case "config":
		return fmt.Errorf("wasm: the module refused the script's options: %s", ge.Message)
	}
	// "internal" (a panic in the engine, reported as natively) and
	// anything a later module may add.
	return errors.New(ge.Message)
}

// interrupted is the error of a run that the host interrupted: ctx's
// cause if ctx ended, else pac.ErrTimeout, which a context's own
// deadline also gives (pac.ErrTimeout is context.DeadlineExceeded to
// errors.Is).
func (p *pool) interrupted(ctx context.Context, why reason) error {
	if why == byContext && ctx.Err() != nil {
		if c := context.Cause(ctx); c != context.DeadlineExceeded {
			return c
		}
	}
	return pac.ErrTimeout
}

// get returns an idle instance, or makes one if there are fewer than
// the limit, or waits for one until ctx ends.
func (p *pool) get(ctx context.Context) (*instance, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	select {
	case in := <-p.idle:
		return in, nil
	default:
	}
	select {
	case in := <-p.idle:
		return in, nil
	case p.tokens <- struct{}{}:
		in, err := p.newInstance(ctx)
		if err != nil {
			<-p.tokens
			return nil, err
		}
		return in, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// put returns an instance after a call: to the idle ones, unless the
// call broke it or the script is closed.
func (p *pool) put(in *instance) {
	p.mu.Lock()
	if !in.broken && !p.closed.Load() {
		p.idle <- in
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	in.close()
	<-p.tokens
}

// close closes the idle instances, and makes put close the others.
func (p *pool) close() {
	p.mu.Lock()
	p.closed.Store(true)
	var idle []*instance
drain:
	for {
		select {
		case in := <-p.idle:
			idle = append(idle, in)
		default:
			break drain
		}
	}
	p.mu.Unlock()
	for _, in := range idle {
		in.close()
		<-p.tokens
	}
}

// resultCache remembers how the strings a script returns parse, as
// package pac's does.
type resultCache struct {
	m sync.Map // string -> pac.Result
	n atomic.Int32
}

const maxCachedResults = 1024

func (c *resultCache) parse(raw string) pac.Result {
	if r, ok := c.m.Load(raw); ok {
		return slices.Clone(r.(pac.Result))
	}
	r, _ := pac.ParseResult(raw)
	if c.n.Load() < maxCachedResults {
		if _, loaded := c.m.LoadOrStore(raw, slices.Clone(r)); !loaded {
			c.n.Add(1)
		}
	}
	return r
}

func latin1ToUTF8(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
