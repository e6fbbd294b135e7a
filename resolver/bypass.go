package resolver

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gobwas/glob"
	"github.com/pacd/pacd/internal/hostname"
)

// A BypassList is a parsed NO_PROXY-style list of destinations that must
// not be proxied. Its grammar is the canonical one described in the
// package documentation. A BypassList is immutable and safe for
// concurrent use; the zero BypassList bypasses nothing.
type BypassList struct {
	all        bool // "*": everything
	local      bool // "<local>": plain host names
	noImplicit bool // "<-loopback>": loopback and link-local may be proxied
	entries    []bypassEntry
}

type entryKind uint8

const (
	entryDomain entryKind = iota // the name and every name below it
	entryGlob                    // a whole-name glob ("*example.com", "host-*.corp")
	entryPrefix                  // an address or a CIDR block
)

type bypassEntry struct {
	text   string // as written, for explanations
	kind   entryKind
	port   uint16 // 0 means any port
	domain string
	glob   *glob.Pattern
	prefix netip.Prefix
}

// A BypassError reports entries of a bypass list that cannot be parsed.
type BypassError struct {
	Source  string   // where the list came from ("NO_PROXY", "--bypass"), if known
	Entries []string // the entries, as written
	Reasons []string // why, one per entry
}

func (e *BypassError) Error() string {
	var b strings.Builder
	b.WriteString("resolver: ")
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	for i := range e.Entries {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "bad bypass entry %q: %s", e.Entries[i], e.Reasons[i])
	}
	return b.String()
}

// ParseBypassList parses a bypass list strictly: any entry it cannot
// parse makes it fail, with a [*BypassError] naming each one. Entries are
// separated by commas, semicolons or white space.
func ParseBypassList(s string) (*BypassList, error) {
	b, err := parseBypassList(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// parseBypassList parses s, returning the list of the entries that parse
// and, when some did not, a *BypassError naming them: the lenient reading
// of the environment's NO_PROXY keeps the rest.
func parseBypassList(s string) (*BypassList, *BypassError) {
	b := &BypassList{}
	var bad *BypassError
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
	}) {
		switch strings.ToLower(f) {
		case "*":
			b.all = true
			continue
		case "<local>":
			b.local = true
			continue
		case "<-loopback>":
			b.noImplicit = true
			continue
		}
		e, err := parseBypassEntry(f)
		if err != nil {
			if bad == nil {
				bad = &BypassError{}
			}
			bad.Entries = append(bad.Entries, f)
			bad.Reasons = append(bad.Reasons, err.Error())
			continue
		}
		b.entries = append(b.entries, e)
	}
	return b, bad
}

func parseBypassEntry(text string) (bypassEntry, error) {
	e := bypassEntry{text: text}
	s := strings.ToLower(text)
	if strings.Contains(s, "://") {
		return e, errors.New("a scheme is not allowed")
	}
	// CIDR blocks: "10.0.0.0/8", "2001:db8::/32", "[2001:db8::]/32".
	if i := strings.IndexByte(s, '/'); i >= 0 {
		addr := strings.TrimSuffix(strings.TrimPrefix(s[:i], "["), "]")
		p, err := netip.ParsePrefix(addr + s[i:])
		if err != nil || p.Addr().Zone() != "" {
			return e, errors.New("invalid CIDR block")
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		e.kind, e.prefix = entryPrefix, p.Masked()
		return e, nil
	}
	host, port, err := splitEntryPort(s)
	if err != nil {
		return e, err
	}
	e.port = port
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return e, errors.New("an IPv6 zone is not allowed")
		}
		a = a.Unmap()
		e.kind, e.prefix = entryPrefix, netip.PrefixFrom(a, a.BitLen())
		return e, nil
	}
	if strings.HasPrefix(host, "*.") {
		host = host[2:]
	} else if strings.HasPrefix(host, ".") {
		host = host[1:]
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return e, errors.New("empty host")
	}
	if strings.ContainsAny(host, "*?") {
		g, err := glob.Compile(globQuote(host))
		if err != nil {
			return e, fmt.Errorf("invalid pattern: %v", err)
		}
		e.kind, e.glob = entryGlob, g
		return e, nil
	}
	h, ok := hostname.Canonical(host)
	if !ok || strings.ContainsAny(h, "[]:") {
		return e, errors.New("invalid host")
	}
	if a, ok := hostname.ParseIPv4(h); ok && hostname.LooksNumeric(lastLabel(h)) {
		// "127.1" and such: an address after all.
		e.kind, e.prefix = entryPrefix, netip.PrefixFrom(a, 32)
		return e, nil
	}
	e.kind, e.domain = entryDomain, h
	return e, nil
}

// splitEntryPort splits "host:port" and "[v6]:port"; an IPv6 address
// without brackets has no port.
func splitEntryPort(s string) (string, uint16, error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", 0, errors.New("missing ']'")
		}
		host, rest := s[1:end], s[end+1:]
		if _, err := netip.ParseAddr(host); err != nil {
			return "", 0, errors.New("invalid IPv6 address in brackets")
		}
		if rest == "" {
			return host, 0, nil
		}
		if rest[0] != ':' {
			return "", 0, errors.New("junk after ']'")
		}
		p, err := parsePort(rest[1:])
		return host, p, err
	}
	if strings.Count(s, ":") > 1 {
		return s, 0, nil
	}
	host, ps, ok := strings.Cut(s, ":")
	if !ok {
		return s, 0, nil
	}
	p, err := parsePort(ps)
	return host, p, err
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || s[0] == '+' {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return uint16(n), nil
}

// globQuote escapes everything in a host pattern but '*' and '?', which
// keep their glob meaning (any run, any one character, across dots).
func globQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' {
			b.WriteRune(r)
			continue
		}
		b.WriteString(glob.QuoteMeta(string(r)))
	}
	return b.String()
}

func lastLabel(h string) string {
	if i := strings.LastIndexByte(h, '.'); i >= 0 {
		return h[i+1:]
	}
	return h
}

// A destination is the host and port a query is for, read once: a name
// in canonical form, or an address.
type destination struct {
	name string     // canonical name, without trailing dot; "" for an address
	addr netip.Addr // valid for an address (IPv4-mapped addresses unmapped)
	port uint16     // effective port: the URL's, or its scheme's default
}

// newDestination reads host (a URL host name, brackets removed) and port.
func newDestination(host string, port uint16) (destination, error) {
	d := destination{port: port}
	h := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), ".")
	if h == "" {
		return d, errors.New("resolver: no host")
	}
	if a, err := netip.ParseAddr(h); err == nil {
		d.addr = a.WithZone("").Unmap()
		return d, nil
	}
	if a, ok := hostname.ParseIPv4(h); ok && hostname.LooksNumeric(lastLabel(h)) {
		d.addr = a
		return d, nil
	}
	c, ok := hostname.Canonical(h)
	if !ok {
		return d, fmt.Errorf("resolver: invalid host %q", host)
	}
	d.name = c
	return d, nil
}

// String returns the destination as host:port.
func (d destination) String() string {
	h := d.name
	if d.addr.IsValid() {
		h = d.addr.String()
		if d.addr.Is6() {
			h = "[" + h + "]"
		}
	}
	return h + ":" + strconv.Itoa(int(d.port))
}

// isPlain reports whether d is a host name without a dot.
func (d destination) isPlain() bool {
	return d.name != "" && strings.IndexByte(d.name, '.') < 0
}

// match returns the entry of b that d matches, as written, or "".
func (b *BypassList) match(d destination) string {
	if b == nil {
		return ""
	}
	if b.all {
		return "*"
	}
	if b.local && d.isPlain() {
		return "<local>"
	}
	for i := range b.entries {
		e := &b.entries[i]
		if e.port != 0 && e.port != d.port {
			continue
		}
		switch e.kind {
		case entryPrefix:
			if d.addr.IsValid() && e.prefix.Contains(d.addr) {
				return e.text
			}
		case entryDomain:
			if d.name != "" && (d.name == e.domain ||
				len(d.name) > len(e.domain) && d.name[len(d.name)-len(e.domain)-1] == '.' && strings.HasSuffix(d.name, e.domain)) {
				return e.text
			}
		case entryGlob:
			if d.name != "" && e.glob.Match(d.name) {
				return e.text
			}
		}
	}
	return ""
}

// Match reports whether the destination host and port is in b, and which
// entry matched it, as written. host is a URL host name (brackets
// allowed); port is the destination's port (the scheme's default when the
// URL has none). A host that is not a valid name or address matches
// nothing but "*".
func (b *BypassList) Match(host string, port uint16) (entry string, ok bool) {
	d, err := newDestination(host, port)
	if err != nil {
		if b != nil && b.all {
			return "*", true
		}
		return "", false
	}
	e := b.match(d)
	return e, e != ""
}

// merge returns a list holding the entries of b and o.
func (b *BypassList) merge(o *BypassList) *BypassList {
	switch {
	case b == nil:
		return o
	case o == nil:
		return b
	}
	return &BypassList{
		all:        b.all || o.all,
		local:      b.local || o.local,
		noImplicit: b.noImplicit || o.noImplicit,
		entries:    append(append([]bypassEntry(nil), b.entries...), o.entries...),
	}
}

var (
	loopback4 = netip.MustParsePrefix("127.0.0.0/8")
	linkLocal = netip.MustParsePrefix("169.254.0.0/16")
)

// implicitBypass returns why d is never proxied unless the configuration
// says <-loopback>: it is localhost, a loopback address or a link-local
// one (as in Chromium; Go and Qt bypass loopback too). "" otherwise.
func implicitBypass(d destination) string {
	switch {
	case d.name == "localhost" || strings.HasSuffix(d.name, ".localhost"):
		return "localhost"
	case d.addr.IsValid() && (loopback4.Contains(d.addr) || d.addr.IsLoopback()):
		return "loopback address"
	case d.addr.IsValid() && (linkLocal.Contains(d.addr) || d.addr.IsLinkLocalUnicast()):
		return "link-local address"
	}
	return ""
}
