//go:build !wasip1

package main

import (
	"fmt"
	"os"
)

// main explains how to build the module: on any other platform this
// command is not a program.
func main() {
	fmt.Fprintln(os.Stderr, "pac-wasm is a WebAssembly module: build it with `make wasm` (GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared ...)")
	os.Exit(2)
}
