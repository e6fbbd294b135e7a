package main

// The credentials file of --credentials-file: upstream proxies' user
// names and passwords in the grammar of curl's .netrc, so that they stay
// out of process listings, shell history and the configuration file.
//
//	# comments run from a word that starts with # to the end of the line
//	machine proxy.corp:8080 login alice password "s3cret with spaces"
//	machine https://tls-proxy.corp:443
//	    login alice
//	    password s3cret
//	machine socks5://127.0.0.1:1080 login bob password pw
//	machine socks4://gw.corp:1080 login carol
//
// Words are separated by spaces, tabs and newlines; an entry may span
// lines. A word in double quotes may hold spaces and #, with \" \\ \n \r
// and \t escapes, as curl reads them. Each entry is "machine PROXY" and
// then "login USER", and "password PASS" unless the proxy is SOCKS4
// (which carries a user ID alone). PROXY is what --credentials takes,
// without the user information: a proxy URL, or host:port for an http://
// proxy, with the scheme's default port when there is none. The scheme
// decides which PAC answers for that address may use the entry, by the
// resolver's rules: an http:// proxy's credentials go to PROXY and HTTPS,
// an https:// proxy's to HTTPS only, socks5:// to SOCKS5, socks4:// to
// SOCKS and SOCKS4.
//
// netrc's "default" entry is refused: its credentials would go to any
// proxy a PAC script names, and a PAC script may come from whoever
// answers for its host. "macdef", "account" and "port" are refused too:
// they mean nothing here (a port is written in the machine). One address
// has one entry. The file must not be readable or writable by group or
// others, as ssh requires of a private key: curl only warns, but a
// password file that others can read has already leaked.

import (
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/pacd/pacd/resolver"
)

// A credEntry is one machine of a credentials file.
type credEntry struct {
	line  int
	proxy resolver.Proxy // with its credentials
	url   string         // scheme://user:pass@host:port, for resolver.Config.Credentials
}

// readCredentialsFile reads and parses the credentials file at path.
// Its errors name the file and line, never a password.
func readCredentialsFile(path string) ([]credEntry, error) {
	if err := checkPrivate(path, "this file of secrets"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials file: %v", err)
	}
	return parseCredentials(path, string(b))
}

// checkPrivate refuses a file that group or others may read or write;
// what says what the file is, for the error.
func checkPrivate(path, what string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return fmt.Errorf("%s: group or others may access %s (mode %04o): chmod 600 %s", path, what, perm, path)
	}
	return nil
}

// netrcWord is one word of a netrc file and where it starts.
type netrcWord struct {
	s         string
	quoted    bool
	line, col int
}

// netrcWords splits src into words, dropping comments.
func netrcWords(name, src string) ([]netrcWord, error) {
	var words []netrcWord
	line, col := 1, 1
	i := 0
	advance := func() {
		if src[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	for i < len(src) {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			advance()
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				advance()
			}
		case c == '"':
			w := netrcWord{quoted: true, line: line, col: col}
			advance()
			var b strings.Builder
			for {
				if i >= len(src) || src[i] == '\n' {
					return nil, fmt.Errorf("%s:%d:%d: a quoted word does not end on its line", name, w.line, w.col)
				}
				c := src[i]
				advance()
				if c == '"' {
					break
				}
				if c == '\\' && i < len(src) && src[i] != '\n' {
					c = src[i]
					advance()
					switch c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					}
				}
				b.WriteByte(c)
			}
			w.s = b.String()
			words = append(words, w)
		default:
			w := netrcWord{line: line, col: col}
			start := i
			for i < len(src) && !strings.ContainsRune(" \t\r\n", rune(src[i])) {
				advance()
			}
			w.s = src[start:i]
			words = append(words, w)
		}
	}
	return words, nil
}

// parseCredentials parses a credentials file's text; name is its path,
// for errors.
func parseCredentials(name, src string) ([]credEntry, error) {
	words, err := netrcWords(name, src)
	if err != nil {
		return nil, err
	}
	type entry struct {
		machine, login, password *netrcWord
	}
	var (
		entries []entry
		cur     *entry
	)
	at := func(w netrcWord) string { return fmt.Sprintf("%s:%d:%d", name, w.line, w.col) }
	for k := 0; k < len(words); k++ {
		w := words[k]
		key := w.s
		if w.quoted {
			key = "" // a quoted word is never a keyword
		}
		value := func() (*netrcWord, error) {
			if k+1 >= len(words) {
				return nil, fmt.Errorf("%s: %s needs a value", at(w), key)
			}
			k++
			return &words[k], nil
		}
		switch key {
		case "machine":
			v, err := value()
			if err != nil {
				return nil, err
			}
			entries = append(entries, entry{machine: v})
			cur = &entries[len(entries)-1]
		case "login", "password":
			if cur == nil {
				return nil, fmt.Errorf("%s: %s before any machine", at(w), key)
			}
			slot := &cur.login
			if key == "password" {
				slot = &cur.password
			}
			if *slot != nil {
				return nil, fmt.Errorf("%s: a second %s for the machine of line %d", at(w), key, cur.machine.line)
			}
			v, err := value()
			if err != nil {
				return nil, err
			}
			*slot = v
		case "default":
			return nil, fmt.Errorf("%s: a default entry is refused: its credentials would go to any proxy a PAC script names; write a machine entry for each proxy", at(w))
		case "port":
			return nil, fmt.Errorf("%s: port is not a keyword here: write the port in the machine (machine host:port)", at(w))
		case "macdef", "account":
			return nil, fmt.Errorf("%s: %s is not supported in a credentials file", at(w), key)
		default:
			// Not quoted: it may be a password whose keyword is missing.
			return nil, fmt.Errorf("%s: unexpected word (want machine, login or password)", at(w))
		}
	}
	var out []credEntry
	seen := map[string]int{}
	for _, e := range entries {
		m := e.machine
		where := fmt.Sprintf("%s:%d", name, m.line)
		if e.login == nil {
			return nil, fmt.Errorf("%s: machine %s has no login", where, m.s)
		}
		s := m.s
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%s: machine %q: want a proxy URL or host:port", where, m.s)
		}
		if u.User != nil {
			return nil, fmt.Errorf("%s: machine: user information belongs in login and password, not in the machine", where)
		}
		if e.password != nil {
			u.User = url.UserPassword(e.login.s, e.password.s)
		} else {
			u.User = url.User(e.login.s)
		}
		p, err := resolver.ParseProxyURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("%s: machine %s: %v", where, m.s, err)
		}
		if first, dup := seen[p.Addr()]; dup {
			return nil, fmt.Errorf("%s: machine %s: %s already has credentials, at line %d (one entry per address)", where, m.s, p.Addr(), first)
		}
		seen[p.Addr()] = m.line
		out = append(out, credEntry{line: m.line, proxy: p, url: u.String()})
	}
	return out, nil
}
