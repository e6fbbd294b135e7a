package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strings"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
)

var cmdDoctor = &command{
	name:  "doctor",
	usage: "[--json] [--pac FILE] [URL...]",
	short: "show where curl, Go, Python, Node, HTTPX and Chromium disagree",
	long: `
Doctor reads the proxy variables of the environment (HTTP_PROXY,
HTTPS_PROXY, ALL_PROXY, NO_PROXY, in every spelling, and REQUEST_METHOD)
and prints, for each URL, what every client flavour would do with them,
side by side: pacd's canonical reading, Go (golang.org/x/net and net/http),
curl, Python urllib, requests, Node's proxy-from-env, HTTPX and Chromium
(see go doc github.com/pacd/pacd/resolver.Flavor).

Without URLs, doctor tries a few built from the NO_PROXY entries and
http(s)://www.example.com/. Rows where the clients disagree are marked
with "!", each difference is explained by the client's rule in one
sentence, and doctor proposes the smallest change to the variables it
finds that makes every client agree on every URL, checked by trying it.

--pac adds a PAC script, which only the canonical and Chromium readings
consult. --json prints everything as one JSON object. The exit status is
0 when every client agrees, 1 when some disagree.`,
	flags: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		o := &doctorFlags{}
		fs.BoolVar(&o.json, "json", false, "print one JSON object")
		fs.StringVar(&o.pacFile, "pac", "", "a PAC script `file` for the canonical and chromium readings")
		return func(ctx context.Context, args []string) error { return o.run(ctx, e, args) }
	},
}

type doctorFlags struct {
	json    bool
	pacFile string
}

// A doctorCell is what one flavour does with one URL.
type doctorCell struct {
	verdict  string // "DIRECT", the proxies' URLs, or "ERR"
	decision resolver.Decision
	err      error
	clauses  []resolver.Clause
}

// A doctorRun is every flavour on every URL, for one environment.
type doctorRun struct {
	cells   [][]doctorCell // [url][flavour]
	refused map[resolver.Flavor]*resolver.RefusedError
}

func (o *doctorFlags) run(ctx context.Context, e *env, args []string) error {
	environ := proxyEnviron(os.Environ())
	var pacEval resolver.Evaluator
	if o.pacFile != "" {
		src, err := os.ReadFile(o.pacFile)
		if err != nil {
			return err
		}
		s, err := pac.Compile(string(src), &pac.Options{Name: o.pacFile})
		if err != nil {
			return err
		}
		pacEval = s
	}
	var urls []*url.URL
	for _, a := range args {
		u, err := url.Parse(a)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return usagef("%q is not an absolute URL", a)
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 {
		urls = defaultDoctorURLs(environ)
	}
	d := &doctor{ctx: ctx, pac: pacEval, urls: urls, flavors: resolver.Flavors()}
	first := d.evaluate(environ)
	changes, after := d.solve(environ, first)
	if o.json {
		return d.printJSON(e.stdout, environ, first, changes, after)
	}
	d.printText(e.stdout, isTerminal(e.stdout), environ, first, changes, after)
	if first.disagreements() > 0 {
		return &exitError{1}
	}
	return nil
}

type doctor struct {
	ctx     context.Context
	pac     resolver.Evaluator
	urls    []*url.URL
	flavors []resolver.Flavor
}

// proxyEnviron keeps the variables that concern proxies, in order.
func proxyEnviron(list []string) []string {
	var out []string
	for _, kv := range list {
		name, _, _ := strings.Cut(kv, "=")
		if isProxyVar(name) {
			out = append(out, kv)
		}
	}
	return out
}

func isProxyVar(name string) bool {
	switch name {
	case "REQUEST_METHOD", "SOCKS_SERVER", "SOCKS_VERSION":
		return true
	}
	return strings.HasSuffix(strings.ToLower(name), "_proxy")
}

// evaluate runs every flavour on every URL with the environment environ.
func (d *doctor) evaluate(environ []string) *doctorRun {
	run := &doctorRun{cells: make([][]doctorCell, len(d.urls)), refused: map[resolver.Flavor]*resolver.RefusedError{}}
	for i := range run.cells {
		run.cells[i] = make([]doctorCell, len(d.flavors))
	}
	for j, f := range d.flavors {
		cfg := &resolver.Config{Env: resolver.ReadEnvList(environ), Flavor: f, PAC: d.pac}
		r, err := resolver.New(cfg)
		for i, u := range d.urls {
			c := &run.cells[i][j]
			if err != nil {
				c.verdict, c.err = "ERR", err
				var re *resolver.RefusedError
				if errors.As(err, &re) {
					run.refused[f] = re
					c.clauses = []resolver.Clause{re.Clause}
				}
				continue
			}
			dec, rerr := r.Resolve(d.ctx, u)
			c.decision, c.err, c.clauses = dec, rerr, dec.Clauses
			switch {
			case rerr != nil:
				c.verdict = "ERR"
			case len(dec.Proxies) == 1 && dec.Proxies[0].IsDirect():
				c.verdict = "DIRECT"
			default:
				c.verdict = dec.URLs()
			}
		}
	}
	return run
}

// agrees reports whether every flavour gives URL i the same answer.
func (r *doctorRun) agrees(i int) bool {
	for _, c := range r.cells[i] {
		if c.verdict != r.cells[i][0].verdict {
			return false
		}
	}
	return true
}

func (r *doctorRun) disagreements() int {
	n := 0
	for i := range r.cells {
		if !r.agrees(i) {
			n++
		}
	}
	return n
}

// score orders environments for the search: fewer URLs in disagreement,
// then fewer answers that differ from the canonical one.
func (r *doctorRun) score() int {
	n := 0
	for i := range r.cells {
		if !r.agrees(i) {
			n += 1000
		}
		for _, c := range r.cells[i] {
			if c.verdict != r.cells[i][0].verdict {
				n++
			}
		}
	}
	return n
}

// A difference is one clause, and the flavours whose answer it changed.
type difference struct {
	flavors []resolver.Flavor
	clause  resolver.Clause
}

// differences explains URL i: for every flavour whose answer differs from
// the canonical one, its first clause, grouped by clause.
func (d *doctor) differences(r *doctorRun, i int) []difference {
	var out []difference
	for j, c := range r.cells[i] {
		if j == 0 || c.verdict == r.cells[i][0].verdict {
			continue
		}
		cl := resolver.Clause{ID: d.flavors[j].String() + "/differs", Text: d.flavors[j].Client() + " departs from pacd's reading here"}
		if len(c.clauses) > 0 {
			cl = c.clauses[0]
		}
		merged := false
		for k := range out {
			if out[k].clause.ID == cl.ID && out[k].clause.Text == cl.Text {
				out[k].flavors = append(out[k].flavors, d.flavors[j])
				merged = true
			}
		}
		if !merged {
			out = append(out, difference{[]resolver.Flavor{d.flavors[j]}, cl})
		}
	}
	return out
}

// defaultDoctorURLs builds a few URLs from the NO_PROXY entries, and adds
// http(s)://www.example.com/.
func defaultDoctorURLs(environ []string) []*url.URL {
	scheme := "https"
	var noProxy []string
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		switch strings.ToLower(name) {
		case "http_proxy", "all_proxy":
			if v != "" {
				scheme = "http"
			}
		case "no_proxy":
			noProxy = append(noProxy, v)
		}
	}
	seen := map[string]bool{}
	var out []*url.URL
	add := func(s string) {
		if u, err := url.Parse(s); err == nil && u.Host != "" && !seen[s] && len(out) < 12 {
			seen[s] = true
			out = append(out, u)
		}
	}
	for _, v := range noProxy {
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(", ;\t\n", r) }) {
			for _, s := range entryURLs(scheme, e) {
				add(s)
			}
		}
	}
	add("https://www.example.com/")
	add("http://www.example.com/")
	return out
}

// entryURLs returns URLs a NO_PROXY entry is meant to cover.
func entryURLs(scheme, e string) []string {
	if i := strings.Index(e, "://"); i >= 0 {
		scheme, e = e[:i], e[i+3:]
	}
	e = strings.TrimSuffix(e, "/")
	if e == "" || e == "*" || strings.HasPrefix(e, "<") {
		return nil
	}
	if p, err := netip.ParsePrefix(strings.Trim(e, "[]")); err == nil {
		a := p.Masked().Addr().Next()
		if a.Is6() {
			return []string{scheme + "://[" + a.String() + "]/"}
		}
		return []string{scheme + "://" + a.String() + "/"}
	}
	if a, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
		if a.Is6() {
			return []string{scheme + "://[" + a.String() + "]/"}
		}
		return []string{scheme + "://" + a.String() + "/"}
	}
	if strings.HasPrefix(e, "[") {
		return []string{scheme + "://" + e + "/"}
	}
	host, port, hasPort := strings.Cut(e, ":")
	name := strings.TrimPrefix(strings.TrimPrefix(host, "*"), ".")
	if name == "" || strings.Contains(name, "*") {
		return nil
	}
	if hasPort {
		name += ":" + port
	}
	return []string{scheme + "://" + name + "/", scheme + "://www." + name + "/"}
}

// isTerminal reports whether w is a terminal, for colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// redactEnv hides the passwords in a KEY=value list.
func redactEnv(kv string) string {
	name, v, _ := strings.Cut(kv, "=")
	if u, err := url.Parse(v); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return name + "=" + u.String()
		}
	}
	return kv
}

// proxyLabels names each distinct proxy answer A, B, C... in order of
// appearance.
func proxyLabels(r *doctorRun) (map[string]string, []string) {
	labels := map[string]string{}
	var order []string
	for _, row := range r.cells {
		for _, c := range row {
			if c.verdict == "DIRECT" || c.verdict == "ERR" || labels[c.verdict] != "" {
				continue
			}
			labels[c.verdict] = string(rune('A' + len(order)%26))
			order = append(order, c.verdict)
		}
	}
	return labels, order
}

func (d *doctor) printText(w io.Writer, colour bool, environ []string, r *doctorRun, changes []doctorChange, after *doctorRun) {
	paint := func(code, s string) string {
		if !colour {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	fmt.Fprintln(w, "Environment:")
	if len(environ) == 0 {
		fmt.Fprintln(w, "  (no proxy variables are set)")
	}
	for _, kv := range environ {
		fmt.Fprintf(w, "  %s\n", redactEnv(kv))
	}
	labels, order := proxyLabels(r)
	if len(order) > 0 {
		fmt.Fprintln(w, "\nProxies:")
		for _, p := range order {
			fmt.Fprintf(w, "  %s = %s\n", labels[p], p)
		}
	}
	cell := func(c doctorCell) string {
		if l, ok := labels[c.verdict]; ok {
			return l
		}
		return c.verdict
	}
	width := 3
	for _, u := range d.urls {
		width = max(width, len(u.Redacted()))
	}
	cols := make([]int, len(d.flavors))
	for j, f := range d.flavors {
		cols[j] = len(f.String())
		for i := range r.cells {
			cols[j] = max(cols[j], len(cell(r.cells[i][j])))
		}
	}
	fmt.Fprintf(w, "\n  %-*s", width, "URL")
	for j, f := range d.flavors {
		fmt.Fprintf(w, "  %-*s", cols[j], f.String())
	}
	fmt.Fprintln(w)
	for i, u := range d.urls {
		mark := "  "
		if !r.agrees(i) {
			mark = paint("1;31", "! ")
		}
		line := fmt.Sprintf("%s%-*s", mark, width, u.Redacted())
		for j := range d.flavors {
			s := fmt.Sprintf("%-*s", cols[j], cell(r.cells[i][j]))
			if r.cells[i][j].verdict != r.cells[i][0].verdict {
				s = paint("33", s)
			}
			line += "  " + s
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	n := r.disagreements()
	if n == 0 {
		fmt.Fprintf(w, "\nEvery client agrees on %s.\n", plural(len(d.urls), "URL"))
		return
	}
	fmt.Fprintf(w, "\nThe clients disagree on %d of %s:\n", n, plural(len(d.urls), "URL"))
	for i, u := range d.urls {
		if r.agrees(i) {
			continue
		}
		fmt.Fprintf(w, "  %s\n", u.Redacted())
		for _, df := range d.differences(r, i) {
			fmt.Fprintf(w, "    %s: %s [%s]\n", flavorList(df.flavors), sentence(df.clause.Text), df.clause.ID)
		}
	}
	if len(changes) == 0 {
		fmt.Fprintln(w, "\nNo change to the proxy variables that doctor knows of makes the clients agree.")
		return
	}
	fmt.Fprintln(w, "\nThe smallest change found that makes them agree:")
	for _, c := range changes {
		for _, ed := range c.Edits {
			if ed.Unset {
				fmt.Fprintf(w, "  unset %s\n", ed.Name)
			} else {
				fmt.Fprintf(w, "  %s\n", redactEnv(ed.Name+"="+ed.Value))
			}
		}
		fmt.Fprintf(w, "    (%s)\n", c.Why)
	}
	if left := after.disagreements(); left == 0 {
		fmt.Fprintf(w, "With it, every client agrees on all %s.\n", plural(len(d.urls), "URL"))
	} else {
		var still []string
		for i, u := range d.urls {
			if !after.agrees(i) {
				still = append(still, u.Redacted())
			}
		}
		fmt.Fprintf(w, "With it, they still disagree on %s: no change to the variables found fixes it.\n", strings.Join(still, ", "))
	}
}

func plural(n int, s string) string {
	if n == 1 {
		return "1 " + s
	}
	return fmt.Sprintf("%d %ss", n, s)
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func flavorList(fs []resolver.Flavor) string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	return strings.Join(names, ", ")
}
