package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/pacd/pacd/pac/pactest"
)

var cmdTest = &command{
	name:  "test",
	usage: "[-v] PATH...",
	short: "run PAC expectation files and report failures",
	long: `
Test runs PAC expectation files: each names a PAC script, fixes the
environment it runs in (clock, time zone, DNS answers, client address) and
lists URLs with the answers the script must give. A PATH may be a .pactest
file, a .pac file (its NAME.pactest is run) or a directory (every .pactest
file in it). The format is described in the documentation of the package
github.com/pacd/pacd/pac/pactest and in testdata/pac/README.md.

Test prints a line for every failing case, "FILE:LINE: URL: want ..., got
...", then a summary line "N passed, N failed", and exits with status 1 if
any case failed, so that a PAC file can be put under CI. No test reaches the
network: names resolve only as the file's "resolve:" lines say.

--sandbox runs the scripts inside pacd's WebAssembly module instead, under
wazero, as pacd serve --sandbox would; --wasm FILE names the module, for a
pacd built without one.`,
	flags: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		verbose := fs.Bool("v", false, "also print a line for every passing case")
		var sandbox sandboxFlags
		sandbox.define(fs)
		return func(ctx context.Context, args []string) error {
			if len(args) == 0 {
				return usagef("no PATH")
			}
			run := (*pactest.File).Run
			if sandbox.enabled() {
				eng, err := sandbox.engine(ctx, quietLogger(e))
				if err != nil {
					return err
				}
				defer eng.Close(context.Background())
				compile := compiler(ctx, eng)
				run = func(f *pactest.File, ctx context.Context) *pactest.Report { return f.RunWith(ctx, compile) }
			}
			files, err := pactest.Expand(args...)
			if err != nil {
				return err
			}
			passed, failed := 0, 0
			for _, path := range files {
				if err := ctx.Err(); err != nil {
					return err
				}
				f, err := pactest.ParseFile(path)
				if err != nil {
					fmt.Fprintf(e.stdout, "%v\n", err)
					failed++
					continue
				}
				restore := setLocal(f.Location) // for the script's Date objects
				r := run(f, ctx)
				restore()
				passed += r.Passed()
				failed += r.Failed()
				if r.Failure != "" {
					fmt.Fprintf(e.stdout, "%s: FAIL: %s\n", path, r.Failure)
				} else if *verbose && f.CompileError != "" {
					fmt.Fprintf(e.stdout, "%s: ok: compile error %q\n", path, r.CompileErr)
				}
				for _, o := range r.Outcomes {
					switch {
					case !o.Passed():
						fmt.Fprintf(e.stdout, "%s:%d: FAIL: %s\n", path, o.Line, o)
					case *verbose:
						fmt.Fprintf(e.stdout, "%s:%d: ok: %s\n", path, o.Line, o.Case)
					}
				}
			}
			fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
			if failed > 0 {
				return &exitError{1}
			}
			return nil
		}
	},
}
