package main

import (
	"net/netip"
	"strings"

	"github.com/pacd/pacd/resolver"
)

// A doctorChange is one proposed change to the environment, and why.
type doctorChange struct {
	Edits []envEdit `json:"edits"`
	Why   string    `json:"why"`
}

// An envEdit sets or unsets one variable.
type envEdit struct {
	Name  string `json:"variable"`
	Value string `json:"value,omitempty"`
	Unset bool   `json:"unset,omitempty"`
}

// solve looks for the smallest change to environ that makes every
// flavour agree on every URL: greedily, the candidate that leaves the
// fewest disagreements each round, as long as it helps. It returns the
// changes and the run with them applied.
func (d *doctor) solve(environ []string, run *doctorRun) ([]doctorChange, *doctorRun) {
	var changes []doctorChange
	var runs []*doctorRun
	cur, curRun := environ, run
	// Between changes that fix as much, prefer the one that keeps what
	// the canonical reading (what the variables are taken to mean) does.
	cost := func(r *doctorRun) int {
		n := r.score() * 64
		for i := range r.cells {
			if r.cells[i][0].verdict != run.cells[i][0].verdict {
				n++
			}
		}
		return n
	}
	for round := 0; round < 8 && curRun.disagreements() > 0; round++ {
		var best *doctorChange
		var bestEnv []string
		var bestRun *doctorRun
		for _, c := range d.candidates(cur, curRun) {
			env := applyEdits(cur, c.Edits)
			r := d.evaluate(env)
			if r.score() >= curRun.score() {
				continue
			}
			if bestRun == nil || cost(r) < cost(bestRun) {
				c := c
				best, bestEnv, bestRun = &c, env, r
			}
		}
		if best == nil {
			break
		}
		changes = append(changes, *best)
		runs = append(runs, bestRun)
		cur, curRun = bestEnv, bestRun
	}
	// Keep the shortest run of changes that leaves the fewest URLs in
	// disagreement, and none that leave as many as before.
	keep, fewest := 0, run.disagreements()
	for i, r := range runs {
		if n := r.disagreements(); n < fewest {
			keep, fewest = i+1, n
		}
	}
	if keep == 0 {
		return nil, run
	}
	return mergeChanges(changes[:keep]), runs[keep-1]
}

// mergeChanges folds successive edits of one variable into the last.
func mergeChanges(cs []doctorChange) []doctorChange {
	var out []doctorChange
	for _, c := range cs {
		if n := len(out); n > 0 && len(c.Edits) == 1 && len(out[n-1].Edits) == 1 && out[n-1].Edits[0].Name == c.Edits[0].Name {
			out[n-1].Edits = c.Edits
			out[n-1].Why += "; " + c.Why
			continue
		}
		out = append(out, c)
	}
	return out
}

func applyEdits(environ []string, edits []envEdit) []string {
	out := append([]string(nil), environ...)
	for _, e := range edits {
		found := false
		for i := 0; i < len(out); i++ {
			if name, _, _ := strings.Cut(out[i], "="); name == e.Name {
				if e.Unset {
					out = append(out[:i], out[i+1:]...)
					i--
					continue
				}
				out[i], found = e.Name+"="+e.Value, true
			}
		}
		if !found && !e.Unset {
			out = append(out, e.Name+"="+e.Value)
		}
	}
	return out
}

func lookupEnv(environ []string, name string) (string, bool) {
	for _, kv := range environ {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// noProxyVars are the NO_PROXY variables that are set, or NO_PROXY.
func noProxyVars(environ []string) []string {
	var out []string
	for _, n := range []string{"no_proxy", "NO_PROXY"} {
		if _, ok := lookupEnv(environ, n); ok {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []string{"NO_PROXY"}
	}
	return out
}

// editNoProxy applies f to the value of every NO_PROXY variable.
func editNoProxy(environ []string, f func(string) string) []envEdit {
	var out []envEdit
	for _, n := range noProxyVars(environ) {
		v, _ := lookupEnv(environ, n)
		if nv := f(v); nv != v {
			out = append(out, envEdit{Name: n, Value: nv})
		}
	}
	return out
}

// replaceEntry replaces the entry old of a NO_PROXY value by repl
// (nothing, to remove it).
func replaceEntry(v, old, repl string) string {
	parts := strings.Split(v, ",")
	var out []string
	done := false
	for _, p := range parts {
		if strings.TrimSpace(p) == strings.TrimSpace(old) && !done {
			done = true
			if repl != "" {
				out = append(out, repl)
			}
			continue
		}
		if strings.TrimSpace(p) != "" {
			out = append(out, strings.TrimSpace(p))
		}
	}
	if !done {
		s := strings.Replace(v, old, repl, 1)
		return strings.Trim(strings.ReplaceAll(s, ",,", ","), ", ")
	}
	return strings.Join(out, ",")
}

func addEntry(v, e string) string {
	if strings.TrimSpace(v) == "" {
		return e
	}
	return strings.TrimRight(v, ", ") + "," + e
}

// candidates proposes changes from the clauses that explain the current
// disagreements.
func (d *doctor) candidates(environ []string, run *doctorRun) []doctorChange {
	var out []doctorChange
	seen := map[string]bool{}
	add := func(why string, edits []envEdit) {
		if len(edits) == 0 {
			return
		}
		key := why
		for _, e := range edits {
			key += "|" + e.Name + "=" + e.Value
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, doctorChange{Edits: edits, Why: why})
		}
	}
	entryFix := func(why, old, repl string) {
		add(why, editNoProxy(environ, func(v string) string { return replaceEntry(v, old, repl) }))
	}
	for i, u := range d.urls {
		if run.agrees(i) {
			continue
		}
		host := u.Hostname()
		hostEntry := host
		if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
			hostEntry = a.String()
		}
		for _, row := range run.cells[i] {
			for _, c := range row.clauses {
				d.clauseCandidates(environ, c, hostEntry, add, entryFix)
			}
		}
		add("list "+hostEntry+" in NO_PROXY", editNoProxy(environ, func(v string) string { return addEntry(v, hostEntry) }))
	}
	return out
}

func (d *doctor) clauseCandidates(environ []string, c resolver.Clause, host string, add func(string, []envEdit), entryFix func(why, old, repl string)) {
	rule := c.ID[strings.IndexByte(c.ID, '/')+1:]
	s := c.Subject
	bare := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "*"), ".")
	switch rule {
	case "dot-excludes-apex", "exact-only", "exact-name", "star-never", "no-glob", "localhost-exact":
		if bare != "" && !strings.ContainsAny(bare, "*/ ") {
			entryFix("write ."+bare+" and "+bare, s, bare+",."+bare)
		}
	case "no-proxy-port", "port-only-written", "port-pattern":
		if h := strings.TrimSpace(s); hasPortSuffix(h) {
			entryFix("drop the port from NO_PROXY entry "+h, s, h[:strings.LastIndexByte(h, ':')])
		}
	case "star-alone":
		for _, n := range noProxyVars(environ) {
			add("use * alone", []envEdit{{Name: n, Value: "*"}})
		}
	case "commas-only", "blanks-removed", "no-semicolon", "no-blank-separator":
		entryFix("separate the NO_PROXY entries with commas", s, strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ';' }), ","))
	case "trailing-dot":
		if strings.HasSuffix(s, ".") {
			entryFix("drop the trailing dot from NO_PROXY entry "+s, s, strings.TrimSuffix(s, "."))
		}
	case "bracketed-ipv6", "refuses-entry", "brackets-kept", "ipv6-brackets":
		if t := strings.Trim(s, "[]"); t != s {
			entryFix("write "+t+" without brackets", s, t)
		}
		entryFix("remove NO_PROXY entry "+s, s, "")
	case "ip-suffix", "pattern-suffix", "plain-suffix", "env-suffix", "scheme-entry", "path-ignored", "cidr-atoi", "no-cidr", "cidr-zero", "cidr-mask", "cidr-network-only", "no-chromium-syntax":
		entryFix("remove NO_PROXY entry "+s, s, "")
	case "no-upper-http-proxy":
		if v, ok := lookupEnv(environ, "HTTP_PROXY"); ok {
			add("set lower-case http_proxy too", []envEdit{{Name: "http_proxy", Value: v}})
		}
	case "uppercase-first":
		lower := strings.ToLower(s)
		if v, ok := lookupEnv(environ, lower); ok {
			add("make "+s+" the same as "+lower, []envEdit{{Name: s, Value: v}})
		}
	case "empty-hides-upper":
		add("unset the empty "+s, []envEdit{{Name: s, Unset: true}})
		if v, ok := lookupEnv(environ, strings.ToUpper(s)); ok {
			add("set "+s+" to the value of "+strings.ToUpper(s), []envEdit{{Name: s, Value: v}})
		}
	case "no-all-proxy", "all-proxy-first":
		for _, all := range []string{"all_proxy", "ALL_PROXY"} {
			v, ok := lookupEnv(environ, all)
			if !ok || v == "" {
				continue
			}
			var edits []envEdit
			for _, n := range []string{"http_proxy", "https_proxy"} {
				if cur, _ := lookupEnv(environ, n); cur == "" {
					edits = append(edits, envEdit{Name: n, Value: v})
				}
			}
			add("set http_proxy and https_proxy as well as "+all, edits)
			add("unset "+all, []envEdit{{Name: all, Unset: true}})
		}
	case "proxy-port-1080", "proxy-scheme-from-url":
		if v, ok := lookupEnv(environ, s); ok {
			add("write the proxy in "+s+" as a full URL, with scheme and port", []envEdit{{Name: s, Value: fullProxyURL(v)}})
		}
	case "cgi-refuses", "no-cgi-guard", "any-case":
		add("unset "+s, []envEdit{{Name: s, Unset: true}})
	case "no-implicit", "loopback-literal-only", "no-link-local", "mapped-loopback", "idn-as-text", "unicode-entry", "idn-decoded", "address-text", "address-forms", "ipv6-as-text", "no-ipv6-cidr":
		// Listing the host itself (candidates adds it for every URL) is
		// the change that can help here.
	}
}

func hasPortSuffix(s string) bool {
	i := strings.LastIndexByte(s, ':')
	return i > 0 && i > strings.LastIndexByte(s, ']') && !strings.Contains(s[:i], ":") || strings.HasPrefix(s, "[") && strings.Contains(s, "]:")
}

// fullProxyURL writes a proxy value with its scheme and port.
func fullProxyURL(v string) string {
	p, err := resolver.ParseProxyURL(v)
	if err != nil {
		return v
	}
	u := p.URL()
	return u.String()
}
