package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/pac/pactest"
	"github.com/pacd/pacd/wasm"
	_ "github.com/pacd/pacd/wasm/embedded" // the module, in builds with -tags pacd_embedwasm (make build)
)

// sandboxFlags are --sandbox and --wasm, shared by the commands that run
// PAC scripts: they run them inside the WebAssembly module (package
// github.com/pacd/pacd/wasm), under wazero, instead of natively.
type sandboxFlags struct {
	on     bool
	module string
}

func (o *sandboxFlags) define(fs *flag.FlagSet) {
	fs.BoolVar(&o.on, "sandbox", false, "run the PAC script inside the WebAssembly module, with a memory cap and a deadline the host enforces")
	fs.StringVar(&o.module, "wasm", "", "the WebAssembly module `file` for --sandbox, for a pacd built without one (make wasm builds bin/pac.wasm); implies --sandbox")
}

func (o *sandboxFlags) enabled() bool { return o.on || o.module != "" }

// engine starts the WebAssembly engine, or gives a usage error when there
// is no module. The caller closes it. The compiled module is cached under
// the user's cache directory, so that only the first start of pacd pays
// for compiling it.
func (o *sandboxFlags) engine(ctx context.Context, log *slog.Logger) (*wasm.Engine, error) {
	if o.module == "" && !wasm.HaveModule() {
		return nil, usagef("--sandbox: this pacd was built without the WebAssembly module: give --wasm FILE (make wasm builds bin/pac.wasm), or build pacd with make build")
	}
	e, err := wasm.New(ctx, &wasm.Config{ModulePath: o.module, Logger: log})
	if err != nil {
		return nil, usagef("--sandbox: %v", err)
	}
	return e, nil
}

// compiler returns pactest's compile function for e.
func compiler(ctx context.Context, e *wasm.Engine) pactest.Compiler {
	return func(src string, opts *pac.Options) (pactest.Evaluator, error) {
		s, err := e.Compile(ctx, src, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// quietLogger is the sandbox's logger for the commands that report
// failures themselves: the guest's own account of a crash would only
// repeat it at length.
func quietLogger(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
