// Package wasm evaluates PAC scripts inside pacd's WebAssembly module
// (cmd/pac-wasm), run by the wazero runtime: a sandbox for scripts that
// are not trusted. It mirrors package pac's API: [Engine.Compile] takes a
// [pac.Options] and returns a [Script] whose Eval and FindProxyForURL
// have pac.Script's signatures, contract and error types ([*pac.SyntaxError],
// [*pac.ScriptError], [pac.ErrTimeout], [pac.ErrNoEntryPoint],
// [pac.ErrScriptTooLarge]), so that callers can swap one engine for the
// other. Both run the same engine code, and answer alike.
//
// What the sandbox adds to the native engine's bounds:
//
//   - a memory cap per instance (Config.MemoryLimitPages, 32 MiB by
//     default): a script that needs more fails with [ErrMemoryLimit];
//   - a per-call deadline that the host enforces, so that even a loop
//     that never calls out stops at Options.Timeout (New rewrites the
//     module so that its loops call the host now and then, which is
//     where the deadline is checked; see RATIONALE.md);
//   - no file system, network, arguments or environment for the guest:
//     DNS answers, the machine's addresses and the clock come from the
//     host, through the Options, as with package pac;
//   - guest output (the Go runtime's messages) captured, capped and sent
//     to Config.Logger, never to the process's standard streams.
//
// An instance of the module whose call trapped (ran out of memory, for
// instance), did not stop when interrupted, or failed in any other way
// that the guest did not report itself is closed and replaced; one whose
// script was interrupted at its deadline is kept, since the guest's
// engine then drops the interrupted interpreter itself. Either way a
// Script keeps answering after a hostile call.
//
// # Costs
//
// The module is compiled once per [Engine], which takes seconds (about 3
// to 5 on two cores) the first time; the compiled code is kept in a
// cache directory (Config.CacheDir) so that later processes start in a
// quarter of a second. Each instance holds its own linear memory (13 to
// 18 MiB with a script loaded) and takes about 20 ms to create; a Script
// keeps a bounded pool of them (Config.MaxInstances), each with the
// script loaded, and creates them as concurrent callers need them. An
// evaluation costs about twenty times a native one.
//
// # Module
//
// The module comes from Config.Module, Config.ModulePath, or, when a
// program links package github.com/pacd/pacd/wasm/embedded built with the
// tag pacd_embedwasm (as `make build` does), from the copy compressed
// into the binary.
//
// Engines and Scripts are safe for concurrent use.
package wasm
