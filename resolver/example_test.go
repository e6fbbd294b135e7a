package resolver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
)

// A drop-in for http.ProxyFromEnvironment: the same variables, read the
// way curl reads them, with CIDR blocks, globs and the loopback rule.
func ExampleResolver_ProxyFunc() {
	env := map[string]string{
		"https_proxy": "http://proxy.example.com:3128",
		"no_proxy":    ".corp.example.com, 10.0.0.0/8",
	}
	r, err := resolver.New(&resolver.Config{Env: resolver.ReadEnv(func(k string) string { return env[k] })})
	if err != nil {
		fmt.Println(err)
		return
	}
	transport := &http.Transport{Proxy: r.ProxyFunc()}
	for _, u := range []string{"https://www.example.org/", "https://wiki.corp.example.com/", "https://10.1.2.3/", "https://localhost/"} {
		req, _ := http.NewRequest("GET", u, nil)
		p, _ := transport.Proxy(req)
		fmt.Println(u, "=>", p)
	}
	// Output:
	// https://www.example.org/ => http://proxy.example.com:3128
	// https://wiki.corp.example.com/ => <nil>
	// https://10.1.2.3/ => <nil>
	// https://localhost/ => <nil>
}

// Explicit rules in the forms HTTPX and Requests users already write, and
// what decided each answer.
func ExampleResolver_Resolve() {
	r, err := resolver.New(&resolver.Config{
		Mounts: []resolver.Mount{
			{Pattern: "all://*.internal.example", Proxy: "none"},
			{Pattern: "https://", Proxy: "socks5h://socks.example.com:1080"},
		},
		Proxies: map[string]string{"http": "http://proxy.example.com:8080"},
		Bypass:  "<local>",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"https://git.internal.example/", "https://www.example.org/", "http://www.example.org/", "http://wiki/"} {
		u, _ := url.Parse(s)
		d, _ := r.Resolve(context.Background(), u)
		fmt.Printf("%-30s %-30s %s\n", s, d.URLs(), d.Explain())
	}
	// Output:
	// https://git.internal.example/  DIRECT                         mount all://*.internal.example
	// https://www.example.org/       socks5h://socks.example.com:1080 mount https://
	// http://www.example.org/        http://proxy.example.com:8080  proxies key "http"
	// http://wiki/                   DIRECT                         bypass list entry <local>
}

// An http.Client whose requests follow the decision, and fail over from
// a proxy that cannot be reached to the next entry:
//
//	script, _ := pac.Compile(src, nil)
//	r, _ := resolver.New(&resolver.Config{PAC: script, Env: resolver.FromEnvironment()})
//	client := &http.Client{Transport: r.Transport()}
func ExampleResolver_Transport() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello from the origin")
	}))
	defer origin.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	dead.Close() // nothing listens here any more

	r, err := resolver.New(&resolver.Config{
		Proxy:         "socks5h://" + dead.Addr().String(),
		ProxyLoopback: true, // the origin is on loopback, which is otherwise never proxied
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Only the dead proxy is configured: the request fails, naming it.
	client := &http.Client{Transport: r.Transport()}
	_, err = client.Get(origin.URL)
	fmt.Println(errors.Is(err, resolver.ErrAllProxiesFailed))

	// A PAC script that falls back to DIRECT: the same request goes
	// through, and the dead proxy is tried last from now on.
	script, err := pac.Compile(`function FindProxyForURL(url, host) {
  return "SOCKS5 `+dead.Addr().String()+`; DIRECT";
}`, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ = resolver.New(&resolver.Config{PAC: script, ProxyLoopback: true})
	resp, err := (&http.Client{Transport: r.Transport()}).Get(origin.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// true
	// hello from the origin
}
