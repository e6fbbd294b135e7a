package wasm

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// spinModule is a module with one function, spin(n), that loops n
// times, and the import and global that instrument needs.
func spinModule() []byte {
	section := func(id byte, payload ...byte) []byte {
		return appendSection(nil, id, payload)
	}
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, section(1, 2, 0x60, 0, 1, 0x7f, 0x60, 1, 0x7f, 0)...) // () -> i32, (i32) -> ()
	imp := []byte{1}
	imp = append(imp, name("wasi_snapshot_preview1")...)
	imp = append(imp, name("sched_yield")...)
	imp = append(imp, 0, 0)
	b = append(b, section(2, imp...)...)
	b = append(b, section(3, 1, 1)...)                      // one function, of type 1
	b = append(b, section(6, 1, 0x7f, 1, 0x41, 0, 0x0b)...) // one global
	exp := append([]byte{1}, name("spin")...)
	b = append(b, section(7, append(exp, 0, 1)...)...)
	body := []byte{
		1, 1, 0x7f, // one i32 local
		0x03, 0x40, // loop
		0x20, 1, 0x41, 1, 0x6a, 0x22, 1, // local.get 1; i32.const 1; i32.add; local.tee 1
		0x20, 0, 0x49, // local.get 0; i32.lt_u
		0x0d, 0, // br_if 0
		0x0b, 0x0b, // end; end
	}
	code := append([]byte{1, byte(len(body))}, body...)
	return append(b, section(10, code...)...)
}

func TestInstrument(t *testing.T) {
	ctx := context.Background()
	run := func(bin []byte, n uint64) int {
		r := wazero.NewRuntime(ctx)
		defer r.Close(ctx)
		yields := 0
		_, err := r.NewHostModuleBuilder("wasi_snapshot_preview1").NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
				yields++
				stack[0] = 0
			}), nil, []api.ValueType{api.ValueTypeI32}).Export("sched_yield").Instantiate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Instantiate(ctx, bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.ExportedFunction("spin").Call(ctx, n); err != nil {
			t.Fatal(err)
		}
		return yields
	}
	bin := spinModule()
	if got := run(bin, 1e6); got != 0 {
		t.Errorf("plain module: %d yields", got)
	}
	inst, err := instrument(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := run(inst, 1e6), 1000000/yieldEvery; got != want {
		t.Errorf("instrumented module: %d yields for 1e6 loops, want %d", got, want)
	}
	if min, ok := memoryMin(bin); ok {
		t.Errorf("memoryMin of a module without memory = %d", min)
	}

	simd := bytes.Replace(bin, []byte{0x0d, 0, 0x0b}, []byte{0xfd, 0, 0x0b}, 1) // an instruction it does not know
	for _, bad := range [][]byte{nil, []byte("\x00asm\x01\x00\x00\x00"), simd, bin[:len(bin)-4]} {
		if _, err := instrument(bad); err == nil {
			t.Errorf("instrument(%x) succeeded", bad)
		}
	}
}

// TestCacheDirFallback checks that a cache directory that cannot be made
// is logged, and that New goes on without it.
func TestCacheDirFallback(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	_, err := New(context.Background(), &Config{Module: spinModule(), CacheDir: filepath.Join(notDir, "cache"), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err == nil || !strings.Contains(err.Error(), "not a PAC module") {
		t.Errorf("New with the spin module: %v, want it refused", err)
	}
	if !strings.Contains(log.String(), "no compilation cache") {
		t.Errorf("log = %q, want a warning about the cache", log.String())
	}
}
