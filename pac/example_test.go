package pac_test

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"time"

	"github.com/pacd/pacd/pac"
)

func ExampleCompile() {
	const src = `
function FindProxyForURL(url, host) {
  if (isPlainHostName(host) || dnsDomainIs(host, ".corp.example.com"))
    return "DIRECT";
  return "PROXY proxy.example.com:8080; DIRECT";
}`
	s, err := pac.Compile(src, &pac.Options{Name: "proxy.pac"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range []string{"http://wiki/", "https://www.example.org/"} {
		raw, err := s.Eval(context.Background(), u, "")
		fmt.Println(u, "=>", raw, err)
	}
	// Output:
	// http://wiki/ => DIRECT <nil>
	// https://www.example.org/ => PROXY proxy.example.com:8080; DIRECT <nil>
}

// A script's whole environment can be fixed, so that an answer can be
// reproduced anywhere: the clock and zone, DNS, and the machine's address.
func ExampleOptions() {
	const src = `
function FindProxyForURL(url, host) {
  if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
  if (isInNet(myIpAddress(), "192.168.0.0", "255.255.0.0") && timeRange(9, 17))
    return "PROXY office-proxy.example.com:3128";
  return "PROXY proxy.example.com:8080";
}`
	opts := &pac.Options{
		Resolver: pac.StaticResolver{"intranet.example.com": {netip.MustParseAddr("10.1.2.3")}},
		MyIPAddresses: func(context.Context) []netip.Addr {
			return []netip.Addr{netip.MustParseAddr("192.168.7.20")}
		},
		Now:      func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) },
		Location: time.UTC,
	}
	s, err := pac.Compile(src, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range []string{"http://intranet.example.com/", "https://www.example.org/"} {
		raw, _ := s.Eval(context.Background(), u, "")
		fmt.Println(raw)
	}
	// Output:
	// DIRECT
	// PROXY office-proxy.example.com:3128
}

func ExampleScript_FindProxyForURL() {
	s, err := pac.Compile(`function FindProxyForURL(url, host) {
  return "PROXY a.example:8080; JUNK; SOCKS5 [2001:db8::1]; DIRECT";
}`, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := url.Parse("https://www.example.org/path")
	r, err := s.FindProxyForURL(context.Background(), u)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range r {
		fmt.Printf("%-6s %s\n", p.Type, p.Addr())
	}
	// Output:
	// PROXY  a.example:8080
	// SOCKS5 [2001:db8::1]:1080
	// DIRECT
}

func ExampleParseResult() {
	r, err := pac.ParseResult("proxy Foo.Example ; JUNK;; socks s:1080")
	fmt.Println(r)
	fmt.Println(err)
	// Output:
	// PROXY foo.example:80; SOCKS4 s:1080
	// pac: ParseResult("proxy Foo.Example ; JUNK;; socks s:1080"): dropped "JUNK" (unknown type "JUNK")
}

// WithTrace shows which PAC functions an evaluation called, and what
// each answered: the "why" of an answer.
func ExampleWithTrace() {
	s, _ := pac.Compile(`function FindProxyForURL(url, host) {
  if (shExpMatch(host, "*.internal")) return "DIRECT";
  if (dnsDomainIs(host, ".example.com")) return "PROXY p:8080";
  return "DIRECT";
}`, nil)
	ctx := pac.WithTrace(context.Background(), func(c pac.Call) { fmt.Println(c) })
	raw, _ := s.Eval(ctx, "http://www.example.com/", "")
	fmt.Println("=>", raw)
	// Output:
	// shExpMatch("www.example.com", "*.internal") = false
	// dnsDomainIs("www.example.com", ".example.com") = true
	// => PROXY p:8080
}
