// Command gencorpus writes the generated part of pacd's PAC corpus:
// corporate-5000.pac, a corporate-style PAC script with thousands of
// rules, and corporate-5000.pactest, the answers it must give.
//
// Usage:
//
//	go run ./internal/gencorpus [-o DIR] [-seed N] [-rules N] [-cases N]
//
// `make corpus-gen` runs it with the defaults, which write the files
// committed in testdata/pac. The output depends only on the flags.
//
// # The rule model
//
// The script is an ordered list of rules, each a condition and an answer,
// and the first rule whose condition holds gives the answer; when none
// holds the answer is "DIRECT". A condition is one of
//
//	isPlainHostName(host)
//	host == "NAME"
//	dnsDomainIs(host, ".DOMAIN")
//	shExpMatch(host, "GLOB")
//	shExpMatch(url, "GLOB")
//	isInNet(host, "NETWORK", "MASK")
//
// and an answer is one of a few proxy pools (fail-over lists such as
// "PROXY a:8080; PROXY b:8080; DIRECT", SOCKS, HTTPS, a black hole) or
// DIRECT. Rules come in sections, one per business unit, and consecutive
// rules with the same kind and answer are written as one if statement
// joined with ||, as people write PAC files; that does not change which
// rule matches first. Some rules are deliberately shadowed by earlier,
// broader ones.
//
// # The expected answers
//
// The expected answers are computed from the model, not by running any
// PAC engine. For each test URL the generator works out what the script
// is given, as Chromium does it (an https URL is cut to
// "https://host[:port]/"; the host is the URL's host without port), and
// evaluates the rules in order with its own implementation of the PAC
// functions' semantics:
//
//   - isPlainHostName: the host has no dot (generated hosts are never IP
//     literals without dots);
//   - dnsDomainIs: a case-sensitive suffix test, without regard to label
//     boundaries;
//   - shExpMatch: '*' matches any run of characters, '?' any one, and
//     every other character itself (the generated globs use no other
//     regular-expression syntax, which the generator checks);
//   - isInNet: a host that is a dotted quad is used as it is; any other
//     host is resolved through the file's resolve lines (its first IPv4
//     address), and one that does not resolve is not in any network.
//
// The test URLs hit rules at the start, in the middle and at the end of
// the list, shadowed rules, https variants of URL rules (whose paths the
// script cannot see), names that resolve into a network, and misses.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	out := flag.String("o", "testdata/pac", "the directory to write corporate-5000.pac and .pactest into")
	seed := flag.Uint64("seed", defaults.seed, "the seed of the pseudo-random generator")
	rules := flag.Int("rules", defaults.rules, "the number of rules (conditions) in the script")
	cases := flag.Int("cases", defaults.cases, "the number of test cases")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gencorpus [-o DIR] [-seed N] [-rules N] [-cases N]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 || *rules < 100 || *cases < 20 {
		flag.Usage()
		os.Exit(2)
	}
	pac, pactest := generate(config{seed: *seed, rules: *rules, cases: *cases})
	if len(pac) > maxScriptSize {
		fmt.Fprintf(os.Stderr, "gencorpus: the script is %d bytes, over the %d-byte limit\n", len(pac), maxScriptSize)
		os.Exit(1)
	}
	for name, data := range map[string][]byte{baseName + ".pac": pac, baseName + ".pactest": pactest} {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gencorpus: %v\n", err)
			os.Exit(1)
		}
	}
}

const (
	baseName      = "corporate-5000"
	maxScriptSize = 1 << 20 // pacd's and Chromium's limit on a PAC file
	rulesPerUnit  = 100
)

// config holds the generator's parameters.
type config struct {
	seed  uint64
	rules int
	cases int
}

// defaults are the parameters of the committed files.
var defaults = config{seed: 5000, rules: 5000, cases: 200}

// A kind is the kind of a rule's condition.
type kind int

const (
	kindPlain    kind = iota // isPlainHostName(host)
	kindHostIs               // host == arg
	kindDomain               // dnsDomainIs(host, arg)
	kindHostGlob             // shExpMatch(host, arg)
	kindURLGlob              // shExpMatch(url, arg)
	kindNet                  // isInNet(host, net, mask)
)

// A rule is one condition of the script and the answer it gives.
type rule struct {
	kind      kind
	arg       string // the name, domain or glob
	net, mask uint32 // for kindNet
	pool      int    // index into pools
	line      int    // the line of the script the condition is on

	// witness returns a URL that satisfies the condition (an earlier rule
	// may still win).
	witness func(r *rand.Rand) string
}

// cond returns the rule's condition as JavaScript.
func (ru *rule) cond() string {
	switch ru.kind {
	case kindPlain:
		return "isPlainHostName(host)"
	case kindHostIs:
		return "host == " + strconv.Quote(ru.arg)
	case kindDomain:
		return "dnsDomainIs(host, " + strconv.Quote(ru.arg) + ")"
	case kindHostGlob:
		return "shExpMatch(host, " + strconv.Quote(ru.arg) + ")"
	case kindURLGlob:
		return "shExpMatch(url, " + strconv.Quote(ru.arg) + ")"
	case kindNet:
		return "isInNet(host, " + strconv.Quote(quad(ru.net)) + ", " + strconv.Quote(quad(ru.mask)) + ")"
	}
	panic("gencorpus: unknown rule kind")
}

// A pool is an answer the script gives, held in a variable of the script.
type pool struct {
	name, value string
}

var pools = []pool{
	{"POOL_HQ", "PROXY proxy-hq1.corp.example:8080; PROXY proxy-hq2.corp.example:8080; DIRECT"},
	{"POOL_EU", "PROXY proxy-fra.corp.example:8080; PROXY proxy-ams.corp.example:8080; DIRECT"},
	{"POOL_US", "PROXY proxy-nyc.corp.example:3128; PROXY proxy-sfo.corp.example:3128"},
	{"POOL_SOCKS", "SOCKS5 socks.corp.example:1080; SOCKS socks2.corp.example:1080"},
	{"POOL_TLS", "HTTPS tls-gw.corp.example:443; PROXY proxy-hq1.corp.example:8080"},
	{"POOL_PARTNER", "PROXY partner-gw.corp.example:8081; DIRECT"},
	{"DIRECT", "DIRECT"},
	{"BLACKHOLE", "PROXY 127.0.0.1:9"},
}

const poolDirect = 6

var units = []string{
	"finance", "hr", "sales", "legal", "eng", "ops", "it", "research",
	"support", "marketing", "logistics", "procurement", "security",
	"facilities", "treasury", "audit", "design", "data",
}

var tlds = []string{"example.com", "example.net", "example.org", "example.io"}

// gen holds the generator's state.
type gen struct {
	r       *rand.Rand
	rules   []*rule
	domains []string // the domains of the kindDomain rules so far
}

func (g *gen) label(min, max int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	n := min + g.r.IntN(max-min+1)
	b := make([]byte, n)
	for i := range b {
		if i == 0 {
			b[i] = letters[g.r.IntN(26)] // names start with a letter
		} else {
			b[i] = letters[g.r.IntN(len(letters))]
		}
	}
	return string(b)
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// vendor returns a vendor's domain, like "k3xv9.example.net".
func (g *gen) vendor() string { return g.label(4, 8) + "." + pick(g.r, tlds) }

// unitDomain returns a domain of the unit, like "pay.finance03.corp.example".
func (g *gen) unitDomain(unit string) string { return g.label(3, 7) + "." + unit + ".corp.example" }

// instantiate replaces the wildcards of glob with random characters.
func instantiate(r *rand.Rand, glob string) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch glob[i] {
		case '*':
			for n := 1 + r.IntN(5); n > 0; n-- {
				b.WriteByte(chars[r.IntN(len(chars))])
			}
		case '?':
			b.WriteByte(chars[r.IntN(len(chars))])
		default:
			b.WriteByte(glob[i])
		}
	}
	return b.String()
}

func (g *gen) path() string {
	return "/" + g.label(2, 8) + "/" + g.label(2, 8) + ".html"
}

// hostURL returns a URL for host: http, or now and then https.
func hostURL(r *rand.Rand, host string) string {
	s := "http"
	if r.IntN(4) == 0 {
		s = "https"
	}
	return s + "://" + host + "/" + instantiate(r, "*/*.html")
}

func (g *gen) newRule(k kind, unit string, p int) *rule {
	ru := &rule{kind: k, pool: p}
	switch k {
	case kindHostIs:
		var h string
		if g.r.IntN(2) == 0 {
			h = g.unitDomain(unit)
		} else {
			h = g.label(2, 5) + "." + g.vendor()
		}
		ru.arg = h
		ru.witness = func(r *rand.Rand) string { return hostURL(r, h) }
	case kindDomain:
		var d string
		switch {
		case len(g.domains) > 0 && g.r.IntN(20) == 0:
			// More specific than an earlier domain: shadowed by it.
			d = "." + g.label(2, 6) + pick(g.r, g.domains)
		case g.r.IntN(2) == 0:
			d = "." + g.unitDomain(unit)
		default:
			d = "." + g.vendor()
		}
		g.domains = append(g.domains, d)
		ru.arg = d
		ru.witness = func(r *rand.Rand) string {
			return hostURL(r, instantiate(r, "*")+d)
		}
	case kindHostGlob:
		var glob string
		switch g.r.IntN(4) {
		case 0:
			glob = "*." + g.vendor()
		case 1:
			glob = g.label(2, 5) + "??." + unit + ".corp.example"
		case 2:
			glob = g.label(2, 5) + "-*." + unit + ".corp.example"
		default:
			glob = "*" + g.label(3, 6) + ".cdn." + pick(g.r, tlds)
		}
		ru.arg = glob
		ru.witness = func(r *rand.Rand) string { return hostURL(r, instantiate(r, glob)) }
	case kindURLGlob:
		var glob, wit string
		switch g.r.IntN(3) {
		case 0:
			v := g.vendor()
			glob = "http://*." + v + "/api/*"
			wit = glob
		case 1:
			dir := g.label(3, 8)
			glob = "*/" + dir + "/download/*"
			wit = "http://*." + g.vendor() + "/" + dir + "/download/*"
		default:
			h := g.unitDomain(unit)
			glob = "http://" + h + "/*.zip"
			wit = glob
		}
		ru.arg = glob
		ru.witness = func(r *rand.Rand) string { return instantiate(r, wit) }
	case kindNet:
		ru.net, ru.mask = g.network()
		net, mask := ru.net, ru.mask
		ru.witness = func(r *rand.Rand) string {
			return hostURL(r, quad(net|r.Uint32()&^mask))
		}
	default:
		panic("gencorpus: newRule of an unexpected kind")
	}
	if strings.ContainsAny(ru.arg, "\\^$+()[]{}|\n\r") {
		panic("gencorpus: glob with regular-expression syntax: " + ru.arg)
	}
	return ru
}

// network returns a private network and its mask.
func (g *gen) network() (net, mask uint32) {
	r := g.r
	switch r.IntN(5) {
	case 0: // 10.a.b.0/24
		net, mask = 10<<24|r.Uint32N(256)<<16|r.Uint32N(256)<<8, 0xffffff00
	case 1: // 10.a.b.0/23
		net, mask = 10<<24|r.Uint32N(256)<<16|r.Uint32N(128)<<9, 0xfffffe00
	case 2: // 172.16-31.x.0/20
		net, mask = 172<<24|(16+r.Uint32N(16))<<16|r.Uint32N(16)<<12, 0xfffff000
	case 3: // 192.168.a.b/25
		net, mask = 192<<24|168<<16|r.Uint32N(256)<<8|r.Uint32N(2)<<7, 0xffffff80
	default: // 10.a.0.0/16
		net, mask = 10<<24|r.Uint32N(256)<<16, 0xffff0000
	}
	return net, mask
}

func quad(a uint32) string {
	return fmt.Sprintf("%d.%d.%d.%d", a>>24, a>>16&0xff, a>>8&0xff, a&0xff)
}

// weights of the kinds of a unit's rules.
var kindWeights = []struct {
	k kind
	w int
}{
	{kindDomain, 40}, {kindHostGlob, 18}, {kindNet, 17}, {kindHostIs, 15}, {kindURLGlob, 10},
}

func (g *gen) kind() kind {
	n := g.r.IntN(100)
	for _, kw := range kindWeights {
		if n < kw.w {
			return kw.k
		}
		n -= kw.w
	}
	return kindDomain
}

// A block is rules written as one if statement.
type block struct {
	comment string // a comment before the statement, if any
	rules   []*rule
}

// build makes the rule list, in blocks.
func (g *gen) build(n int) []block {
	var blocks []block
	add := func(comment string, rules ...*rule) {
		blocks = append(blocks, block{comment, rules})
		g.rules = append(g.rules, rules...)
	}
	// Local destinations first.
	add("Local names and the loopback network never use a proxy.",
		&rule{kind: kindPlain, pool: poolDirect, witness: func(r *rand.Rand) string {
			return "http://" + instantiate(r, "intra*") + "/"
		}},
		&rule{kind: kindHostIs, arg: "localhost", pool: poolDirect, witness: func(r *rand.Rand) string {
			return "http://localhost:8080/"
		}},
		&rule{kind: kindNet, net: 127 << 24, mask: 0xff000000, pool: poolDirect, witness: func(r *rand.Rand) string {
			return "http://127.0.0.1:" + strconv.Itoa(1024+r.IntN(60000)) + "/"
		}},
	)
	// The sections, one per unit; the last rules are added after them.
	const tail = 3
	body := n - len(g.rules) - tail
	for s := 0; body > 0; s++ {
		unit := units[s%len(units)] + fmt.Sprintf("%02d", s/len(units))
		home := g.r.IntN(len(pools) - 1) // any pool but the black hole
		size := min(rulesPerUnit, body)
		body -= size
		first := true
		for size > 0 {
			k := g.kind()
			p := home
			switch x := g.r.IntN(10); {
			case x < 2:
				p = g.r.IntN(len(pools))
			case x < 3:
				p = poolDirect
			}
			count := min(1+g.r.IntN(6), size)
			size -= count
			var rules []*rule
			for range count {
				rules = append(rules, g.newRule(k, unit, p))
			}
			comment := ""
			if first {
				comment = "Section " + strconv.Itoa(s+1) + ": " + unit + "."
				first = false
			}
			add(comment, rules...)
		}
	}
	// Broad rules at the end.
	add("What is left of the intranet goes direct.",
		&rule{kind: kindDomain, arg: ".corp.example", pool: poolDirect, witness: func(r *rand.Rand) string {
			return "http://" + instantiate(r, "*.*.corp.example") + "/"
		}},
		&rule{kind: kindNet, net: 10 << 24, mask: 0xff000000, pool: poolDirect, witness: func(r *rand.Rand) string {
			return "http://" + quad(10<<24|r.Uint32N(1<<24)) + "/"
		}},
	)
	add("Other .example.com sites go through headquarters.",
		&rule{kind: kindHostGlob, arg: "*.example.com", pool: 0, witness: func(r *rand.Rand) string {
			return "http://" + instantiate(r, "www.*.example.com") + "/"
		}},
	)
	return blocks
}

// write writes the script and records each rule's line.
func write(blocks []block, nrules int) []byte {
	var b bytes.Buffer
	line := 1
	emit := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		b.WriteString(s)
		line += strings.Count(s, "\n")
	}
	emit("// Covers a generated corporate PAC: %d rules (isPlainHostName, dnsDomainIs, shExpMatch on host and URL, isInNet, exact names) in sections, first match wins, DIRECT by default.\n", nrules)
	emit("// Generated by internal/gencorpus (make corpus-gen); do not edit.\n\n")
	for _, p := range pools {
		emit("var %s = %s;\n", p.name, strconv.Quote(p.value))
	}
	emit("\nfunction FindProxyForURL(url, host) {\n")
	for i, bl := range blocks {
		if i > 0 {
			emit("\n")
		}
		if bl.comment != "" {
			emit("  // %s\n", bl.comment)
		}
		for j, ru := range bl.rules {
			ru.line = line
			switch {
			case j == 0 && len(bl.rules) == 1:
				emit("  if (%s) {\n", ru.cond())
			case j == 0:
				emit("  if (%s ||\n", ru.cond())
			case j < len(bl.rules)-1:
				emit("      %s ||\n", ru.cond())
			default:
				emit("      %s) {\n", ru.cond())
			}
		}
		emit("    return %s;\n  }\n", pools[bl.rules[0].pool].name)
	}
	emit("\n  return \"DIRECT\";\n}\n")
	return b.Bytes()
}

// resolveLine is a DNS answer of the expectation file.
type resolveLine struct {
	host  string
	addrs []string
}

// model evaluates the rules as the script does.
type model struct {
	rules   []*rule
	resolve map[string]uint32 // host -> first IPv4 address
}

// answer returns the index of the first rule that matches url (-1 for
// none) and the answer.
func (m *model) answer(rawURL string) (int, string) {
	url, host := seenBy(rawURL)
	for i, ru := range m.rules {
		if m.matches(ru, url, host) {
			return i, pools[ru.pool].value
		}
	}
	return -1, "DIRECT"
}

func (m *model) matches(ru *rule, url, host string) bool {
	switch ru.kind {
	case kindPlain:
		return !strings.Contains(host, ".")
	case kindHostIs:
		return host == ru.arg
	case kindDomain:
		return strings.HasSuffix(host, ru.arg)
	case kindHostGlob:
		return globMatch(ru.arg, host)
	case kindURLGlob:
		return globMatch(ru.arg, url)
	case kindNet:
		ip, ok := dottedQuad(host)
		if !ok {
			ip, ok = m.resolve[host]
		}
		return ok && ip&ru.mask == ru.net&ru.mask
	}
	panic("gencorpus: unknown rule kind")
}

// seenBy returns the URL and host that the script is given for rawURL,
// one of the generator's own URLs ("scheme://host[:port]/path", without
// user information, query or fragment): https URLs are cut to
// "https://host[:port]/", as Chromium does.
func seenBy(rawURL string) (url, host string) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	auth, _, _ := strings.Cut(rest, "/")
	host = auth
	if i := strings.LastIndexByte(auth, ':'); i >= 0 {
		host = auth[:i]
	}
	if scheme == "https" {
		return scheme + "://" + auth + "/", host
	}
	return rawURL, host
}

// globMatch reports whether s matches the glob, in which '*' matches any
// run of characters, '?' any one character and every other character
// itself.
func globMatch(glob, s string) bool {
	gi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case gi < len(glob) && (glob[gi] == '?' || glob[gi] == s[si]):
			gi++
			si++
		case gi < len(glob) && glob[gi] == '*':
			star, mark = gi, si
			gi++
		case star >= 0:
			gi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for gi < len(glob) && glob[gi] == '*' {
		gi++
	}
	return gi == len(glob)
}

// dottedQuad parses s as the PAC library's isValidIpAddress accepts it:
// four decimal parts of one to three digits, each at most 255.
func dottedQuad(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return 0, false
	}
	var a uint32
	for _, p := range parts {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return 0, false
		}
		n, _ := strconv.Atoi(p)
		if n > 255 {
			return 0, false
		}
		a = a<<8 | uint32(n)
	}
	return a, true
}

// A testCase is one line of the expectation file.
type testCase struct {
	why  string // what the URL was made for
	url  string
	rule int // the rule that answers, -1 for none
	want string
}

// generate returns the script and its expectation file.
func generate(c config) (pac, pactest []byte) {
	g := &gen{r: rand.New(rand.NewPCG(c.seed, 0x9ac))}
	blocks := g.build(c.rules)
	pac = write(blocks, len(g.rules))

	// Names that resolve: into networks of rules at the start, middle
	// and end of the list, outside every network, and to IPv6 only.
	var nets []*rule
	for _, ru := range g.rules {
		if ru.kind == kindNet {
			nets = append(nets, ru)
		}
	}
	var resolves []resolveLine
	m := &model{rules: g.rules, resolve: map[string]uint32{}}
	for i, ru := range []*rule{nets[1], nets[len(nets)/3], nets[len(nets)/2], nets[len(nets)-2]} {
		host := fmt.Sprintf("srv%d.hosting.test", i+1)
		ip := ru.net | g.r.Uint32()&^ru.mask
		resolves = append(resolves, resolveLine{host, []string{quad(ip), "2001:db8::" + strconv.Itoa(i+1)}})
		m.resolve[host] = ip
	}
	resolves = append(resolves,
		resolveLine{"public.hosting.test", []string{"198.51.100.80"}},
		resolveLine{"v6only.hosting.test", []string{"2001:db8::80"}},
	)
	m.resolve["public.hosting.test"] = 198<<24 | 51<<16 | 100<<8 | 80

	var cases []testCase
	seen := map[string]bool{}
	addCase := func(why, url string) {
		if seen[url] {
			return
		}
		seen[url] = true
		i, want := m.answer(url)
		cases = append(cases, testCase{why, url, i, want})
	}
	hit := func(i int, why string) { addCase(why, g.rules[i].witness(g.r)) }
	n := len(g.rules)
	quota := func(share int) int { return c.cases * share / 100 }

	// The first rules, the middle and the last.
	for i := 0; len(cases) < quota(15); i++ {
		hit(i%40, "a rule at the start")
	}
	for mid, start := n/2-100, len(cases); len(cases)-start < quota(20); {
		hit(mid+g.r.IntN(200), "a rule in the middle")
	}
	for start := len(cases); len(cases)-start < quota(15); {
		hit(n-40+g.r.IntN(40), "a rule at the end")
	}
	// Anywhere.
	for start := len(cases); len(cases)-start < quota(20); {
		hit(g.r.IntN(n), "a rule anywhere")
	}
	// Shadowed domains: a host under a domain that an earlier, broader
	// domain rule already covers.
	for i, start := 0, len(cases); i < n && len(cases)-start < quota(5); i++ {
		ru := g.rules[i]
		if ru.kind != kindDomain {
			continue
		}
		for _, earlier := range g.rules[:i] {
			if earlier.kind == kindDomain && strings.HasSuffix(ru.arg, earlier.arg) {
				hit(i, "a domain shadowed by an earlier one")
				break
			}
		}
	}
	// URL rules on a path, asked with https: the script sees no path.
	for i, start := 0, len(cases); i < n && len(cases)-start < quota(5); i++ {
		ru := g.rules[(i*7919)%n]
		if ru.kind == kindURLGlob {
			u := ru.witness(g.r)
			addCase("an https URL that a URL rule would match with http", "https"+strings.TrimPrefix(u, "http"))
		}
	}
	// Names answered by the resolve lines.
	for _, rl := range resolves {
		addCase("a name that resolves to "+strings.Join(rl.addrs, ", "), "http://"+rl.host+"/")
	}
	// Misses, up to the number of cases asked for.
	for len(cases) < c.cases {
		var u string
		switch g.r.IntN(3) {
		case 0:
			u = "http://www." + g.label(5, 9) + ".example.test/"
		case 1:
			u = "https://" + quad(203<<24|113<<8|g.r.Uint32N(256)) + "/"
		default:
			u = "http://" + g.label(3, 6) + "." + g.label(5, 9) + ".example.org" + g.path()
		}
		addCase("a miss", u)
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "# Expected answers of %s.pac, computed by internal/gencorpus from its own\n", baseName)
	fmt.Fprintf(&b, "# rule model (first matching rule wins, DIRECT by default), not by running\n")
	fmt.Fprintf(&b, "# a PAC engine. Generated by `make corpus-gen`; do not edit.\n")
	fmt.Fprintf(&b, "now: 2026-01-07T10:00:00Z\ntz: UTC\n")
	for _, rl := range resolves {
		fmt.Fprintf(&b, "resolve: %s %s\n", rl.host, strings.Join(rl.addrs, ", "))
	}
	for _, tc := range cases {
		b.WriteString("\n")
		if tc.rule < 0 {
			fmt.Fprintf(&b, "# %s: no rule matches\n", tc.why)
		} else {
			ru := g.rules[tc.rule]
			fmt.Fprintf(&b, "# %s: rule %d (line %d) %s\n", tc.why, tc.rule+1, ru.line, ru.cond())
		}
		fmt.Fprintf(&b, "%s => %s\n", tc.url, tc.want)
	}
	return pac, b.Bytes()
}
