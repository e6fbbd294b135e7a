package resolver

import (
	"os"
)

// An EnvVar is one proxy setting read from the environment: the name of
// the variable it came from ("https_proxy", "HTTPS_PROXY") and its value.
// The zero EnvVar means unset.
type EnvVar struct {
	Name  string
	Value string
}

// IsSet reports whether the variable was found, with a non-empty value.
func (v EnvVar) IsSet() bool { return v.Value != "" }

// Env is the proxy configuration that the process environment gives: the
// variables HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, each taken
// from its lower-case spelling unless that is empty, then from the upper
// case one, as curl and golang.org/x/net/http/httpproxy read them.
type Env struct {
	HTTPProxy  EnvVar // for http:// and ws:// URLs
	HTTPSProxy EnvVar // for https:// and wss:// URLs
	AllProxy   EnvVar // for every scheme without a variable of its own
	NoProxy    EnvVar // destinations never proxied

	// IgnoredHTTPProxy is set when HTTP_PROXY was ignored because the
	// process runs as a CGI script (REQUEST_METHOD is set), where a
	// client's "Proxy:" request header arrives as HTTP_PROXY ("httpoxy").
	// Only the lower-case http_proxy is read then.
	IgnoredHTTPProxy bool
}

// FromEnvironment reads the proxy variables of the process environment.
func FromEnvironment() *Env { return ReadEnv(os.Getenv) }

// ReadEnv reads the proxy variables through getenv, which is os.Getenv
// for the process environment; tests pass a map's lookup.
func ReadEnv(getenv func(string) string) *Env {
	get := func(lower, upper string) EnvVar {
		if v := getenv(lower); v != "" {
			return EnvVar{lower, v}
		}
		if v := getenv(upper); v != "" {
			return EnvVar{upper, v}
		}
		return EnvVar{}
	}
	e := &Env{
		HTTPSProxy: get("https_proxy", "HTTPS_PROXY"),
		AllProxy:   get("all_proxy", "ALL_PROXY"),
		NoProxy:    get("no_proxy", "NO_PROXY"),
	}
	if getenv("REQUEST_METHOD") != "" {
		if v := getenv("http_proxy"); v != "" {
			e.HTTPProxy = EnvVar{"http_proxy", v}
		}
		e.IgnoredHTTPProxy = getenv("HTTP_PROXY") != "" && e.HTTPProxy.Name == ""
	} else {
		e.HTTPProxy = get("http_proxy", "HTTP_PROXY")
	}
	return e
}
