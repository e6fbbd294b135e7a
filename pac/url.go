package pac

import (
	"strings"

	"github.com/pacd/pacd/internal/hostname"
)

// sanitizeURL returns the URL that FindProxyForURL sees. Unless full is
// set it follows Chromium: user information and the fragment are removed
// from every URL, and for the cryptographic schemes (https, wss) the path
// and query too, leaving "scheme://host[:port]/". The rest of the URL is
// passed through byte for byte, so that a script sees what the caller
// wrote. A string without "scheme://" is passed unchanged.
func sanitizeURL(u string, full bool) string {
	if full {
		return u
	}
	i := strings.Index(u, "://")
	if i <= 0 || !isScheme(u[:i]) {
		return u
	}
	scheme := u[:i]
	authStart := i + 3
	authEnd := len(u)
	if j := strings.IndexAny(u[authStart:], "/?#"); j >= 0 {
		authEnd = authStart + j
	}
	auth := u[authStart:authEnd]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	if strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "wss") {
		if authEnd == len(u)-1 && u[authEnd] == '/' && len(auth) == authEnd-authStart {
			return u // already scheme://host/: no allocation
		}
		return scheme + "://" + auth + "/"
	}
	rest := u[authEnd:]
	if j := strings.IndexByte(rest, '#'); j >= 0 {
		rest = rest[:j]
	}
	if len(auth) == authEnd-authStart && len(rest) == len(u)-authEnd {
		return u // nothing to remove: no allocation
	}
	return scheme + "://" + auth + rest
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// hostOf returns the host that FindProxyForURL receives for u when the
// caller gives none: the URL's host name, lower case, without user
// information, port or IPv6 brackets. For a string that is not a URL it
// returns "".
func hostOf(u string) string {
	i := strings.Index(u, "://")
	if i <= 0 {
		return ""
	}
	auth := u[i+3:]
	if j := strings.IndexAny(auth, "/?#"); j >= 0 {
		auth = auth[:j]
	}
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	if strings.HasPrefix(auth, "[") {
		if end := strings.IndexByte(auth, ']'); end >= 0 {
			return strings.ToLower(auth[1:end])
		}
		return ""
	}
	if j := strings.LastIndexByte(auth, ':'); j >= 0 {
		auth = auth[:j]
	}
	return hostname.Lower(auth)
}
