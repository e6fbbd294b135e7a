package wasm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// DefaultMemoryLimitPages is the memory cap of an instance when
// Config.MemoryLimitPages is zero: 512 pages of 64 KiB, 32 MiB. An
// instance with a script loaded takes 13 to 18 MiB.
const DefaultMemoryLimitPages = 512

// ABIVersion is the version of the module's ABI (see cmd/pac-wasm) that
// this package speaks.
const ABIVersion = 1

// Config configures an [Engine]. A nil *Config is valid and means all
// defaults. A Config must not be modified after it has been passed to
// New.
type Config struct {
	// Module is the WebAssembly module, cmd/pac-wasm built for wasip1, or
	// that module compressed with gzip. If nil, it is read from
	// ModulePath; if ModulePath is empty too, the module embedded in the
	// program is used (see package github.com/pacd/pacd/wasm/embedded),
	// and New fails if there is none.
	Module []byte

	// ModulePath is the file to read the module from when Module is nil.
	ModulePath string

	// MemoryLimitPages caps the linear memory of each instance, in pages
	// of 64 KiB. If zero, DefaultMemoryLimitPages (32 MiB). It must be at
	// least the module's declared minimum (185 pages for pacd's module).
	MemoryLimitPages uint32

	// CacheDir is where wazero keeps compiled code between runs, so that
	// only the first start of a program pays for compiling the module. If
	// empty, os.UserCacheDir()/pacd/wazero; "-" means no cache on disk.
	// A directory that cannot be created is logged and not used.
	CacheDir string

	// MaxInstances bounds the instances of each Script, and so the
	// evaluations of one Script that run at once; more callers wait for
	// an instance, or for their context to end. If zero, GOMAXPROCS.
	MaxInstances int

	// Logger receives the guest's output (the Go runtime's messages, such
	// as a fatal error's) and, for scripts compiled without
	// Options.Alert, their alert() messages, capped in size per instance.
	// If nil, they are discarded.
	Logger *slog.Logger

	// unsafeNoPreemption runs the module without the yield hook that
	// lets the host stop it: for benchmarks that measure what the hook
	// costs.
	unsafeNoPreemption bool
}

// An Engine holds the compiled module, from which it makes the instances
// of its Scripts. It is safe for concurrent use. Close releases it.
type Engine struct {
	rt        wazero.Runtime
	cache     wazero.CompilationCache // nil if none
	mod       wazero.CompiledModule
	memLimit  uint32
	maxInst   int
	log       *slog.Logger
	instances sync.Map // api.Module -> *instance, for the host functions

	// calls holds a read lock for every call into a guest: closing the
	// runtime under a running call would pull its code from under it.
	calls  sync.RWMutex
	closed atomic.Bool
}

var (
	moduleMu     sync.Mutex
	moduleLoader func() ([]byte, error)
)

// RegisterModule makes load the source of the module for Engines whose
// Config names none. Package github.com/pacd/pacd/wasm/embedded calls it
// from its init function when it is built with the module; other programs
// need not. load may return the module compressed with gzip; it is
// called once per New.
func RegisterModule(load func() ([]byte, error)) {
	moduleMu.Lock()
	moduleLoader = load
	moduleMu.Unlock()
}

// HaveModule reports whether a module is registered, so that
// New(ctx, nil) can find one.
func HaveModule() bool {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	return moduleLoader != nil
}

// RegisteredModule returns the module given to RegisterModule, as it was
// registered (perhaps gzip-compressed), or ErrNoModule. pacd serve hands
// it to browsers for its playground.
func RegisteredModule() ([]byte, error) {
	moduleMu.Lock()
	load := moduleLoader
	moduleMu.Unlock()
	if load == nil {
		return nil, ErrNoModule
	}
	return load()
}

// ErrNoModule is returned by [New] when the Config names no module and
// none is embedded in the program.
var ErrNoModule = errors.New("wasm: no module: set Config.Module or Config.ModulePath, or build with the module embedded (go build -tags pacd_embedwasm after make wasm-embed)")

// module returns the module as the Config gives it, perhaps compressed.
func (c *Config) module() ([]byte, error) {
	switch {
	case c != nil && c.Module != nil:
		return c.Module, nil
	case c != nil && c.ModulePath != "":
		b, err := os.ReadFile(c.ModulePath)
		if err != nil {
			return nil, fmt.Errorf("wasm: %w", err)
		}
		return b, nil
	}
	moduleMu.Lock()
	load := moduleLoader
	moduleMu.Unlock()
	if load == nil {
		return nil, ErrNoModule
	}
	b, err := load()
	if err != nil {
		return nil, fmt.Errorf("wasm: loading the embedded module: %w", err)
	}
	return b, nil
}

func (c *Config) cacheDir() (string, error) {
	switch {
	case c != nil && c.CacheDir == "-":
		return "", nil
	case c != nil && c.CacheDir != "":
		return c.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "pacd", "wazero"), nil
}

// New compiles the module and returns an Engine that runs it, ready to
// compile scripts. Compiling takes seconds unless the cache directory
// holds the result of an earlier run; it uses every CPU.
func New(ctx context.Context, cfg *Config) (*Engine, error) {
	given, err := cfg.module()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		memLimit: DefaultMemoryLimitPages,
		maxInst:  runtime.GOMAXPROCS(0),
		log:      slog.New(slog.DiscardHandler),
	}
	if cfg != nil {
		if cfg.MemoryLimitPages > 0 {
			e.memLimit = cfg.MemoryLimitPages
		}
		if cfg.MaxInstances > 0 {
			e.maxInst = cfg.MaxInstances
		}
		if cfg.Logger != nil {
			e.log = cfg.Logger
		}
	}
	if e.memLimit > 65536 {
		return nil, fmt.Errorf("wasm: MemoryLimitPages %d is more than the 65536 pages (4 GiB) of a 32-bit memory", e.memLimit)
	}
	rc := wazero.NewRuntimeConfig().WithMemoryLimitPages(e.memLimit)
	dir, err := cfg.cacheDir()
	if err != nil {
		e.log.Warn("wasm: no compilation cache", "err", err)
	} else if dir != "" {
		c, err := wazero.NewCompilationCacheWithDir(dir)
		if err != nil {
			e.log.Warn("wasm: no compilation cache", "dir", dir, "err", err)
			_ = c.Close(ctx)
			dir = ""
		} else {
			e.cache = c
			rc = rc.WithCompilationCache(c)
		}
	}
	fail := func(err error) (*Engine, error) {
		if e.rt != nil {
			_ = e.rt.Close(ctx)
		}
		if e.cache != nil {
			_ = e.cache.Close(ctx)
		}
		return nil, err
	}
	preempt := cfg == nil || !cfg.unsafeNoPreemption
	bin, cached, err := prepare(given, dir, preempt, e.log)
	if err != nil {
		return fail(err)
	}
	if min, ok := memoryMin(bin); ok && min > e.memLimit {
		return fail(fmt.Errorf("wasm: MemoryLimitPages %d is less than the module's minimum memory of %d pages", e.memLimit, min))
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, e.rt); err != nil {
		return fail(fmt.Errorf("wasm: %v", err))
	}
	if err := e.instantiateHost(ctx); err != nil {
		return fail(fmt.Errorf("wasm: %v", err))
	}
	cctx := experimental.WithCompilationWorkers(ctx, runtime.NumCPU())
	e.mod, err = e.rt.CompileModule(cctx, bin)
	if err != nil && cached != "" {
		// The prepared copy is damaged: prepare the module again.
		e.log.Warn("wasm: a prepared module in the cache does not compile; preparing it again", "file", cached, "err", err)
		_ = os.Remove(cached)
		if bin, _, err = prepare(given, "", preempt, e.log); err != nil {
			return fail(err)
		}
		e.mod, err = e.rt.CompileModule(cctx, bin)
	}
	if err != nil {
		return fail(fmt.Errorf("wasm: compiling the module: %v", err))
	}
	if err := e.checkModule(); err != nil {
		return fail(err)
	}
	return e, nil
}

// exports are the module's functions that the host calls.
var exports = []string{"pac_abi_version", "pac_alloc", "pac_free", "pac_load", "pac_find", "pac_find_traced", "pac_last_error", "pac_interrupt_slot"}

// checkModule checks that the module is a PAC module this package can
// run.
func (e *Engine) checkModule() error {
	defs := e.mod.ExportedFunctions()
	for _, name := range append([]string{"_initialize"}, exports...) {
		if _, ok := defs[name]; !ok {
			return fmt.Errorf("wasm: the module does not export %s: not a PAC module (cmd/pac-wasm)", name)
		}
	}
	if _, ok := e.mod.ExportedMemories()["memory"]; !ok {
		return errors.New("wasm: the module exports no memory")
	}
	return nil
}

// Close closes every Script of the engine and releases the compiled
// module. It waits for the evaluations in progress, which their
// deadlines bound. Using the engine or its Scripts after Close gives
// [ErrClosed].
func (e *Engine) Close(ctx context.Context) error {
	if e.closed.Swap(true) {
		return nil
	}
	e.calls.Lock()
	defer e.calls.Unlock()
	err := e.rt.Close(ctx)
	if e.cache != nil {
		if cerr := e.cache.Close(ctx); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("wasm: %v", err)
	}
	return nil
}

// ErrClosed is returned for the use of an Engine or Script after Close.
var ErrClosed = errors.New("wasm: closed")

// enter begins a call into a guest; leave ends it.
func (e *Engine) enter() error {
	e.calls.RLock()
	if e.closed.Load() {
		e.calls.RUnlock()
		return ErrClosed
	}
	return nil
}

func (e *Engine) leave() { e.calls.RUnlock() }

// lookup finds the instance that m, a guest calling a host function,
// belongs to.
func (e *Engine) lookup(m api.Module) *instance {
	v, ok := e.instances.Load(m)
	if !ok {
		return nil
	}
	return v.(*instance)
}
