//go:build wasip1

package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"time"
	_ "time/tzdata" // the guest has no zoneinfo files: carry the database
	"unsafe"

	"github.com/pacd/pacd/pac"
)

// main never runs: the module is a reactor, and the host calls the
// exports after _initialize.
func main() {}

//go:wasmimport pac_host dns_lookup
func hostDNSLookup(family uint32, host unsafe.Pointer, hostLen uint32, out unsafe.Pointer, outCap uint32) int32

//go:wasmimport pac_host my_ip_addresses
func hostMyIPAddresses(out unsafe.Pointer, outCap uint32) int32

//go:wasmimport pac_host log
func hostLog(level uint32, msg unsafe.Pointer, msgLen uint32)

var (
	script  *pac.Script
	buffers = map[uintptr][]byte{} // pac_alloc's buffers, kept alive until pac_free
	result  []byte                 // the last string result, valid until the next call
	lastErr []byte                 // pac_last_error's JSON
	empty   = []byte{0}            // where an empty result points
)

//go:wasmexport pac_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport pac_alloc
func alloc(n int32) unsafe.Pointer {
	if n <= 0 {
		n = 1
	}
	b := make([]byte, n)
	p := unsafe.Pointer(unsafe.SliceData(b))
	buffers[uintptr(p)] = b
	return p
}

//go:wasmexport pac_free
func free(p unsafe.Pointer) { delete(buffers, uintptr(p)) }

// input copies a string the host wrote into guest memory: the host may
// reuse the buffer, and the engine may keep the string.
func input(p unsafe.Pointer, n int32) string {
	if n <= 0 {
		return ""
	}
	return strings.Clone(unsafe.String((*byte)(p), n))
}

// output returns s as a packed string result.
func output(s []byte) int64 {
	result = s
	if len(s) == 0 {
		return int64(uintptr(unsafe.Pointer(&empty[0]))) << 32
	}
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(s))))<<32 | int64(len(s))
}

type loadConfig struct {
	Source           string `json:"source"`
	Name             string `json:"name"`
	Zone             string `json:"zone"`
	FullURLs         bool   `json:"full_urls"`
	MaxCallStackSize int    `json:"max_call_stack_size"`
	MaxScriptSize    int    `json:"max_script_size"`
	MaxResultSize    int    `json:"max_result_size"`
}

//go:wasmexport pac_load
func load(cfgPtr unsafe.Pointer, cfgLen int32) int32 {
	var cfg loadConfig
	if err := json.Unmarshal([]byte(input(cfgPtr, cfgLen)), &cfg); err != nil {
		setError("config", err)
		return -1
	}
	loc := time.UTC
	if cfg.Zone != "" {
		l, err := time.LoadLocation(cfg.Zone)
		if err != nil {
			setError("config", err)
			return -1
		}
		loc = l
	}
	// The module runs one script, so the process's zone can be the
	// script's: goja gives Date objects time.Local, and a native pacd
	// sets it to the zone asked for (pacd eval --tz) in the same way.
	time.Local = loc
	s, err := pac.Compile(cfg.Source, &pac.Options{
		Name:             cfg.Name,
		Resolver:         hostResolver{},
		MyIPAddresses:    myIPAddresses,
		Location:         loc,
		Timeout:          24 * time.Hour, // the host stops runaway scripts (see the package doc)
		MaxCallStackSize: cfg.MaxCallStackSize,
		MaxScriptSize:    cfg.MaxScriptSize,
		MaxResultSize:    cfg.MaxResultSize,
		FullURLs:         cfg.FullURLs,
		Alert: func(msg string) {
			hostLog(0, unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
		},
	})
	if err != nil {
		setError("", err)
		return -1
	}
	script = s
	return 0
}

//go:wasmexport pac_find
func find(urlPtr unsafe.Pointer, urlLen int32, hostPtr unsafe.Pointer, hostLen int32) int64 {
	if script == nil {
		setError("not_loaded", errors.New("pac: no script loaded"))
		return -1
	}
	raw, err := script.Eval(context.Background(), input(urlPtr, urlLen), input(hostPtr, hostLen))
	if err != nil {
		setError("", err)
		return -1
	}
	return output([]byte(raw))
}

type tracedCall struct {
	Func   string   `json:"func"`
	Args   []string `json:"args"`
	Result string   `json:"result"`
}

type tracedResult struct {
	Result *string      `json:"result"`
	Error  *errorReport `json:"error,omitempty"`
	Calls  []tracedCall `json:"calls"`
}

//go:wasmexport pac_find_traced
func findTraced(urlPtr unsafe.Pointer, urlLen int32, hostPtr unsafe.Pointer, hostLen int32) int64 {
	if script == nil {
		setError("not_loaded", errors.New("pac: no script loaded"))
		return -1
	}
	tr := tracedResult{Calls: []tracedCall{}}
	ctx := pac.WithTrace(context.Background(), func(c pac.Call) {
		tr.Calls = append(tr.Calls, tracedCall{c.Func, c.Args, c.Result})
	})
	raw, err := script.Eval(ctx, input(urlPtr, urlLen), input(hostPtr, hostLen))
	if err != nil {
		tr.Error = report("", err)
	} else {
		tr.Result = &raw
	}
	b, _ := json.Marshal(tr)
	return output(b)
}

//go:wasmexport pac_last_error
func lastError() int64 { return output(lastErr) }

//go:wasmexport pac_interrupt_slot
func interruptSlot() int32 { return int32(pac.InterruptSlot()) }

type errorReport struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	Msg     string `json:"msg,omitempty"`
	Name    string `json:"name,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Stack   string `json:"stack,omitempty"`
}

func report(kind string, err error) *errorReport {
	r := &errorReport{Kind: kind, Message: err.Error()}
	var se *pac.SyntaxError
	var xe *pac.ScriptError
	switch {
	case errors.As(err, &se):
		r.Kind, r.Msg, r.Name, r.Line, r.Column = "syntax", se.Msg, se.Name, se.Line, se.Column
	case errors.As(err, &xe):
		r.Kind, r.Msg, r.Name, r.Line, r.Column, r.Stack = "script", xe.Msg, xe.Name, xe.Line, xe.Column, xe.Stack
	case errors.Is(err, pac.ErrTimeout):
		r.Kind = "timeout"
	case errors.Is(err, pac.ErrNoEntryPoint):
		r.Kind = "no_entry"
	case errors.Is(err, pac.ErrScriptTooLarge):
		r.Kind = "too_large"
	case r.Kind == "":
		r.Kind = "internal"
	}
	return r
}

func setError(kind string, err error) {
	lastErr, _ = json.Marshal(report(kind, err))
}

// hostResolver asks the host for DNS answers.
type hostResolver struct{}

// addrBuf is where the host writes the addresses it answers with: the
// guest runs one call at a time, and parseAddrs copies them out before
// the next call.
var addrBuf [2048]byte

func (hostResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	family := uint32(0)
	if network == "ip4" {
		family = 4
	}
	n := hostDNSLookup(family, unsafe.Pointer(unsafe.StringData(host)), uint32(len(host)), unsafe.Pointer(&addrBuf[0]), uint32(len(addrBuf)))
	if n < 0 {
		return nil, errors.New("pac: " + host + " does not resolve")
	}
	return parseAddrs(addrBuf[:min(int(n), len(addrBuf))]), nil
}

func myIPAddresses(context.Context) []netip.Addr {
	n := hostMyIPAddresses(unsafe.Pointer(&addrBuf[0]), uint32(len(addrBuf)))
	if n <= 0 {
		return nil
	}
	return parseAddrs(addrBuf[:min(int(n), len(addrBuf))])
}

// parseAddrs parses the addresses of b, separated by ';', skipping what
// does not parse. It keeps no reference to b.
func parseAddrs(b []byte) []netip.Addr {
	var addrs []netip.Addr
	// netip.ParseAddr keeps no reference to its argument either.
	s := unsafe.String(unsafe.SliceData(b), len(b))
	for s != "" {
		var f string
		f, s, _ = strings.Cut(s, ";")
		if a, err := netip.ParseAddr(strings.TrimSpace(f)); err == nil {
			addrs = append(addrs, a)
		}
	}
	return addrs
}
