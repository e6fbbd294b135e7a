package pac

// installMisc defines alert and getClientVersion. (scaffold)
func installMisc(st *evalState) {}
