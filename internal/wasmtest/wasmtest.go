// Package wasmtest builds pacd's WebAssembly module (cmd/pac-wasm) for
// tests, once per test process, into a temporary directory: a goja module
// is too large to commit, and building it is what `make wasm` does.
package wasmtest

import (
	"fmt"
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

// CacheHome returns the directory that tests use in place of the user's
// cache directory (for XDG_CACHE_HOME, say): wazero's compilation cache
// is then CacheHome()/pacd/wazero, as pacd's default puts it under
// os.UserCacheDir(). It lives in the system's temporary directory and is
// shared by the tests of every package and every run, so that only the
// first run after the module changes pays for compiling it (seconds);
// each version of the module adds about 60 MB to it.
func CacheHome() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("pacd-wasmtest-cache-%d", os.Getuid()))
}

// CacheDir returns CacheHome()/pacd/wazero, for wasm.Config.CacheDir.
func CacheDir() string { return filepath.Join(CacheHome(), "pacd", "wazero") }
