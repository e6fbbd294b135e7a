//go:build wasip1

package pac

// Inside WebAssembly the host caps the module's memory, exactly and per
// instance, and the guest has no watcher: its goroutines cannot run
// while a script does (nothing preempts the guest's one thread), so a
// watcher would never see a run it could stop. Options.MaxMemory is
// ignored there.

func startMemWatcher() {}

func watchMem(*jsRuntime) {}

func unwatchMem(*jsRuntime) bool { return false }
