package resolver

import (
	"strings"

	"golang.org/x/net/idna"
)

// A clientEntry is one NO_PROXY entry as a client splits its list, with
// the canonical reading of the same text, so that a flavour can say
// which of its rules made the difference when the two disagree.
type clientEntry struct {
	text  string      // the client's token, as written
	canon *BypassList // the canonical reading of that token alone
}

func newClientEntry(text string) clientEntry {
	b, _ := parseBypassList(text)
	return clientEntry{text: text, canon: b}
}

// canonMatches reports whether the canonical reading of the entry
// matches the destination.
func (e clientEntry) canonMatches(req *request) bool {
	d, err := newDestination(req.host, req.eff)
	if err != nil {
		return false
	}
	return e.canon.match(d) != ""
}

// A bypassResult is what a client's NO_PROXY made of a request: the
// entry that matched ("" for none) and the clauses that explain where
// the client departed from the canonical reading.
type bypassResult struct {
	entry   string
	clauses []Clause
}

// compareBypass runs a client's matcher over its entries in order: the
// first entry match(i) accepts decides. why explains an entry whose
// verdict differs from the canonical reading's: matched says which way.
// When nothing matches, every entry that the canonical reading would
// have matched is explained.
func compareBypass(entries []clientEntry, req *request, match func(i int) bool, why func(text string, matched bool) Clause) bypassResult {
	for i, e := range entries {
		if match(i) {
			r := bypassResult{entry: e.text}
			if !e.canonMatches(req) {
				r.clauses = []Clause{why(e.text, true)}
			}
			return r
		}
	}
	var r bypassResult
	for _, e := range entries {
		if e.canonMatches(req) {
			r.clauses = append(r.clauses, why(e.text, false))
		}
	}
	return r
}

// asciiHost returns h in punycode when it is not ASCII, as most clients
// send it; h unchanged when it cannot be converted.
func asciiHost(h string) string {
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 {
			if a, err := idna.Lookup.ToASCII(h); err == nil {
				return a
			}
			return h
		}
	}
	return h
}

// isASCII reports whether s is ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// splitAny splits s at every byte in seps, keeping empty fields.
func splitAny(s, seps string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
}

// genericWhy is the explanation of last resort for an entry whose
// verdict differs from the canonical reading for no reason a flavour
// names more precisely.
func genericWhy(id string, f Flavor, text string, matched bool) Clause {
	if matched {
		return clause(id, text, "%s matches NO_PROXY entry %q here where pacd's reading does not", f.Client(), text)
	}
	return clause(id, text, "%s does not match NO_PROXY entry %q here where pacd's reading does", f.Client(), text)
}

// chromiumSyntax reports whether a NO_PROXY entry is Chromium's special
// syntax, which only the canonical and chromium flavours understand.
func chromiumSyntax(t string) bool {
	t = strings.ToLower(strings.TrimSpace(t))
	return t == "<local>" || t == "<-loopback>"
}
