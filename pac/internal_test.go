package pac

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dop251/goja"
)

func TestParseDottedQuad(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"10.1.2.3", "10.1.2.3"},
		{"010.001.002.003", "10.1.2.3"},
		{"255.255.255.255", "255.255.255.255"},
		{"0.0.0.0", "0.0.0.0"},
		{"256.0.0.0", ""}, {"1.2.3", ""}, {"1.2.3.4.", ""}, {"1.2.3.4.5", ""}, {"0001.2.3.4", ""},
		{"0x1.2.3.4", ""}, {" 1.2.3.4", ""}, {"1.2.3.4 ", ""}, {"1..3.4", ""}, {"", ""}, {"١.٢.٣.٤", ""},
	}
	for _, tt := range tests {
		a, ok := parseDottedQuad(tt.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("parseDottedQuad(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJSParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"15", 15}, {" 15abc", 15}, {"-7", -7}, {"+3", 3}, {"0x1f", 31}, {"0X1F", 31},
		{"1.9", 1}, {"1e3", 1}, {"\u00a0\ufeff 8", 8}, {"JAN", math.NaN()}, {"", math.NaN()},
		{"-", math.NaN()}, {"0x", math.NaN()}, {"2026", 2026},
	}
	for _, tt := range tests {
		got := jsParseInt(tt.in)
		if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
			t.Errorf("jsParseInt(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestToInt32(t *testing.T) {
	tests := []struct {
		in   float64
		want int32
	}{
		{0, 0}, {1.9, 1}, {-1.9, -1}, {4294967296, 0}, {4294967295, -1}, {2147483648, -2147483648},
		{math.NaN(), 0}, {math.Inf(1), 0}, {-4294967297, -1},
	}
	for _, tt := range tests {
		if got := toInt32(tt.in); got != tt.want {
			t.Errorf("toInt32(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestBuiltinPanic checks that a Go panic inside a built-in becomes a
// script error at the line of the call, and that the runtime survives it.
func TestBuiltinPanic(t *testing.T) {
	s, err := Compile("function FindProxyForURL(u, h) {\n  if (h == 'boom') return boom();\n  return 'DIRECT';\n}", &Options{Name: "p.pac"})
	if err != nil {
		t.Fatal(err)
	}
	// Give every runtime of s a built-in that dereferences nil.
	s.mu.Lock()
	for _, rt := range s.idle {
		var m map[string]*int
		rt.st.define("boom", 0, func(goja.FunctionCall) goja.Value { return rt.st.vm.ToValue(*m["x"]) })
	}
	s.mu.Unlock()
	_, err = s.Eval(context.Background(), "http://boom/", "boom")
	var se *ScriptError
	if !errors.As(err, &se) || se.Line != 2 || !strings.Contains(se.Msg, "pac: internal error in boom: runtime error: invalid memory address") {
		t.Fatalf("Eval = %v, want a ScriptError at line 2 naming the internal error", err)
	}
	if got, err := s.Eval(context.Background(), "http://a/", "a"); err != nil || got != "DIRECT" {
		t.Fatalf("Eval after the panic = %q, %v", got, err)
	}
}

// TestShExpGlobAgreesWithRegexp checks, on patterns and strings chosen to
// catch a difference, that the glob path answers as the regular
// expression the browsers build.
func TestShExpGlobAgreesWithRegexp(t *testing.T) {
	patterns := []string{"*", "?", "*.example.com", "www.*.com", "a*b*c", "??*", "*a?", "a,b", "a!b", "*-*", "a.*", "", "%2F*"}
	inputs := []string{"", "a", "abc", "www.example.com", "www.x.y.com", "a,b", "a!b", "a-b", "a.", "aXc", "%2Fx", "a\nb", "bücher", "😀"}
	s, err := Compile("function FindProxyForURL(u, h) { return 'DIRECT' }", nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := s.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.put(rt)
	for _, p := range patterns {
		c := compileShExp(p)
		if c.glob == nil {
			t.Errorf("pattern %q did not compile to a glob", p)
			continue
		}
		for _, in := range inputs {
			want := rt.st.regexpTest(c.re, rt.vm.ToValue(in))
			got := rt.st.shExpMatch(rt.vm.ToValue(in), p)
			if got != want {
				t.Errorf("shExpMatch(%q, %q) = %v, the regular expression %q says %v", in, p, got, c.re, want)
			}
		}
	}
}

func TestShExpCacheBounded(t *testing.T) {
	var c shexpCache
	for i := 0; i < maxCachedPatterns+100; i++ {
		c.get("*.p" + itoa(i))
	}
	if n := c.n.Load(); n != maxCachedPatterns {
		t.Errorf("cache holds %d patterns, want %d", n, maxCachedPatterns)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestSystemResolverCache(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	r := newCachingResolver(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		calls.Add(1)
		<-release
		if host == "good.example" {
			return []netip.Addr{netip.MustParseAddr("::ffff:10.0.0.1")}, nil
		}
		return nil, errors.New("no such host")
	}, time.Second)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	r.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }

	// Concurrent lookups of one name share one query.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs, err := r.LookupNetIP(context.Background(), "ip4", "Good.Example")
			if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("10.0.0.1") {
				t.Errorf("LookupNetIP = %v, %v", addrs, err)
			}
		}()
	}
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("%d queries for one name, want 1", n)
	}
	if addrs, ok := r.lookupCached("ip4", "good.example"); !ok || len(addrs) != 1 {
		t.Errorf("lookupCached after the query = %v, %v", addrs, ok)
	}

	// Failures are cached too, for a shorter time.
	if _, err := r.LookupNetIP(context.Background(), "ip4", "bad.example"); err == nil {
		t.Error("bad.example resolved")
	}
	if _, err := r.LookupNetIP(context.Background(), "ip4", "bad.example"); err == nil || calls.Load() != 2 {
		t.Errorf("second lookup of bad.example: %v after %d queries, want a cached failure after 2", err, calls.Load())
	}
	mu.Lock()
	now = now.Add(dnsNegativeTTL + time.Second)
	mu.Unlock()
	if _, ok := r.lookupCached("ip4", "bad.example"); ok {
		t.Error("failure still cached after its TTL")
	}
	if _, ok := r.lookupCached("ip4", "good.example"); !ok {
		t.Error("answer expired before its TTL")
	}

	// A caller that gives up does not wait for the query.
	slow := newCachingResolver(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := slow.LookupNetIP(ctx, "ip", "slow.example"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow lookup: %v, want DeadlineExceeded", err)
	}
}

func TestSystemResolverEvicts(t *testing.T) {
	r := newCachingResolver(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("10.0.0.1")}, nil
	}, time.Second)
	for i := 0; i < dnsCacheSize*2; i++ {
		if _, err := r.LookupNetIP(context.Background(), "ip", "h"+itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	n := len(r.cache)
	r.mu.Unlock()
	if n > dnsCacheSize {
		t.Errorf("cache holds %d entries, more than %d", n, dnsCacheSize)
	}
}

func TestMyIPFinder(t *testing.T) {
	addr := netip.MustParseAddr
	tests := []struct {
		name     string
		routes   map[string]string // probe target -> source address
		hostname []string          // the host name's addresses
		want     string
	}{
		{"route to 8.8.8.8", map[string]string{"8.8.8.8:80": "192.0.2.10", "[2001:4860:4860::8888]:80": "2001:db8::10"}, []string{"10.9.9.9"}, "[192.0.2.10 2001:db8::10]"},
		{"IPv6 only", map[string]string{"[2001:4860:4860::8888]:80": "2001:db8::10"}, nil, "[2001:db8::10]"},
		{"host name, IPv4 first", nil, []string{"2001:db8::20", "127.0.1.1", "10.1.1.1"}, "[10.1.1.1 2001:db8::20]"},
		{"private routes", map[string]string{"172.16.0.0:80": "172.16.5.5"}, []string{"127.0.1.1"}, "[172.16.5.5]"},
		{"loopback as a last resort", map[string]string{"8.8.8.8:80": "127.0.0.1"}, []string{"fe80::1"}, "[127.0.0.1 fe80::1]"},
		{"nothing", nil, nil, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &myIPFinder{
				timeout: time.Second,
				probe: func(ctx context.Context, network, target string) (netip.Addr, error) {
					if src, ok := tt.routes[target]; ok {
						return addr(src), nil
					}
					return netip.Addr{}, errors.New("network unreachable")
				},
				hostname: func() (string, error) { return "me", nil },
				lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
					var out []netip.Addr
					for _, a := range tt.hostname {
						out = append(out, addr(a))
					}
					return out, nil
				},
				now: time.Now,
			}
			if got := fmtAddrList(f.addresses(context.Background())); got != tt.want {
				t.Errorf("addresses = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMyIPFinderCachesAndBounds(t *testing.T) {
	var probes atomic.Int32
	hang := make(chan struct{})
	defer close(hang)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	f := &myIPFinder{
		timeout: 50 * time.Millisecond,
		probe: func(ctx context.Context, network, target string) (netip.Addr, error) {
			probes.Add(1)
			return netip.MustParseAddr("192.0.2.1"), nil
		},
		hostname: func() (string, error) { return "", errors.New("none") },
		lookup:   func(ctx context.Context, host string) ([]netip.Addr, error) { return nil, nil },
		now:      func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	}
	f.addresses(context.Background())
	f.addresses(context.Background())
	if n := probes.Load(); n != 2 { // 8.8.8.8 and the IPv6 probe, once
		t.Errorf("%d probes after two calls, want 2", n)
	}
	mu.Lock()
	now = now.Add(2 * myIPTTL)
	mu.Unlock()
	if got := fmtAddrList(f.addresses(context.Background())); got != "[192.0.2.1]" {
		t.Errorf("stale answer = %s", got)
	}

	// A search that hangs ends at the timeout with no address.
	g := &myIPFinder{
		timeout: 50 * time.Millisecond,
		probe: func(ctx context.Context, network, target string) (netip.Addr, error) {
			select {
			case <-ctx.Done():
				return netip.Addr{}, ctx.Err()
			case <-hang:
				return netip.Addr{}, errors.New("closed")
			}
		},
		hostname: func() (string, error) { return "me", nil },
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		now: time.Now,
	}
	start := time.Now()
	if got := g.addresses(context.Background()); len(got) != 0 {
		t.Errorf("hung search found %v", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung search took %v", d)
	}
}

func fmtAddrList(addrs []netip.Addr) string {
	var s []string
	for _, a := range addrs {
		s = append(s, a.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}
