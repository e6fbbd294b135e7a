package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pacd/pacd/internal/wasmtest"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
	"github.com/pacd/pacd/wasm"
)

// The tests share one engine with the default configuration: compiling
// the module takes seconds, even from the cache, and building it (by
// wasmtest.Module) tens of seconds, once per test process.
var (
	sharedOnce   sync.Once
	sharedEngine *wasm.Engine
	sharedErr    error
)

func testEngine(t testing.TB) *wasm.Engine {
	t.Helper()
	path := wasmtest.Module(t)
	sharedOnce.Do(func() {
		sharedEngine, sharedErr = wasm.New(context.Background(), &wasm.Config{ModulePath: path, CacheDir: wasmtest.CacheDir()})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedEngine
}

// newEngine makes an engine of its own with cfg, whose module and cache
// directory default to the tests' ones, and closes it after the test.
func newEngine(t testing.TB, cfg wasm.Config) *wasm.Engine {
	t.Helper()
	if cfg.Module == nil && cfg.ModulePath == "" {
		cfg.ModulePath = wasmtest.Module(t)
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = wasmtest.CacheDir()
	}
	e, err := wasm.New(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// engines are the two ways to compile a script whose answers the tests
// compare.
type engine struct {
	name    string
	compile func(t testing.TB) pactest.Compiler
}

var engines = []engine{
	{"native", func(testing.TB) pactest.Compiler { return nativeCompiler }},
	{"wasm", func(t testing.TB) pactest.Compiler { return wasmCompiler(testEngine(t)) }},
}

func nativeCompiler(src string, opts *pac.Options) (pactest.Evaluator, error) {
	s, err := pac.Compile(src, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func wasmCompiler(e *wasm.Engine) pactest.Compiler {
	return func(src string, opts *pac.Options) (pactest.Evaluator, error) {
		s, err := e.Compile(context.Background(), src, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// mustCompile compiles src in e and closes the script after the test.
func mustCompile(t testing.TB, e *wasm.Engine, src string, opts *pac.Options) *wasm.Script {
	t.Helper()
	s, err := e.Compile(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// errKind names the kind of err, as callers of either engine tell them
// apart.
func errKind(err error) string {
	var se *pac.SyntaxError
	var xe *pac.ScriptError
	switch {
	case err == nil:
		return "none"
	case errors.As(err, &se):
		return "syntax"
	case errors.As(err, &xe):
		return "script"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, pac.ErrTimeout):
		return "timeout"
	case errors.Is(err, pac.ErrNoEntryPoint):
		return "no entry point"
	case errors.Is(err, pac.ErrScriptTooLarge):
		return "too large"
	case errors.Is(err, wasm.ErrMemoryLimit):
		return "memory limit"
	}
	return fmt.Sprintf("other (%T)", err)
}

// describe gives an evaluation's outcome as the parity tests compare it:
// the answer, or the kind and text of the error, with a ScriptError's
// position and stack.
func describe(res string, err error) string {
	if err == nil {
		return fmt.Sprintf("%q", res)
	}
	s := errKind(err) + ": " + err.Error()
	var xe *pac.ScriptError
	if errors.As(err, &xe) {
		s += fmt.Sprintf(" [line %d col %d stack %q]", xe.Line, xe.Column, xe.Stack)
	}
	var se *pac.SyntaxError
	if errors.As(err, &se) {
		s += fmt.Sprintf(" [line %d col %d]", se.Line, se.Column)
	}
	return s
}

func wasmModule(t testing.TB) string { return wasmtest.Module(t) }
