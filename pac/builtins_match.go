package pac

// installMatch defines the name-matching built-ins. (scaffold: filled in by the match work)
func installMatch(st *evalState) {}
