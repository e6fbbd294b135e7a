// Package pactest runs PAC expectation files: a PAC script, the
// environment it runs in (a fixed clock and time zone, fixed DNS answers,
// the client's addresses) and the answers it must give, so that a network
// team can keep its PAC file under test. It is what `pacd test` runs, and
// the format of the corpus in pacd's testdata/pac.
//
// # Format
//
// An expectation file is UTF-8 text, conventionally NAME.pactest beside
// NAME.pac. Blank lines and lines starting with '#' are ignored. Settings
// come first, one "key: value" a line:
//
//	pac: other.pac            the script, relative to this file (default: NAME.pac)
//	now: 2026-03-04T10:30:00Z the clock, RFC 3339 (default 2026-01-01T12:00:00Z)
//	tz: Europe/Berlin         the zone of the time functions (default UTC)
//	client: 10.1.2.3, ::1     the machine's addresses for myIpAddress(Ex) (default none)
//	resolve: HOST ADDR, ADDR  a DNS answer; repeatable; other names do not resolve
//	timeout: 200ms            the per-evaluation deadline (default pac.DefaultTimeout)
//	full-urls: true           pass https URLs whole instead of stripping them
//	compile-error: TEXT       the script must fail to compile with an error containing TEXT
//
// Then one case a line, "URL [HOST] => EXPECTED". EXPECTED is the exact
// string the script must return, blanks around it trimmed; a Go-quoted
// string ("" or " DIRECT ") keeps blanks and emptiness. "error: TEXT"
// expects the evaluation to fail with an error containing TEXT. HOST
// defaults to the URL's host, as pac.Script.Eval derives it.
//
// No file ever reaches the network: DNS answers come only from its
// resolve lines.
//
// The zone applies to the PAC time functions. Date objects that a script
// creates itself use the process's zone (time.Local), a limit of the
// JavaScript engine; `pacd test` sets time.Local to each file's zone while
// it runs the file, but File.Run, which may run concurrently with other
// files, does not.
package pactest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pacd/pacd/pac"
)

// Ext is the file name extension of expectation files.
const Ext = ".pactest"

// DefaultNow is the clock of a file that sets none.
var DefaultNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// A File is a parsed expectation file.
type File struct {
	Path         string             // the file's path, as given to ParseFile
	PAC          string             // the script's path
	Now          time.Time          // the clock
	Location     *time.Location     // the zone of the time functions
	Client       []netip.Addr       // the machine's addresses, best first
	Hosts        pac.StaticResolver // the DNS answers
	Timeout      time.Duration      // zero means the engine's default
	FullURLs     bool               // pass https URLs whole
	CompileError string             // if set, the script must fail to compile with this text
	Cases        []Case
}

// A Case is one expected answer.
type Case struct {
	Line    int    // the line of the file it came from
	URL     string // the URL given to FindProxyForURL
	Host    string // the host given to it; "" means derived from URL
	Want    string // the string the script must return, if WantErr is empty
	WantErr string // text that the evaluation's error must contain

	// SandboxErr, if set, replaces WantErr for an engine with a memory
	// cap (see the package documentation).
	SandboxErr string
}

// String returns the case as it is written in a file.
func (c Case) String() string {
	s := c.URL
	if c.Host != "" {
		s += " " + c.Host
	}
	if c.SandboxErr != "" {
		return s + " => error: " + c.WantErr + sandboxSep + c.SandboxErr
	}
	if c.WantErr != "" {
		return s + " => error: " + c.WantErr
	}
	return s + " => " + quoteIfNeeded(c.Want)
}

// sandboxSep separates the native engine's error text from a sandbox's.
const sandboxSep = " | sandbox: "

func quoteIfNeeded(s string) string {
	if s == "" || strings.TrimSpace(s) != s || strings.HasPrefix(s, `"`) || strings.HasPrefix(s, "error:") {
		return strconv.Quote(s)
	}
	return s
}

// A SyntaxError reports a line of an expectation file that cannot be
// parsed.
type SyntaxError struct {
	Path string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// ParseFile reads and parses the expectation file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses data, the contents of the expectation file at path. path
// names the file in errors and locates the script.
func Parse(path string, data []byte) (*File, error) {
	f := &File{
		Path:     path,
		PAC:      strings.TrimSuffix(path, Ext) + ".pac",
		Now:      DefaultNow,
		Location: time.UTC,
		Hosts:    pac.StaticResolver{},
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	seen := map[string]bool{}
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(format string, args ...any) error {
			return &SyntaxError{Path: path, Line: n, Msg: fmt.Sprintf(format, args...)}
		}
		if i := strings.Index(line, "=>"); i >= 0 {
			c, err := parseCase(line[:i], line[i+2:])
			if err != nil {
				return nil, fail("%v", err)
			}
			c.Line = n
			f.Cases = append(f.Cases, c)
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fail("want \"key: value\" or \"URL => RESULT\", got %q", line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if len(f.Cases) > 0 {
			return nil, fail("setting %q after the first case", key)
		}
		if seen[key] && key != "resolve" {
			return nil, fail("setting %q given twice", key)
		}
		seen[key] = true
		if err := f.set(key, val); err != nil {
			return nil, fail("%s: %v", key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.CompileError == "" && len(f.Cases) == 0 {
		return nil, &SyntaxError{Path: path, Line: n, Msg: "no cases"}
	}
	if f.CompileError != "" && len(f.Cases) > 0 {
		return nil, &SyntaxError{Path: path, Line: f.Cases[0].Line, Msg: "cases in a file that expects a compile error"}
	}
	return f, nil
}

func (f *File) set(key, val string) error {
	switch key {
	case "pac":
		if val == "" {
			return errors.New("empty path")
		}
		f.PAC = filepath.Join(filepath.Dir(f.Path), filepath.FromSlash(val))
	case "now":
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return err
		}
		f.Now = t
	case "tz":
		loc, err := time.LoadLocation(val)
		if err != nil {
			return err
		}
		f.Location = loc
	case "client":
		addrs, err := parseAddrs(val)
		if err != nil {
			return err
		}
		f.Client = addrs
	case "resolve":
		host, list, ok := strings.Cut(val, " ")
		if !ok {
			return fmt.Errorf("want \"HOST ADDR[, ADDR...]\", got %q", val)
		}
		addrs, err := parseAddrs(list)
		if err != nil {
			return err
		}
		host = strings.ToLower(host)
		f.Hosts[host] = append(f.Hosts[host], addrs...)
	case "timeout":
		d, err := time.ParseDuration(val)
		if err != nil {
			return err
		}
		if d <= 0 {
			return errors.New("must be positive")
		}
		f.Timeout = d
	case "full-urls":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return err
		}
		f.FullURLs = b
	case "compile-error":
		if val == "" {
			return errors.New("empty text")
		}
		f.CompileError = val
	default:
		return errors.New("unknown setting")
	}
	return nil
}

func parseAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, f := range strings.Split(s, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func parseCase(lhs, rhs string) (Case, error) {
	var c Case
	fields := strings.Fields(lhs)
	switch len(fields) {
	case 1:
		c.URL = fields[0]
	case 2:
		c.URL, c.Host = fields[0], fields[1]
	default:
		return c, fmt.Errorf("want \"URL [HOST] => RESULT\", got %q", strings.TrimSpace(lhs)+" =>")
	}
	rhs = strings.TrimSpace(rhs)
	switch {
	case strings.HasPrefix(rhs, "error:"):
		c.WantErr = strings.TrimSpace(strings.TrimPrefix(rhs, "error:"))
		if native, sandbox, ok := strings.Cut(c.WantErr, strings.TrimSpace(sandboxSep)); ok {
			c.WantErr, c.SandboxErr = strings.TrimSpace(native), strings.TrimSpace(sandbox)
			if c.SandboxErr == "" {
				return c, errors.New("empty sandbox error text")
			}
		}
		if c.WantErr == "" {
			return c, errors.New("empty error text")
		}
	case strings.HasPrefix(rhs, `"`):
		s, err := strconv.Unquote(rhs)
		if err != nil {
			return c, fmt.Errorf("bad quoted result %s", rhs)
		}
		c.Want = s
	default:
		c.Want = rhs
	}
	return c, nil
}

// Options returns the pac.Options that run the file's script in the
// file's environment: its clock, zone, DNS answers (and no other DNS),
// client addresses, timeout and URL handling.
func (f *File) Options() *pac.Options {
	client := f.Client
	now := f.Now
	return &pac.Options{
		Name:          filepath.Base(f.PAC),
		Resolver:      f.Hosts,
		MyIPAddresses: func(context.Context) []netip.Addr { return client },
		Now:           func() time.Time { return now },
		Location:      f.Location,
		Timeout:       f.Timeout,
		FullURLs:      f.FullURLs,
	}
}

// An Outcome is the result of one case.
type Outcome struct {
	Case
	Got       string // what the script returned
	Err       error  // how the evaluation failed, if it did
	Sandboxed bool   // the engine has a memory cap: SandboxErr applies
}

// wantErr is the error text the outcome is held to.
func (o Outcome) wantErr() string {
	if o.Sandboxed && o.SandboxErr != "" {
		return o.SandboxErr
	}
	return o.WantErr
}

// Passed reports whether the script answered as the case expects.
func (o Outcome) Passed() bool {
	if want := o.wantErr(); want != "" {
		return o.Err != nil && strings.Contains(o.Err.Error(), want)
	}
	return o.Err == nil && o.Got == o.Want
}

// String describes a failed outcome in one line: where the case is, what
// was expected and what came.
func (o Outcome) String() string {
	got := strconv.Quote(o.Got)
	if o.Err != nil {
		got = "error: " + o.Err.Error()
	}
	want := strconv.Quote(o.Want)
	if w := o.wantErr(); w != "" {
		want = "error containing " + strconv.Quote(w)
	}
	where := o.URL
	if o.Host != "" {
		where += " " + o.Host
	}
	return fmt.Sprintf("%s: want %s, got %s", where, want, got)
}

// A Report is the result of running one file.
type Report struct {
	File       *File
	CompileErr error     // the script's compile error, if it did not compile
	Failure    string    // why the file as a whole failed, if it did
	Outcomes   []Outcome // one per case, in order
}

// Passed and Failed count the cases (a file that expects a compile error
// is one case).
func (r *Report) Passed() int { p, _ := r.counts(); return p }

// Failed counts the cases that did not pass, including a file-level failure.
func (r *Report) Failed() int { _, f := r.counts(); return f }

func (r *Report) counts() (passed, failed int) {
	if r.File.CompileError != "" {
		if r.Failure == "" {
			return 1, 0
		}
		return 0, 1
	}
	if r.Failure != "" {
		return 0, max(1, len(r.File.Cases))
	}
	for _, o := range r.Outcomes {
		if o.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// An Evaluator is a compiled script: *pac.Script, or a script of another
// engine that honours pac.Options (such as the WebAssembly engine of
// package github.com/pacd/pacd/wasm).
type Evaluator interface {
	Eval(ctx context.Context, url, host string) (string, error)
}

// A Compiler compiles src with opts for [File.RunWith], as [pac.Compile]
// does, with the same errors.
type Compiler func(src string, opts *pac.Options) (Evaluator, error)

// Run compiles the file's script in its environment with [pac.Compile]
// and evaluates every case. An unreadable or uncompilable script fails
// the whole file (unless the file expects exactly that compile error).
func (f *File) Run(ctx context.Context) *Report {
	return f.RunWith(ctx, func(src string, opts *pac.Options) (Evaluator, error) {
		s, err := pac.Compile(src, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

// RunWith is Run with another engine: compile compiles the script. If
// the Evaluator it returns is an io.Closer, RunWith closes it when the
// cases have run. If it has a method MemoryLimit() uint64 that returns
// more than zero, its scripts run under a memory cap, and cases with a
// sandbox error text are held to that text.
func (f *File) RunWith(ctx context.Context, compile Compiler) *Report {
	r := &Report{File: f}
	src, err := os.ReadFile(f.PAC)
	if err != nil {
		r.Failure = err.Error()
		return r
	}
	s, err := compile(string(src), f.Options())
	if c, ok := s.(io.Closer); ok && err == nil {
		defer c.Close()
	}
	r.CompileErr = err
	if f.CompileError != "" {
		switch {
		case err == nil:
			r.Failure = fmt.Sprintf("%s compiled, want error containing %q", f.PAC, f.CompileError)
		case !strings.Contains(err.Error(), f.CompileError):
			r.Failure = fmt.Sprintf("compile error %q does not contain %q", err.Error(), f.CompileError)
		}
		return r
	}
	if err != nil {
		r.Failure = "compile: " + err.Error()
		return r
	}
	capped, _ := s.(interface{ MemoryLimit() uint64 })
	sandboxed := capped != nil && capped.MemoryLimit() > 0
	for _, c := range f.Cases {
		got, err := s.Eval(ctx, c.URL, c.Host)
		r.Outcomes = append(r.Outcomes, Outcome{Case: c, Got: got, Err: err, Sandboxed: sandboxed})
	}
	return r
}

// Expand turns paths into expectation files: a directory stands for every
// *.pactest file in it (not in its subdirectories), a NAME.pac file for
// NAME.pactest, and any other path for itself. The result is sorted
// within each directory and keeps the order of paths.
func Expand(paths ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		switch {
		case fi.IsDir():
			m, err := filepath.Glob(filepath.Join(p, "*"+Ext))
			if err != nil {
				return nil, err
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: no %s files", p, Ext)
			}
			out = append(out, m...)
		case strings.HasSuffix(p, ".pac"):
			out = append(out, strings.TrimSuffix(p, ".pac")+Ext)
		default:
			out = append(out, p)
		}
	}
	return out, nil
}
