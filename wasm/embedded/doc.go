// Package embedded puts pacd's WebAssembly module (cmd/pac-wasm),
// compressed, into the programs that import it, and registers it with
// package github.com/pacd/pacd/wasm, so that wasm.New needs no module
// of its own:
//
//	import _ "github.com/pacd/pacd/wasm/embedded"
//
// The module is a generated file, pac.wasm.gz, which is not committed:
// `make wasm-embed` writes it, and the package embeds it only when built
// with the tag pacd_embedwasm (`make build` does both). Without the tag
// the package is empty and registers nothing, so that a clean checkout
// builds, and a program that does not want the module's 5 MB does not
// pay for them.
package embedded
