package pac

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// The per-built-in benchmarks call each PAC function as goja calls it
// from a script, without the script around it:
//
//	go test -run='^$' -bench=Builtin -benchmem ./pac
//
// Patterns and names are the same on every call, as in a real PAC file,
// so the caches are warm.

func BenchmarkBuiltin(b *testing.B) {
	now := time.Date(2026, 3, 2, 10, 20, 30, 0, time.UTC)
	s, err := Compile("function FindProxyForURL(u, h) { return 'DIRECT' }", &Options{
		Resolver:      StaticResolver{"intranet.example.com": {netip.MustParseAddr("10.1.2.3")}},
		MyIPAddresses: func(context.Context) []netip.Addr { return []netip.Addr{netip.MustParseAddr("10.5.5.5")} },
		Now:           func() time.Time { return now },
		Location:      time.UTC,
	})
	if err != nil {
		b.Fatal(err)
	}
	rt, err := s.get(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer s.put(rt)
	vm := rt.vm
	v := func(x any) goja.Value { return vm.ToValue(x) }
	host := v("www.example.com")
	tests := []struct {
		name string
		args []goja.Value
	}{
		{"isPlainHostName", []goja.Value{host}},
		{"dnsDomainIs", []goja.Value{host, v(".example.com")}},
		{"localHostOrDomainIs", []goja.Value{v("www"), host}},
		{"dnsDomainLevels", []goja.Value{host}},
		{"shExpMatch", []goja.Value{host, v("*.example.com")}},
		{"shExpMatch/url", []goja.Value{v("http://www.example.com/a/b/c.html"), v("http://*.example.com/*/c.*")}},
		{"shExpMatch/regexp", []goja.Value{host, v("(*.example.com|example.com)")}},
		{"isInNet/literal", []goja.Value{v("10.1.2.3"), v("10.0.0.0"), v("255.0.0.0")}},
		{"isInNet/name", []goja.Value{v("intranet.example.com"), v("10.0.0.0"), v("255.0.0.0")}},
		{"dnsResolve", []goja.Value{v("intranet.example.com")}},
		{"isResolvable", []goja.Value{v("intranet.example.com")}},
		{"myIpAddress", nil},
		{"isInNetEx", []goja.Value{v("10.1.2.3"), v("10.0.0.0/8")}},
		{"weekdayRange", []goja.Value{v("MON"), v("FRI")}},
		{"dateRange", []goja.Value{v("JAN"), v("MAR")}},
		{"timeRange", []goja.Value{v(9), v(17)}},
		{"timeRange/6", []goja.Value{v(9), v(0), v(0), v(17), v(30), v(0)}},
	}
	for _, tt := range tests {
		name := tt.name
		if i := len(name); i > 0 {
			for j := 0; j < len(name); j++ {
				if name[j] == '/' {
					name = name[:j]
					break
				}
			}
		}
		fn, ok := vm.Get(name).Export().(func(goja.FunctionCall) goja.Value)
		if !ok {
			b.Fatalf("%s is not a native function", name)
		}
		call := goja.FunctionCall{This: goja.Undefined(), Arguments: tt.args}
		b.Run(tt.name, func(b *testing.B) {
			rt.st.begin(context.Background())
			defer rt.st.end()
			fn(call) // warm the caches
			b.ReportAllocs()
			for b.Loop() {
				rt.st.clockValid = false // read the clock as each evaluation does
				fn(call)
			}
		})
	}
}
