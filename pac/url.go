package pac

// scaffold
func sanitizeURL(u string, full bool) string { return u }
func hostOf(u string) string                 { return u }
