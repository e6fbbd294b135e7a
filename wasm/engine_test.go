package wasm_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacd/pacd/internal/wasmtest"
	"github.com/pacd/pacd/wasm"
)

func TestNewErrors(t *testing.T) {
	if wasm.HaveModule() {
		t.Skip("a module is registered")
	}
	if _, err := wasm.New(context.Background(), &wasm.Config{CacheDir: "-"}); !errors.Is(err, wasm.ErrNoModule) {
		t.Errorf("New without a module: %v, want ErrNoModule", err)
	}
	if _, err := wasm.New(context.Background(), &wasm.Config{Module: []byte("not wasm"), CacheDir: "-"}); err == nil || !strings.HasPrefix(err.Error(), "wasm: ") {
		t.Errorf("New with garbage: %v", err)
	}
	if _, err := wasm.New(context.Background(), &wasm.Config{ModulePath: filepath.Join(t.TempDir(), "none.wasm"), CacheDir: "-"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New with a missing file: %v", err)
	}
}

// TestRegisterModule loads the module as package wasm/embedded gives it:
// compressed, from a registered loader.
func TestRegisterModule(t *testing.T) {
	raw, err := os.ReadFile(wasmtest.Module(t))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	wasm.RegisterModule(func() ([]byte, error) { return gz.Bytes(), nil })
	defer wasm.RegisterModule(nil)
	if !wasm.HaveModule() {
		t.Fatal("HaveModule = false after RegisterModule")
	}
	e := newEngine(t, wasm.Config{CacheDir: wasmtest.CacheDir()})
	s := mustCompile(t, e, hostilePAC, nil)
	if res, err := s.Eval(context.Background(), "http://ok/", ""); res != "DIRECT" || err != nil {
		t.Errorf("Eval = %q, %v", res, err)
	}
}
