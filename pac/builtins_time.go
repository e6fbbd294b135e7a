package pac

// installTime defines the time built-ins. (scaffold: filled in by the time work)
func installTime(st *evalState) {}
