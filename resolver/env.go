package resolver

import (
	"os"
	"strings"
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

	// vars are the proxy variables as found, in every spelling and in
	// the environment's order, for the flavours, which read them as their
	// clients do; nil for an Env built by hand.
	vars environ
}

// A rawVar is one environment variable as found: set, possibly empty.
type rawVar struct{ name, value string }

// environ is what a flavour sees of the environment: the variables that
// concern proxies, in order.
type environ []rawVar

// lookup returns the value of the variable spelt exactly name, and
// whether it is set (possibly empty).
func (e environ) lookup(name string) (string, bool) {
	for _, v := range e {
		if v.name == name {
			return v.value, true
		}
	}
	return "", false
}

// get returns the value of the variable spelt exactly name, or "".
func (e environ) get(name string) string {
	v, _ := e.lookup(name)
	return v
}

// envNames are the variables ReadEnv looks for on behalf of the
// flavours, which need more than the canonical four.
var envNames = []string{
	"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	"no_proxy", "NO_PROXY", "ftp_proxy", "FTP_PROXY", "ws_proxy", "WS_PROXY", "wss_proxy", "WSS_PROXY",
	"REQUEST_METHOD", "SOCKS_SERVER", "SOCKS_VERSION",
}

// isProxyVar reports whether a variable concerns some client's proxy
// choice.
func isProxyVar(name string) bool {
	switch name {
	case "REQUEST_METHOD", "SOCKS_SERVER", "SOCKS_VERSION":
		return true
	}
	return strings.HasSuffix(strings.ToLower(name), "_proxy")
}

// environ returns the variables the flavours read. For an Env built by
// hand, those are its four variables.
func (e *Env) environ() environ {
	if e.vars != nil {
		return e.vars
	}
	var out environ
	for _, v := range []EnvVar{e.HTTPProxy, e.HTTPSProxy, e.AllProxy, e.NoProxy} {
		if v.IsSet() {
			out = append(out, rawVar{v.Name, v.Value})
		}
	}
	return out
}

// FromEnvironment reads the proxy variables of the process environment.
func FromEnvironment() *Env {
	e := ReadEnv(os.Getenv)
	e.vars = proxyVars(os.Environ())
	return e
}

// ReadEnvList reads the proxy variables from a list in the form of
// os.Environ ("KEY=value"); where a key appears twice the first counts.
// Unlike ReadEnv it tells a variable set to "" from an unset one, which
// some flavours need (an empty http_proxy hides HTTP_PROXY in Python).
func ReadEnvList(environ []string) *Env {
	vars := proxyVars(environ)
	e := ReadEnv(func(k string) string {
		for _, kv := range environ {
			if name, v, ok := strings.Cut(kv, "="); ok && name == k {
				return v
			}
		}
		return ""
	})
	e.vars = vars
	return e
}

// proxyVars keeps, in order, the entries of an os.Environ-style list
// that concern proxies.
func proxyVars(list []string) environ {
	out := environ{}
	for _, kv := range list {
		if name, v, ok := strings.Cut(kv, "="); ok && isProxyVar(name) {
			out = append(out, rawVar{name, v})
		}
	}
	return out
}

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
		vars:       environ{},
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
	// ReadEnv cannot tell an empty variable from an unset one: it keeps
	// only those with a value.
	for _, n := range envNames {
		if v := getenv(n); v != "" {
			e.vars = append(e.vars, rawVar{n, v})
		}
	}
	return e
}
