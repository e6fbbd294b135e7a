package pac_test

import (
	"context"
	"testing"
	"time"

	"github.com/pacd/pacd/pac"
)

// FuzzCompile compiles and evaluates generated scripts: the fuzzer's
// text is the body of FindProxyForURL, or a whole script when it says
// so. Nothing may panic, and every evaluation ends within its deadline
// (plus the bound on backtracking regular expressions).
func FuzzCompile(f *testing.F) {
	for _, body := range []string{
		`return "DIRECT";`,
		`if (shExpMatch(host, "*.example.com")) return "PROXY p:8080"; return "DIRECT";`,
		`return dnsResolve(host) + isInNet(host, "10.0.0.0", "255.0.0.0");`,
		`var s = "x"; while (true) s += s;`, // a memory bomb meets the deadline
		`return (function f(n) { return f(n + 1) })(0);`,
		`return timeRange(9, 17) ? "PROXY a:1" : dateRange("JAN", "MAR") + weekdayRange("SAT", "MON");`,
		`throw new Error(url);`,
		`return sortIpAddressList(dnsResolveEx(host)) + myIpAddressEx() + isInNetEx(host, "::/0");`,
		`Object.prototype.toString = null; dnsDomainIs = 1; return String(localHostOrDomainIs);`,
		"\x00whole\x00function FindProxyForURL(u, h) { return u }",
		"\x00whole\x00}{",
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		src := "function FindProxyForURL(url, host) {\n" + body + "\n}"
		if len(body) > 7 && body[:7] == "\x00whole\x00" {
			src = body[7:]
		}
		o := &pac.Options{Resolver: pac.StaticResolver{}, Timeout: 50 * time.Millisecond, Now: func() time.Time { return time.Unix(1e9, 0) }}
		s, err := pac.Compile(src, o)
		if err != nil {
			return
		}
		for _, u := range []string{"http://www.example.com/", "https://10.1.2.3:8443/x"} {
			start := time.Now()
			s.Eval(context.Background(), u, "")
			if d := time.Since(start); d > pac.RegexpMatchTimeout+2*time.Second {
				t.Fatalf("Eval took %v for %q", d, body)
			}
		}
	})
}
