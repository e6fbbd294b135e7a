// Command load is the load generator and the origin of pacd's daemon
// benchmark (bench/daemon.sh). It uses the standard library only, and
// every address it listens on or connects to must be a loopback address.
//
//	load origin -listen 127.0.0.1:0 -addr-file F
//	load http -proxy URL|none -target URL -c CONC -d DURATION
//	load tunnel -proxy host:port|none -target host:port -bytes N -streams S
//	load connect-rate -proxy host:port|none -target host:port -c C -d D
//	load idle -proxy host:port -target HOLD -n N -pid PID
//	load wait -proxy URL|none -target URL [-connect host:port]
//	load freeport [-n N]
//	load report results.jsonl
//
// Each measurement writes one line of JSON to standard output and a
// human summary to standard error; report turns the JSON lines of a run
// into the markdown tables of bench/README.md.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"syscall"
)

type mode struct {
	name, usage string
	run         func(args []string) error
}

var modes = []mode{
	{"origin", "-listen 127.0.0.1:0 -addr-file F: HTTP origin, byte source and idle hold ports", runOrigin},
	{"http", "-proxy URL|none -target URL -c CONC -d DURATION: keep-alive GETs", runHTTP},
	{"tunnel", "-proxy host:port|none -target SOURCE -bytes N -streams S: tunnel throughput", runTunnel},
	{"connect-rate", "-proxy host:port|none -target host:port -c C -d D: new tunnels per second", runConnectRate},
	{"idle", "-proxy host:port -target HOLD -n N -pid PID: memory per idle tunnel", runIdle},
	{"wait", "-proxy URL|none -target URL [-connect SOURCE]: wait until a proxy proxies", runWait},
	{"freeport", "[-n N]: print N free loopback TCP ports", runFreeport},
	{"report", "FILE: markdown tables from the JSON lines of a run", runReport},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: load MODE [flags]; modes:")
	for _, m := range modes {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", m.name, m.usage)
	}
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	for _, m := range modes {
		if m.name == os.Args[1] {
			if err := m.run(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "load %s: %v\n", m.name, err)
				os.Exit(1)
			}
			return
		}
	}
	usage()
}

// newFlags returns a flag set for a mode that exits on -h and errors.
func newFlags(name string) *flag.FlagSet {
	return flag.NewFlagSet("load "+name, flag.ExitOnError)
}

// emit writes one measurement as a line of JSON on standard output.
func emit(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
}

// logf writes human text on standard error.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// raiseNofile lifts the soft limit on open files to the hard limit: the
// idle-tunnel measurement holds thousands of connections.
func raiseNofile() uint64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		logf("load: getrlimit: %v", err)
		return 0
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			logf("load: setrlimit: %v", err)
		}
	}
	return rl.Cur
}

// loopbackHostPort checks that hp is host:port with a loopback IP
// literal: the benchmark never leaves the machine.
func loopbackHostPort(hp string) error {
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		return fmt.Errorf("%q: want a loopback IP:port: %v", hp, err)
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("%q is not a loopback address", hp)
	}
	return nil
}

// loopbackURL parses an http:// URL whose host is a loopback IP:port.
func loopbackURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("%q: want an http:// URL", s)
	}
	if err := loopbackHostPort(u.Host); err != nil {
		return nil, err
	}
	return u, nil
}

// proxyURL parses -proxy for the HTTP modes: nil for none.
func proxyURL(s string) (*url.URL, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	return loopbackURL(s)
}

// proxyAddr parses -proxy for the tunnel modes, host:port or an http://
// URL: "" for none (a direct TCP connection).
func proxyAddr(s string) (string, error) {
	if s == "" || s == "none" {
		return "", nil
	}
	if strings.Contains(s, "://") {
		u, err := loopbackURL(s)
		if err != nil {
			return "", err
		}
		return u.Host, nil
	}
	return s, loopbackHostPort(s)
}

func runFreeport(args []string) error {
	fs := newFlags("freeport")
	n := fs.Int("n", 1, "how many distinct ports")
	fs.Parse(args)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := 0; i < *n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}
