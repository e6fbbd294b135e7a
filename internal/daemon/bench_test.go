package daemon_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"github.com/pacd/pacd/internal/daemon"
	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/resolver"
)

// BenchmarkForward measures a keep-alive plain-http request through the
// daemon to a loopback origin, the decision coming from a PAC evaluator
// on every request:
//
//	go test -run='^$' -bench=Forward -benchmem ./internal/daemon
func BenchmarkForward(b *testing.B) { benchmarkForward(b, benchPAC{}) }

// BenchmarkForwardLoadPAC is BenchmarkForward with bench/load.pac, the
// script bench/daemon.sh runs, in the native engine.
func BenchmarkForwardLoadPAC(b *testing.B) {
	src, err := os.ReadFile("../../bench/load.pac")
	if err != nil {
		b.Fatal(err)
	}
	script, err := pac.Compile(string(src), nil)
	if err != nil {
		b.Fatal(err)
	}
	benchmarkForward(b, script)
}

func benchmarkForward(b *testing.B, ev resolver.Evaluator) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "0123456789012345678901234567890123456789012345678901234567890123")
	}))
	defer origin.Close()
	r, err := resolver.New(&resolver.Config{PAC: ev, ProxyLoopback: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := daemon.New(daemon.Config{Logger: slog.New(slog.DiscardHandler)}, r)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(b.Context())
	proxy, _ := url.Parse("http://" + ln.Addr().String())
	b.RunParallel(func(pb *testing.PB) {
		client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}}
		for pb.Next() {
			resp, err := client.Get(origin.URL + "/small")
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

type benchPAC struct{}

func (benchPAC) Eval(_ context.Context, url, host string) (string, error) { return "DIRECT", nil }
