// Package deptest checks the dependency rules between pacd's packages
// (see RATIONALE.md): which package may import what. It has no code of
// its own, only this test.
package deptest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// rules lists, per package, import paths (or prefixes ending in "/")
// that must not appear among its dependencies.
var rules = map[string][]string{
	// pac is a leaf: it builds for WebAssembly and knows nothing of HTTP
	// clients, the resolver or the WebAssembly host.
	"github.com/pacd/pacd/pac": {
		"net/http",
		"github.com/tetratelabs/wazero",
		"github.com/pacd/pacd/resolver",
		"github.com/pacd/pacd/wasm",
	},
	"github.com/pacd/pacd/pac/pactest": {
		"net/http",
		"github.com/tetratelabs/wazero",
	},
	// The resolver consumes an Evaluator interface: programs that use it
	// for the environment and bypass lists alone do not link the
	// JavaScript engine or the WebAssembly host.
	"github.com/pacd/pacd/resolver": {
		"github.com/pacd/pacd/pac",
		"github.com/dop251/goja",
		"github.com/tetratelabs/wazero",
		"github.com/pacd/pacd/wasm",
	},
	// The result grammar and host parsing are shared with the resolver,
	// which must not pull the JavaScript engine into programs that only
	// want environment variables and bypass lists.
	"github.com/pacd/pacd/internal/proxylist": {
		"github.com/dop251/goja",
		"net/http",
	},
	"github.com/pacd/pacd/internal/hostname": {
		"github.com/dop251/goja",
		"net/http",
	},
	// The WebAssembly host runs the engine's module; it needs neither
	// HTTP nor the resolver, which may use it.
	"github.com/pacd/pacd/wasm": {
		"net/http",
		"github.com/pacd/pacd/resolver",
	},
	// The recording proxy stub stands in for what the resolver and the
	// daemon talk to: it knows nothing of them, nor of any other pacd
	// package (a rule names its own module without banning itself).
	"github.com/pacd/pacd/internal/recproxy": {
		"github.com/pacd/pacd",
	},
}

// testOnly lists packages that only tests may import: no package of the
// module depends on them outside its tests.
var testOnly = []string{
	"github.com/pacd/pacd/internal/recproxy",
}

// wasmRules are rules for packages as they build for the module
// (GOOS=wasip1 GOARCH=wasm): the guest never links its own host.
var wasmRules = map[string][]string{
	"github.com/pacd/pacd/cmd/pac-wasm": {
		"github.com/tetratelabs/wazero",
		"github.com/pacd/pacd/wasm",
		"net/http",
	},
}

func TestDependencies(t *testing.T) {
	check(t, rules)
	check(t, wasmRules, "GOOS=wasip1", "GOARCH=wasm")
}

func TestTestOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", "github.com/pacd/pacd/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list github.com/pacd/pacd/...: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		for _, dep := range strings.Fields(deps) {
			if slices.Contains(testOnly, dep) {
				t.Errorf("%s depends on %s, which only tests may import", pkg, dep)
			}
		}
	}
}

func check(t *testing.T, rules map[string][]string, env ...string) {
	for pkg, banned := range rules {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Env = append(cmd.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s go list -deps %s: %v\n%s", strings.Join(env, " "), pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == pkg {
				continue
			}
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s depends on %s, which it must not", pkg, dep)
				}
			}
		}
	}
}

// TestWasmBuild checks that the engine builds for both WebAssembly
// targets that cmd/pac-wasm will use.
func TestWasmBuild(t *testing.T) {
	for _, goos := range []string{"wasip1", "js"} {
		cmd := exec.Command("go", "build", "-o", "/dev/null", "github.com/pacd/pacd/pac")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=%s GOARCH=wasm go build ./pac: %v\n%s", goos, err, out)
		}
	}
}
