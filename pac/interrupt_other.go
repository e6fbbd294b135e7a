//go:build !wasip1

package pac

// beginRun and endRun bracket every run of a runtime. Only the
// WebAssembly build, whose host interrupts runs from outside the guest,
// needs them (see interrupt_wasip1.go).
func beginRun(*jsRuntime) {}

// endRun reports whether an interrupt is still pending in the runtime.
func endRun(*jsRuntime) bool { return false }
