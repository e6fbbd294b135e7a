package main

// The configuration file of pacd serve --config: the serve flags, one a
// line, read through the same flag set as the command line so that the
// two cannot drift apart.
//
//	# pacd serve --config /etc/pacd.conf
//	listen 127.0.0.1:3128
//	socks 127.0.0.1:1080
//	pac https://wpad.corp/proxy.pac
//	pac-refresh 1h
//	bypass *.corp,10.0.0.0/8
//	bypass .internal
//	credentials-file /etc/pacd.netrc
//	trusted-pac
//	log-level "debug"
//
// A line is a flag's name without dashes, white space, and its value, to
// the end of the line with the surrounding space trimmed; a value in
// double quotes is unquoted as in Go. A boolean flag alone is true. A
// line whose first non-space character is # is a comment; there are no
// comments after a value (a # may be part of one). A repeatable flag may
// have several lines, any other flag one. An unknown name, a missing or
// bad value, and --config itself are errors naming the file and line.
//
// A flag given on the command line replaces what the file says for it,
// repeatable flags included: "--bypass x" with a file that has two bypass
// lines makes the bypass list x alone. Since a file may hold secrets
// (auth, credentials), one that does must not be readable by group or
// others, like the credentials file.

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A configLine is one setting of a configuration file.
type configLine struct {
	name, value string
	hasValue    bool
	line        int
}

// parseConfig splits a configuration file's text into its settings; name
// is the file's path, for errors.
func parseConfig(name, src string) ([]configLine, error) {
	var out []configLine
	for i, l := range strings.Split(src, "\n") {
		n := i + 1
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' {
			continue
		}
		key, rest := l, ""
		if i := strings.IndexAny(l, " \t"); i >= 0 {
			key, rest = l[:i], l[i:]
		}
		if strings.HasPrefix(key, "-") {
			return nil, fmt.Errorf("%s:%d: write the flag's name without dashes", name, n)
		}
		c := configLine{name: key, value: strings.TrimSpace(rest), line: n}
		c.hasValue = c.value != ""
		if strings.HasPrefix(c.value, `"`) {
			v, err := strconv.Unquote(c.value)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: the quoted value does not unquote", name, n, key)
			}
			c.value = v
		}
		out = append(out, c)
	}
	return out, nil
}

// applyConfig reads the configuration file at path and sets its settings
// on fs, which the command line has already been parsed into: a flag
// the command line set keeps the command line's value. It returns what
// the file said for each flag.
func applyConfig(fs *flag.FlagSet, path string) (map[string][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %v", err)
	}
	lines, err := parseConfig(path, string(b))
	if err != nil {
		return nil, err
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	said := map[string][]string{}
	first := map[string]int{}
	secret := false
	for _, c := range lines {
		at := fmt.Sprintf("%s:%d", path, c.line)
		f := fs.Lookup(c.name)
		switch {
		case c.name == "config":
			return nil, fmt.Errorf("%s: a configuration file cannot name another", at)
		case f == nil:
			return nil, fmt.Errorf("%s: unknown setting %q (see pacd help serve)", at, c.name)
		}
		if l, ok := first[c.name]; ok && !strings.Contains(f.Usage, "repeatable") {
			return nil, fmt.Errorf("%s: %s is already set, at line %d", at, c.name, l)
		}
		first[c.name] = c.line
		v := c.value
		if !c.hasValue {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				return nil, fmt.Errorf("%s: %s needs a value", at, c.name)
			}
			v = "true"
		}
		if c.name == "auth" || c.name == "credentials" {
			secret = true
		}
		said[c.name] = append(said[c.name], v)
		if onCommandLine[c.name] {
			continue
		}
		if err := fs.Set(c.name, v); err != nil {
			// Flag errors quote no values, which may be secrets.
			return nil, fmt.Errorf("%s: %s: %v", at, c.name, err)
		}
	}
	if secret {
		if err := checkPrivate(path, "this file, which holds auth or credentials,"); err != nil {
			return nil, err
		}
	}
	return said, nil
}

// restartOnly reports whether a serve setting takes effect only when
// pacd starts: the listeners, the client rules, the PAC source and its
// engine. The others (the resolver's rules, the credentials and the log
// level) take effect on SIGHUP.
func restartOnly(name string) bool {
	switch name {
	case "no-env", "proxy", "mount", "proxies", "bypass", "credentials", "credentials-file",
		"proxy-loopback", "on-pac-error", "flavor", "log-level":
		return false
	}
	return true
}
