package pac_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
)

// exprScript evaluates the JavaScript expression it is given as the host
// argument and returns its type and value ("boolean:true",
// "string:10.1.2.3", "object:null") or the name of what it threw
// ("throw:TypeError").
const exprScript = `
function show(f) {
  try { var v = f(); return typeof v + ":" + String(v); }
  catch (e) { return "throw:" + ((e && e.name) || typeof e); }
}
function FindProxyForURL(url, host) {
  return show(function() { return eval(host); });
}`

// builtinEnv is the environment of the built-in tests: fixed DNS answers,
// client addresses and clock.
func builtinEnv(now time.Time, loc *time.Location) *pac.Options {
	return &pac.Options{
		Resolver: pac.StaticResolver{
			"intra":             {netip.MustParseAddr("10.1.2.3")},
			"dual":              {netip.MustParseAddr("2001:db8::7"), netip.MustParseAddr("10.9.8.7")},
			"v6only":            {netip.MustParseAddr("2001:db8::6")},
			"xn--bcher-kva.de":  {netip.MustParseAddr("10.7.7.7")},
			"www.example.com":   {netip.MustParseAddr("93.184.216.34")},
			"mapped.example":    {netip.MustParseAddr("::ffff:10.3.3.3")},
			"upper.example.com": {netip.MustParseAddr("10.4.4.4")},
		},
		MyIPAddresses: func(context.Context) []netip.Addr {
			return []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("10.5.5.5"), netip.MustParseAddr("2001:db8::5")}
		},
		Now:      func() time.Time { return now },
		Location: loc,
	}
}

type exprTest struct {
	expr, want string
}

func runExprs(t *testing.T, opts *pac.Options, tests []exprTest) {
	t.Helper()
	s := mustCompile(t, exprScript, opts)
	for _, tt := range tests {
		got, err := s.Eval(context.Background(), "http://x/", tt.expr)
		if err != nil {
			t.Errorf("%s: %v", tt.expr, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %s, want %s", tt.expr, got, tt.want)
		}
	}
}

func TestNameBuiltins(t *testing.T) {
	runExprs(t, nil, []exprTest{
		// isPlainHostName: Chromium's rule, no dot and not an IP literal.
		{`isPlainHostName("www")`, "boolean:true"},
		{`isPlainHostName("www.example.com")`, "boolean:false"},
		{`isPlainHostName("")`, "boolean:true"},
		{`isPlainHostName("::1")`, "boolean:false"},
		{`isPlainHostName("::192.186.1.1")`, "boolean:false"},
		{`isPlainHostName("foopy::1")`, "boolean:true"}, // not an address
		{`isPlainHostName("[::1]")`, "boolean:true"},    // brackets are not part of a literal
		{`isPlainHostName("foo:112")`, "boolean:true"},  // Firefox: false
		{`isPlainHostName("1234")`, "boolean:false"},    // the IPv4 address 0.0.4.210
		{`isPlainHostName("0x7f")`, "boolean:false"},
		{`isPlainHostName("0x7g")`, "boolean:true"},
		{`isPlainHostName(42)`, "throw:TypeError"},
		{`isPlainHostName(new String("a"))`, "throw:TypeError"},
		{`isPlainHostName()`, "throw:TypeError"},

		// dnsDomainIs: a plain suffix test.
		{`dnsDomainIs("www.example.com", ".example.com")`, "boolean:true"},
		{`dnsDomainIs("www.example.com", "example.com")`, "boolean:true"},
		{`dnsDomainIs("notexample.com", "example.com")`, "boolean:true"},
		{`dnsDomainIs("www.example.com", ".EXAMPLE.com")`, "boolean:false"},
		{`dnsDomainIs("www", ".example.com")`, "boolean:false"},
		{`dnsDomainIs("www", "")`, "boolean:true"}, // pac-resolver: false
		{`dnsDomainIs(new String("a.b"), ".b")`, "boolean:true"},
		{`dnsDomainIs("a.b", new String(".b"))`, "boolean:true"},
		{`dnsDomainIs(42, "2")`, "boolean:false"},
		{`dnsDomainIs(undefined, "a")`, "throw:TypeError"},
		{`dnsDomainIs("a", null)`, "throw:TypeError"},
		{`dnsDomainIs(["a", "b"], "a")`, "throw:TypeError"}, // arrays have a length but no substring
		{`dnsDomainIs("bücher.de", "cher.de")`, "boolean:true"},

		// localHostOrDomainIs.
		{`localHostOrDomainIs("www", "www.example.com")`, "boolean:true"},
		{`localHostOrDomainIs("www.example.com", "www.example.com")`, "boolean:true"},
		{`localHostOrDomainIs("www.mcom.com", "www.example.com")`, "boolean:false"},
		{`localHostOrDomainIs("home", "www.example.com")`, "boolean:false"},
		{`localHostOrDomainIs("www.example", "www.example.com")`, "boolean:true"},
		{`localHostOrDomainIs("www", "www")`, "boolean:true"},
		{`localHostOrDomainIs("", ".x")`, "boolean:true"},
		{`localHostOrDomainIs(undefined, "undefined.x")`, "boolean:true"},
		{`localHostOrDomainIs("a", ["a."])`, "boolean:true"},
		{`localHostOrDomainIs("a", [])`, "boolean:false"},
		{`localHostOrDomainIs("a", 42)`, "throw:TypeError"},
		{`localHostOrDomainIs("a", undefined)`, "throw:TypeError"},

		// dnsDomainLevels.
		{`dnsDomainLevels("www")`, "number:0"},
		{`dnsDomainLevels("www.example.com")`, "number:2"},
		{`dnsDomainLevels("")`, "number:0"},
		{`dnsDomainLevels("a.b.")`, "number:2"},
		{`dnsDomainLevels(42)`, "throw:TypeError"},

		// shExpMatch: the browsers' glob-to-regular-expression translation.
		{`shExpMatch("www.example.com", "*.example.com")`, "boolean:true"},
		{`shExpMatch("example.com", "*.example.com")`, "boolean:false"},
		{`shExpMatch("wwwXexample.com", "www.example.com")`, "boolean:false"}, // '.' is literal
		{`shExpMatch("http://a/b/c", "http://*/c")`, "boolean:true"},          // '*' crosses '/'
		{`shExpMatch("abc", "a?c")`, "boolean:true"},
		{`shExpMatch("ac", "a?c")`, "boolean:false"},
		{`shExpMatch("ABC", "abc")`, "boolean:false"},
		{`shExpMatch("a.com", "(*.a.com|a.com)")`, "boolean:true"},
		{`shExpMatch("w.a.com", "(*.a.com|a.com)")`, "boolean:true"},
		{`shExpMatch("b.com", "(*.a.com|a.com)")`, "boolean:false"},
		{`shExpMatch("bbc", "[a-c]bc")`, "boolean:true"},
		{`shExpMatch("dbc", "[a-c]bc")`, "boolean:false"},
		{`shExpMatch("aaab", "a+b")`, "boolean:true"},
		{`shExpMatch("xyz", "a|*z")`, "boolean:true"}, // '^a|.*z$': an alternation of the anchors
		{`shExpMatch("a*b", "a\\*b")`, "boolean:false"},
		{`shExpMatch("a..b", "a\\*b")`, "boolean:true"}, // "a\.*b": a, dots, b
		{`shExpMatch("x", "a(b")`, "throw:SyntaxError"},
		{`shExpMatch("a\nb", "a*b")`, "boolean:false"}, // '.' does not match a line terminator
		{`shExpMatch("a\u2028b", "a?b")`, "boolean:false"},
		{`shExpMatch("bücher", "b?cher")`, "boolean:true"},
		{`shExpMatch("😀", "?")`, "boolean:false"}, // two UTF-16 units
		{`shExpMatch("😀", "??")`, "boolean:true"},
		{`shExpMatch("aa", "(a)\\1")`, "boolean:true"},
		{`shExpMatch(42, "4*")`, "boolean:true"},
		{`shExpMatch(undefined, "undef*")`, "boolean:true"},
		{`shExpMatch("a", 42)`, "throw:TypeError"},
		{`shExpMatch("a", undefined)`, "throw:TypeError"},
		{`shExpMatch("a.b", new String("a.b"))`, "boolean:true"},
		{`shExpMatch("", "*")`, "boolean:true"},
		{`shExpMatch("", "")`, "boolean:true"},
		{`shExpMatch("a,b", "a,b")`, "boolean:true"},
		{`shExpMatch("a!b", "a!b")`, "boolean:true"},

		// The built-ins look like the browsers' functions.
		{`isPlainHostName.name + dnsDomainIs.length + shExpMatch.length`, "string:isPlainHostName22"},
		{`getClientVersion()`, "string:1.0"},
	})
}

func TestNetBuiltins(t *testing.T) {
	runExprs(t, builtinEnv(time.Now(), nil), []exprTest{
		// dnsResolve: IPv4 only, null on failure and for non-strings.
		{`dnsResolve("intra")`, "string:10.1.2.3"},
		{`dnsResolve("INTRA")`, "string:10.1.2.3"},
		{`dnsResolve("intra.")`, "string:10.1.2.3"},
		{`dnsResolve("dual")`, "string:10.9.8.7"},
		{`dnsResolve("v6only")`, "object:null"},
		{`dnsResolve("mapped.example")`, "string:10.3.3.3"},
		{`dnsResolve("nowhere")`, "object:null"},
		{`dnsResolve("")`, "object:null"},
		{`dnsResolve("bücher.de")`, "string:10.7.7.7"}, // punycode first
		{`dnsResolve("10.1.2.3")`, "string:10.1.2.3"},
		{`dnsResolve("127.1")`, "string:127.0.0.1"},
		{`dnsResolve("::1")`, "object:null"}, // pac-resolver: "::1"
		{`dnsResolve(42)`, "object:null"},
		{`dnsResolve(new String("intra"))`, "object:null"},
		{`isResolvable("intra")`, "boolean:true"},
		{`isResolvable("v6only")`, "boolean:false"},
		{`isResolvable(undefined)`, "boolean:false"},

		// The Ex functions: every family, "" on failure.
		{`dnsResolveEx("dual")`, "string:2001:db8::7;10.9.8.7"},
		{`dnsResolveEx("v6only")`, "string:2001:db8::6"},
		{`dnsResolveEx("nowhere")`, "string:"},
		{`dnsResolveEx("::1")`, "string:::1"},
		{`dnsResolveEx("::ffff:10.1.2.3")`, "string:::ffff:a01:203"},
		{`dnsResolveEx(42)`, "undefined:undefined"},
		{`isResolvableEx("v6only")`, "boolean:true"},
		{`isResolvableEx("nowhere")`, "boolean:false"},
		{`isResolvableEx(42)`, "boolean:true"}, // dnsResolveEx(42) is undefined, which is not ""

		// isInNet: dotted quads only for pattern and mask; names resolve.
		{`isInNet("10.1.2.3", "10.0.0.0", "255.0.0.0")`, "boolean:true"},
		{`isInNet("intra", "10.0.0.0", "255.0.0.0")`, "boolean:true"},
		{`isInNet("intra", "10.1.3.0", "255.255.255.0")`, "boolean:false"},
		{`isInNet("nowhere", "0.0.0.0", "0.0.0.0")`, "boolean:false"},
		{`isInNet("v6only", "0.0.0.0", "0.0.0.0")`, "boolean:false"},
		{`isInNet("8.8.8.8", "0.0.0.0", "0.0.0.0")`, "boolean:true"},
		{`isInNet("010.001.002.003", "10.1.2.3", "255.255.255.255")`, "boolean:true"}, // decimal, not octal
		{`isInNet("10.1.2.3", "10.0.0.0", "255.0.0")`, "boolean:false"},
		{`isInNet("10.1.2.3", "10.0.0.0", "0xff.0.0.0")`, "boolean:false"},
		{`isInNet("10.1.2.3", "10.0.0.256", "255.0.0.0")`, "boolean:false"},
		{`isInNet("10.1.2.3", " 10.0.0.0", "255.0.0.0")`, "boolean:false"},
		{`isInNet("127.1", "127.0.0.0", "255.0.0.0")`, "boolean:true"}, // not a dotted quad: resolved, as getaddrinfo would
		{`isInNet("255.255.255.255", "255.255.255.0", "255.255.255.0")`, "boolean:true"},
		{`isInNet(undefined, "0.0.0.0", "0.0.0.0")`, "boolean:false"},
		{`isInNet(new String("10.1.2.3"), "10.0.0.0", "255.0.0.0")`, "boolean:true"},

		// convert_addr: a signed 32-bit integer.
		{`convert_addr("192.168.1.1")`, "number:-1062731519"},
		{`convert_addr("10.0.0.1")`, "number:167772161"},
		{`convert_addr("1.2")`, "number:16908288"},
		{`convert_addr("256.0.0.1")`, "number:1"},
		{`convert_addr("0x10.1.1.1")`, "number:268501249"},
		{`convert_addr("")`, "number:0"},
		{`convert_addr(42)`, "throw:TypeError"},

		// myIpAddress prefers IPv4; the Ex form lists every address.
		{`myIpAddress()`, "string:10.5.5.5"},
		{`myIpAddressEx()`, "string:fe80::1;10.5.5.5;2001:db8::5"},

		// isInNetEx: strict literals and CIDR, IPv4-mapped across families.
		{`isInNetEx("10.1.2.3", "10.0.0.0/8")`, "boolean:true"},
		{`isInNetEx("10.1.2.3", "10.1.2.3/32")`, "boolean:true"},
		{`isInNetEx("10.1.2.3", "10.1.2.4/32")`, "boolean:false"},
		{`isInNetEx("10.1.2.3", "0.0.0.0/0")`, "boolean:true"},
		{`isInNetEx("2001:db8::1", "2001:db8::/32")`, "boolean:true"},
		{`isInNetEx("2001:db9::1", "2001:db8::/32")`, "boolean:false"},
		{`isInNetEx("10.1.2.3", "::ffff:10.0.0.0/104")`, "boolean:true"},
		{`isInNetEx("::ffff:10.1.2.3", "10.0.0.0/8")`, "boolean:true"},
		{`isInNetEx("2001:db8::1", "10.0.0.0/8")`, "boolean:false"},
		{`isInNetEx("10.1.2.3", "10.0.0.0 / 8")`, "boolean:true"},
		{`isInNetEx("127.1", "127.0.0.0/8")`, "boolean:true"},
		{`isInNetEx("10.1.2.3", "10.0.0.0/33")`, "boolean:false"},
		{`isInNetEx("10.1.2.3", "10.0.0.0/+8")`, "boolean:false"},
		{`isInNetEx("10.1.2.3", "10.0.0.0/")`, "boolean:false"},
		{`isInNetEx("10.1.2.3", "10.0.0.0/8/8")`, "boolean:false"},
		{`isInNetEx("3ffe:8311:ffff::1", "3ffe:8311:ffff/48")`, "boolean:false"}, // pacparser: true
		{`isInNetEx("intra", "10.0.0.0/8")`, "boolean:false"},                    // names are not resolved
		{`isInNetEx("fe80::1%eth0", "fe80::/10")`, "boolean:false"},
		{`isInNetEx(42, "10.0.0.0/8")`, "object:null"},
		{`isInNetEx("10.1.2.3")`, "object:null"},

		// sortIpAddressList.
		{`sortIpAddressList("10.2.2.2;::1;10.1.1.1")`, "string:::1;10.1.1.1;10.2.2.2"},
		{`sortIpAddressList("  10.1.1.1 ; 2001:db8::2;2001:db8::1")`, "string:2001:db8::1;2001:db8::2;10.1.1.1"},
		{`sortIpAddressList("127.1;10.0.0.1")`, "string:10.0.0.1;127.1"},
		{`sortIpAddressList("10.1.1.1")`, "string:10.1.1.1"},
		{`sortIpAddressList("")`, "boolean:false"},
		{`sortIpAddressList("; ;")`, "boolean:false"},
		{`sortIpAddressList("10.1.1.1;junk")`, "boolean:false"},
		{`sortIpAddressList(42)`, "object:null"},
	})
}

func TestTimeBuiltins(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	// Monday 2 March 2026, 10:20:30 UTC, 11:20:30 in Berlin.
	now := time.Date(2026, 3, 2, 10, 20, 30, 0, time.UTC)
	t.Run("UTC", func(t *testing.T) {
		runExprs(t, builtinEnv(now, time.UTC), []exprTest{
			{`weekdayRange("MON")`, "boolean:true"},
			{`weekdayRange("TUE")`, "boolean:false"},
			{`weekdayRange("MON", "FRI")`, "boolean:true"},
			{`weekdayRange("SAT", "MON")`, "boolean:true"}, // wraps; pacparser: false
			{`weekdayRange("TUE", "SUN")`, "boolean:false"},
			{`weekdayRange("mon")`, "boolean:false"}, // names are upper case
			{`weekdayRange("MON", "GMT")`, "boolean:true"},
			{`weekdayRange("GMT")`, "boolean:false"},
			{`weekdayRange("MON", "FRI", "x")`, "boolean:true"}, // three arguments: only the first counts
			{`weekdayRange()`, "boolean:false"},

			{`dateRange(2)`, "boolean:true"},
			{`dateRange(3)`, "boolean:false"},
			{`dateRange("MAR")`, "boolean:true"},
			{`dateRange(2026)`, "boolean:true"},
			{`dateRange("2026")`, "boolean:true"},
			{`dateRange(1, 15)`, "boolean:true"},
			{`dateRange(3, 15)`, "boolean:false"},
			{`dateRange("FEB", "APR")`, "boolean:true"},
			{`dateRange("NOV", "MAR")`, "boolean:true"}, // wraps
			{`dateRange("APR", "FEB")`, "boolean:true"}, // "February 31" is March 3: the range wraps from April to it
			{`dateRange("APR", "JAN")`, "boolean:false"},
			{`dateRange("JAN", "FEB")`, "boolean:true"}, // ends on "February 31", March 3
			{`dateRange(1, "JAN", 2026, 28, "FEB", 2026)`, "boolean:false"},
			{`dateRange(1, "MAR", 2026, 31, "MAR", 2026)`, "boolean:true"},
			{`dateRange(2025, 2026)`, "boolean:true"},
			{`dateRange(2027, 2028)`, "boolean:false"},
			{`dateRange("XYZ", "MAR")`, "boolean:true"}, // an unknown month counts from December of last year
			{`dateRange("GMT")`, "boolean:true"},
			{`dateRange()`, "boolean:false"},

			{`timeRange(10)`, "boolean:true"},
			{`timeRange("10")`, "boolean:true"},
			{`timeRange(11)`, "boolean:false"},
			{`timeRange(9, 10)`, "boolean:true"},
			{`timeRange(10, 10)`, "boolean:true"},
			{`timeRange(11, 9)`, "boolean:false"}, // two arguments never wrap
			{`timeRange(10, 20, 10, 21)`, "boolean:true"},
			{`timeRange(10, 21, 11, 0)`, "boolean:false"},
			{`timeRange(9, 0, 10, 20)`, "boolean:true"}, // to the end of the minute
			{`timeRange(22, 0, 10, 30)`, "boolean:true"},
			{`timeRange(10, 20, 30, 10, 20, 30)`, "boolean:true"},
			{`timeRange(10, 20, 31, 10, 20, 59)`, "boolean:false"},
			{`timeRange(0, 0, -1, 10, 0, 0)`, "boolean:false"}, // the start carries into yesterday
			{`timeRange(10, 0, 0, 0, 0, 86400)`, "boolean:true"},
			{`timeRange(10, 0, 11)`, "throw:string"},
			{`timeRange(1, 2, 3, 4, 5, 6, 7)`, "throw:string"},
			{`timeRange(10, "GMT")`, "boolean:true"},
			{`timeRange("GMT")`, "throw:string"},
			{`timeRange(NaN, 0, 23, 59)`, "boolean:true"}, // an invalid start fails the first test, and now <= end
			{`timeRange(0, 0, NaN, 59)`, "boolean:true"},  // an invalid end fails the first test, and now >= start
		})
	})
	t.Run("Berlin", func(t *testing.T) {
		runExprs(t, builtinEnv(now, berlin), []exprTest{
			{`timeRange(11)`, "boolean:true"},
			{`timeRange(10, "GMT")`, "boolean:true"},
			{`timeRange(11, 20, 11, 21)`, "boolean:true"},
			{`timeRange(10, 20, 10, 21, "GMT")`, "boolean:true"},
			{`dateRange(2, "GMT")`, "boolean:true"},
		})
	})
	// At 23:30 UTC on 1 March it is already 2 March in Berlin. The
	// browsers compare the UTC time of day with bounds on the local date
	// and answer false here; pacd evaluates a GMT range wholly in UTC.
	late := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	t.Run("GMT across midnight", func(t *testing.T) {
		runExprs(t, builtinEnv(late, berlin), []exprTest{
			{`timeRange(23, 0, 23, 59, "GMT")`, "boolean:true"},
			{`timeRange(0, 0, 1, 0)`, "boolean:true"},
			{`weekdayRange("SUN", "GMT") && weekdayRange("MON")`, "boolean:true"},
			{`dateRange(1, "GMT") && dateRange(2)`, "boolean:true"},
		})
	})
	// On 29 March 2026 Berlin's clocks go from 02:00 to 03:00: a bound of
	// 02:54, a time that does not occur, is read as the browsers read it,
	// 03:54.
	dst := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC) // 03:30 CEST
	t.Run("daylight saving", func(t *testing.T) {
		runExprs(t, builtinEnv(dst, berlin), []exprTest{
			{`timeRange(3)`, "boolean:true"},
			{`timeRange(10, 7, 2, 54)`, "boolean:true"},
			{`timeRange(2, 58, 21, 0)`, "boolean:false"},
		})
	})
}

// TestStaticResolver checks that a StaticResolver answers from its table
// only, per family, whatever the case and trailing dot of the name.
func TestStaticResolver(t *testing.T) {
	r := pac.StaticResolver{"a.example": {netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("2001:db8::1")}}
	tests := []struct {
		network, host, want string
	}{
		{"ip", "a.example", "[10.0.0.1 2001:db8::1]"},
		{"ip4", "A.Example.", "[10.0.0.1]"},
		{"ip6", "a.example", "[2001:db8::1]"},
		{"ip", "b.example", "[] error"},
	}
	for _, tt := range tests {
		addrs, err := r.LookupNetIP(context.Background(), tt.network, tt.host)
		got := fmtAddrs(addrs)
		if err != nil {
			got += " error"
		}
		if got != tt.want {
			t.Errorf("LookupNetIP(%q, %q) = %s, want %s", tt.network, tt.host, got, tt.want)
		}
	}
}

func fmtAddrs(addrs []netip.Addr) string {
	var s []string
	for _, a := range addrs {
		s = append(s, a.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestParseHostsEntry(t *testing.T) {
	tests := []struct {
		in, host, addrs, err string
	}{
		{"Intra.Example.=10.0.0.1", "intra.example", "[10.0.0.1]", ""},
		{"h=10.0.0.1, [2001:db8::1]", "h", "[10.0.0.1 2001:db8::1]", ""},
		{"h", "", "", "want HOST=ADDR"},
		{"=10.0.0.1", "", "", "want HOST=ADDR"},
		{"h=nope", "", "", `invalid address "nope"`},
		{"h=", "", "", `invalid address ""`},
	}
	for _, tt := range tests {
		host, addrs, err := pac.ParseHostsEntry(tt.in)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseHostsEntry(%q) error = %v, want %q", tt.in, err, tt.err)
			}
		case err != nil || host != tt.host || fmtAddrs(addrs) != tt.addrs:
			t.Errorf("ParseHostsEntry(%q) = %q, %s, %v; want %q, %s", tt.in, host, fmtAddrs(addrs), err, tt.host, tt.addrs)
		}
	}
}
