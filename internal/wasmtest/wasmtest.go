// Package wasmtest builds pacd's WebAssembly module (cmd/pac-wasm) for
// tests, once per test process, into a temporary directory: a goja module
// is too large to commit, and building it is what `make wasm` does.
package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	out  []byte
	err  error
)

// Module returns the path of a freshly built pac.wasm. It fails the test
// if the module does not build. The file lives until the process exits.
func Module(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, derr := os.MkdirTemp("", "pacd-wasm-")
		if derr != nil {
			err = derr
			return
		}
		path = filepath.Join(dir, "pac.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", path, "github.com/pacd/pacd/cmd/pac-wasm")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("building the WebAssembly module (%s): %v\n%s", runtime.Version(), err, out)
	}
	return path
}
