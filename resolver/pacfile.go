package resolver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// A Compiler compiles a PAC script. name is the script's location, for
// error positions. cmd/pacd passes a function wrapping pac.Compile; the
// Compiler, not PACFile, strips a byte order mark and decides between
// UTF-8 and Latin-1 when the server declared no charset.
type Compiler func(src []byte, name string) (Evaluator, error)

// Defaults of PACFile, from Chromium's PAC fetcher.
const (
	// DefaultPACRefresh is how long a loaded PAC counts as fresh when
	// PACFile.Refresh is zero: Chromium's 12 hours.
	DefaultPACRefresh = 12 * time.Hour

	// DefaultPACMaxSize is the largest PAC accepted when PACFile.MaxSize
	// is zero: Chromium's 1 MiB.
	DefaultPACMaxSize = 1 << 20

	// DefaultPACTimeout is the whole-fetch timeout of the HTTP client a
	// PACFile uses when PACFile.Client is nil: Chromium's 30 seconds.
	DefaultPACTimeout = 30 * time.Second
)

// pacRetryDelays is Chromium's schedule after failed fetches: 8 s after the
// first failure, 32 s after the second, 2 min after the third, then every
// 4 h.
var pacRetryDelays = [...]time.Duration{8 * time.Second, 32 * time.Second, 2 * time.Minute, 4 * time.Hour}

// pacRetryDelay returns how long to wait before the next check after
// failures consecutive failed checks (0 means the last check succeeded),
// never longer than refresh.
func pacRetryDelay(failures int, refresh time.Duration) time.Duration {
	if failures <= 0 {
		return refresh
	}
	return min(pacRetryDelays[min(failures, len(pacRetryDelays))-1], refresh)
}

// PACFile is an [Evaluator] backed by a PAC script loaded from a file or
// an http(s) URL and kept up to date, following Chromium's PAC fetch
// rules: a fetch is never made through a proxy, must answer exactly 200
// within 30 s and be at most 1 MiB; a loaded script is rechecked every 12
// hours; a failed check is retried after 8 s, 32 s, 2 min and then every
// 4 h. A check that fails, or fetches a script that does not compile,
// leaves the last good script in use.
//
// Set the exported fields, then call Start (or only Reload, for a
// one-time load) and Close when done. The fields must not be changed, and
// a PACFile must not be copied, after first use. Eval, Reload, Status
// and Close are safe for concurrent use.
type PACFile struct {
	// Location is where the script comes from: a file path, a file:// URL
	// (file:///abs/path or file://localhost/abs/path), an http:// or
	// https:// URL, or a data: URL holding the script itself
	// (data:,function%20FindProxyForURL... or data:;base64,...), which
	// errors and logs call "data URL". A password in a URL is redacted
	// in errors, logs and Status.
	Location string

	// Compile compiles each new version of the script. It is required.
	Compile Compiler

	// Client fetches http(s) locations. If nil, a client with no proxy
	// (a PAC is never fetched through a proxy, even if the environment
	// names one), a 30 s timeout and the default TLS configuration is
	// used. A non-nil Client is used as it is: its timeout and proxy
	// settings are the caller's.
	Client *http.Client

	// Refresh is how often the background refresher started by Start
	// checks for a new version. If zero, it is 12 hours (Chromium's
	// lifetime for a fetched PAC). An http(s) check is a conditional GET
	// when the server gave an ETag or Last-Modified; a file check
	// compares the file's modification time and size. Refresh also caps
	// the retry delays after a failure.
	Refresh time.Duration

	// MaxSize is the largest script accepted, in bytes. If zero, it is
	// 1 MiB.
	MaxSize int64

	// Logger receives one Info line per successful load and one Warn line
	// per failed check. If nil, nothing is logged.
	Logger *slog.Logger

	// Hooks for tests; nil means the real clock and timers.
	now      func() time.Time
	newTimer func(d time.Duration) (c <-chan time.Time, stop func() bool)

	setupOnce sync.Once
	cfg       *pacConfig // set by setup
	cfgErr    error      // set by setup

	cur atomic.Pointer[pacVersion] // the script in use; nil before the first load

	loadMu sync.Mutex    // serialises checks
	resch  chan struct{} // tells the refresher a Reload moved NextCheck; set by setup

	mu     sync.Mutex // guards st
	st     PACStatus  // Location is filled in by Status
	lifeMu sync.Mutex // guards started, closed, cancel, done
	life   struct {
		started, closed bool
		cancel          context.CancelFunc
		done            chan struct{} // closed when the refresher returns
	}
}

var _ Evaluator = (*PACFile)(nil)

// pacConfig is a PACFile's validated configuration, with defaults applied.
type pacConfig struct {
	display   string          // Location, redacted
	file      string          // the path, for a file location
	url       string          // the URL, for an http(s) location
	data      []byte          // the script, for a data: location
	client    *http.Client    // for http(s)
	transport *http.Transport // ours, if Client was nil: idle connections closed by Close
	refresh   time.Duration
	maxSize   int64
	log       *slog.Logger
}

// pacVersion is one loaded version of the script, with what identifies
// it at its source.
type pacVersion struct {
	ev       Evaluator
	loadedAt time.Time
	digest   [sha256.Size]byte // of the source as compiled
	size     int64
	src      []byte // the source as compiled

	etag, lastModified string    // from the HTTP response
	modTime            time.Time // of the file
	fileSize           int64     // of the file
}

// version returns v's source version for Status and logs.
func (v *pacVersion) version() string {
	switch {
	case v.etag != "":
		return v.etag
	case v.lastModified != "":
		return v.lastModified
	case !v.modTime.IsZero():
		return v.modTime.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// PACStatus is a snapshot of a [PACFile]'s state, from [PACFile.Status].
type PACStatus struct {
	// Location is the PACFile's Location, with any password redacted.
	Location string

	// Loaded reports whether a script has been loaded; Eval fails with a
	// *PACUnavailableError until it has.
	Loaded bool

	// LoadedAt is when the script in use was loaded; zero if none was.
	LoadedAt time.Time

	// Version identifies the script in use at its source: the ETag, or
	// else the Last-Modified header, of its HTTP response, or the file's
	// modification time (RFC 3339, UTC). Empty if none is known.
	Version string

	// Size is the length of the script in use, in bytes, as compiled.
	Size int64

	// LastCheck is when the last load or check finished; zero if none
	// has.
	LastCheck time.Time

	// LastError is why the last check failed (the fetch, or the compiling
	// of a new version); nil if it succeeded or none has run.
	LastError error

	// Failures counts the consecutive failed checks; 0 after a success.
	Failures int

	// NextCheck is when the background refresher checks next: Refresh
	// after a success, or the retry delay after a failure. It is acted
	// on only while the refresher runs (between Start and Close). Zero
	// if no check has run.
	NextCheck time.Time
}

// A PACUnavailableError is returned by [PACFile.Eval] when no script has
// loaded yet.
type PACUnavailableError struct {
	// Location is the PACFile's Location, with any password redacted.
	Location string

	// Err is why the last load failed; nil if none has been attempted.
	Err error
}

// Error returns "resolver: PAC <location> not loaded", followed by the
// last load's error if there was one.
func (e *PACUnavailableError) Error() string {
	s := "resolver: PAC " + e.Location + " not loaded"
	var pe *pacError
	switch {
	case errors.As(e.Err, &pe) && pe.loc == e.Location:
		s += ": " + pe.err.Error() // without repeating the location
	case e.Err != nil:
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns e.Err.
func (e *PACUnavailableError) Unwrap() error { return e.Err }

// pacError is a failure to load the PAC at loc: "resolver: PAC loc: err".
type pacError struct {
	loc string
	err error
}

func (e *pacError) Error() string { return "resolver: PAC " + e.loc + ": " + e.err.Error() }
func (e *pacError) Unwrap() error { return e.err }

// setup validates the configuration once and applies the defaults.
func (f *PACFile) setup() error {
	f.setupOnce.Do(func() {
		f.resch = make(chan struct{}, 1)
		f.cfg, f.cfgErr = f.configure()
	})
	return f.cfgErr
}

func (f *PACFile) configure() (*pacConfig, error) {
	c := &pacConfig{
		display: f.Location,
		refresh: f.Refresh,
		maxSize: f.MaxSize,
		log:     f.Logger,
	}
	if c.refresh <= 0 {
		c.refresh = DefaultPACRefresh
	}
	if c.maxSize <= 0 {
		c.maxSize = DefaultPACMaxSize
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	loc := f.Location
	if loc == "" {
		return c, errors.New("resolver: PACFile has no Location")
	}
	if len(loc) >= 5 && strings.EqualFold(loc[:5], "data:") {
		// The script itself, inline. Its text is no name for errors and
		// logs: they say "data URL", and Status gives its size.
		c.display = "data URL"
		src, err := parseDataURL(loc)
		if err != nil {
			return c, &pacError{c.display, err}
		}
		if int64(len(src)) > c.maxSize {
			return c, &pacError{c.display, pacTooLarge(c.maxSize)}
		}
		c.data = src
		if f.Compile == nil {
			return c, &pacError{c.display, errors.New("PACFile has no Compile function")}
		}
		return c, nil
	}
	u, err := url.Parse(loc)
	if err != nil || len(u.Scheme) < 2 {
		// Not a URL (or a Windows drive letter): a file path.
		c.file = loc
	} else {
		switch strings.ToLower(u.Scheme) {
		case "http", "https":
			c.display = u.Redacted()
			if u.Host == "" {
				return c, &pacError{c.display, errors.New("URL has no host")}
			}
			c.url = loc
			c.client = f.Client
			if c.client == nil {
				c.transport = http.DefaultTransport.(*http.Transport).Clone()
				c.transport.Proxy = nil // never fetch a PAC through a proxy
				c.client = &http.Client{Transport: c.transport, Timeout: DefaultPACTimeout}
			}
		case "file":
			if u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
				return c, &pacError{c.display, errors.New("file URL needs an absolute path (file:///path)")}
			}
			if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
				return c, &pacError{c.display, fmt.Errorf("file URL names host %q; only local files are read", u.Host)}
			}
			c.file = filepath.FromSlash(u.Path)
		default:
			return c, &pacError{c.display, fmt.Errorf("unsupported scheme %q: want a file path, file://, http://, https:// or data:", u.Scheme)}
		}
	}
	if f.Compile == nil {
		return c, &pacError{c.display, errors.New("PACFile has no Compile function")}
	}
	return c, nil
}

// display returns the Location as errors, logs and Status show it.
func (f *PACFile) display() string {
	f.setup()
	return f.cfg.display
}

func (f *PACFile) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

func (f *PACFile) timer(d time.Duration) (<-chan time.Time, func() bool) {
	if f.newTimer != nil {
		return f.newTimer(d)
	}
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Start loads the script once, synchronously, then starts a goroutine
// that rechecks it every Refresh (and retries failures with Chromium's
// backoff) until ctx ends or Close is called. It returns the first load's
// error, fetch or compile, but the refresher runs regardless, so a PAC
// server that is down at start-up is picked up when it comes back; until
// then Eval returns a *PACUnavailableError. Start returns an error without
// starting anything if the configuration is invalid (no Location, an
// unsupported scheme, no Compile), or if Start or Close was called
// before.
func (f *PACFile) Start(ctx context.Context) error {
	if err := f.setup(); err != nil {
		f.recordConfigError(err)
		return err
	}
	f.lifeMu.Lock()
	switch {
	case f.life.closed:
		f.lifeMu.Unlock()
		return &pacError{f.cfg.display, errors.New("Start called after Close")}
	case f.life.started:
		f.lifeMu.Unlock()
		return &pacError{f.cfg.display, errors.New("Start called twice")}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	f.life.started = true
	f.life.cancel = cancel
	f.life.done = done
	f.lifeMu.Unlock()

	err := f.check(ctx)
	go f.refresh(ctx, done)
	return err
}

// Close stops the refresher started by Start and waits for it to return,
// cancelling a check in progress. It closes idle connections of the
// PACFile's own HTTP client. The script in use stays in use: Eval keeps
// working. Close is idempotent and always returns nil.
func (f *PACFile) Close() error {
	f.setup()
	f.lifeMu.Lock()
	f.life.closed = true
	cancel, done := f.life.cancel, f.life.done
	f.lifeMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if f.cfg.transport != nil {
		f.cfg.transport.CloseIdleConnections()
	}
	return nil
}

// Reload fetches and compiles the script now, as on SIGHUP, whether or
// not the refresher runs; an unchanged source (HTTP 304, the same file
// modification time and size, or the same bytes) is not recompiled. On
// failure the last good script stays in use and the error is returned,
// logged and shown by Status. A running refresher reschedules itself
// after Reload.
func (f *PACFile) Reload(ctx context.Context) error {
	if err := f.setup(); err != nil {
		f.recordConfigError(err)
		return err
	}
	err := f.check(ctx)
	select {
	case f.resch <- struct{}{}:
	default:
	}
	return err
}

// Eval evaluates the script in use. Before any script has loaded it
// returns a *PACUnavailableError wrapping the last load's error. A new
// version replaces the old one atomically: an evaluation runs wholly on
// one version.
func (f *PACFile) Eval(ctx context.Context, url, host string) (string, error) {
	if v := f.cur.Load(); v != nil {
		return v.ev.Eval(ctx, url, host)
	}
	f.mu.Lock()
	err := f.st.LastError
	f.mu.Unlock()
	return "", &PACUnavailableError{Location: f.display(), Err: err}
}

// Source returns the text of the script in use, as it was compiled, and
// whether one has loaded. The caller must not modify it.
func (f *PACFile) Source() ([]byte, bool) {
	if v := f.cur.Load(); v != nil {
		return v.src, true
	}
	return nil, false
}

// Status returns a snapshot of f's state.
func (f *PACFile) Status() PACStatus {
	f.mu.Lock()
	st := f.st
	f.mu.Unlock()
	st.Location = f.display()
	if v := f.cur.Load(); v != nil {
		st.Loaded = true
		st.LoadedAt = v.loadedAt
		st.Version = v.version()
		st.Size = v.size
	}
	return st
}

// refresh is the background refresher: it waits for NextCheck, checks,
// and repeats until ctx ends.
func (f *PACFile) refresh(ctx context.Context, done chan struct{}) {
	defer close(done)
	for {
		f.mu.Lock()
		next := f.st.NextCheck
		f.mu.Unlock()
		c, stop := f.timer(max(next.Sub(f.clock()), 0))
		select {
		case <-ctx.Done():
			stop()
			return
		case <-f.resch:
			stop()
			continue
		case <-c:
		}
		f.check(ctx)
	}
}

// recordConfigError makes Eval and Status report a configuration error.
func (f *PACFile) recordConfigError(err error) {
	f.mu.Lock()
	f.st.LastError = err
	f.mu.Unlock()
}

// check loads the script if its source changed, records the outcome in
// the status, logs it and returns the error.
func (f *PACFile) check(ctx context.Context) error {
	f.loadMu.Lock()
	defer f.loadMu.Unlock()
	c := f.cfg
	cur := f.cur.Load()

	var (
		next *pacVersion
		src  []byte
		err  error
	)
	switch {
	case c.data != nil:
		if cur == nil {
			next, src = &pacVersion{}, c.data
		}
	case c.file != "":
		next, src, err = f.readFile(cur)
	default:
		next, src, err = f.fetch(ctx, cur)
	}
	if err == nil && next != nil {
		next.digest = sha256.Sum256(src)
		next.size = int64(len(src))
		next.src = src
		if cur != nil && cur.digest == next.digest {
			// New validators, same script: keep the compiled one.
			next.ev, next.loadedAt = cur.ev, cur.loadedAt
			f.cur.Store(next)
			c.log.Debug("PAC unchanged", "location", c.display, "version", next.version())
		} else if ev, cerr := f.Compile(src, c.display); cerr != nil || ev == nil {
			if cerr == nil {
				cerr = errors.New("Compile returned no script")
			}
			err = &pacError{c.display, cerr}
		} else {
			next.ev, next.loadedAt = ev, f.clock()
			f.cur.Store(next)
			c.log.Info("PAC loaded", "location", c.display, "version", next.version(), "size", next.size)
		}
	} else if err == nil {
		c.log.Debug("PAC not modified", "location", c.display)
	}

	now := f.clock()
	f.mu.Lock()
	f.st.LastCheck = now
	f.st.LastError = err
	if err != nil {
		f.st.Failures++
	} else {
		f.st.Failures = 0
	}
	delay := pacRetryDelay(f.st.Failures, c.refresh)
	f.st.NextCheck = now.Add(delay)
	failures := f.st.Failures
	f.mu.Unlock()

	if err != nil {
		c.log.Warn("PAC check failed", "location", c.display, "err", err, "failures", failures, "retry_in", delay, "loaded", f.cur.Load() != nil)
	}
	return err
}

// readFile reads the file location if its modification time or size
// differ from cur's. It returns a nil version if they do not.
func (f *PACFile) readFile(cur *pacVersion) (*pacVersion, []byte, error) {
	c := f.cfg
	fail := func(err error) (*pacVersion, []byte, error) {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return nil, nil, &pacError{c.display, err}
	}
	fh, err := os.Open(c.file)
	if err != nil {
		return fail(err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return fail(err)
	}
	if fi.IsDir() {
		return fail(errors.New("is a directory"))
	}
	if cur != nil && cur.modTime.Equal(fi.ModTime()) && cur.fileSize == fi.Size() {
		return nil, nil, nil
	}
	if fi.Size() > c.maxSize {
		return fail(pacTooLarge(c.maxSize))
	}
	src, err := io.ReadAll(io.LimitReader(fh, c.maxSize+1))
	if err != nil {
		return fail(err)
	}
	if int64(len(src)) > c.maxSize {
		return fail(pacTooLarge(c.maxSize)) // it grew as we read it
	}
	return &pacVersion{modTime: fi.ModTime(), fileSize: fi.Size()}, src, nil
}

// fetch GETs the http(s) location, conditionally on cur's validators. It
// returns a nil version for 304 Not Modified.
func (f *PACFile) fetch(ctx context.Context, cur *pacVersion) (*pacVersion, []byte, error) {
	c := f.cfg
	fail := func(err error) (*pacVersion, []byte, error) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // not "Get "<the location>": ..."
		}
		return nil, nil, &pacError{c.display, err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return fail(err)
	}
	if cur != nil {
		if cur.etag != "" {
			req.Header.Set("If-None-Match", cur.etag)
		}
		if cur.lastModified != "" {
			req.Header.Set("If-Modified-Since", cur.lastModified)
		}
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cur != nil:
		return nil, nil, nil
	case resp.StatusCode != http.StatusOK:
		return fail(fmt.Errorf("status %s", pacStatusLine(resp)))
	case resp.ContentLength > c.maxSize:
		return fail(pacTooLarge(c.maxSize))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxSize+1))
	if err != nil {
		return fail(fmt.Errorf("reading the body: %w", err))
	}
	if int64(len(body)) > c.maxSize {
		return fail(pacTooLarge(c.maxSize))
	}
	v := &pacVersion{
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
	}
	return v, decodePAC(body, resp.Header.Get("Content-Type")), nil
}

// parseDataURL returns the content of a data: URL (RFC 2397):
// data:[MEDIATYPE][;base64],DATA. Percent-escapes are decoded, and one
// that is not an escape is kept as it is, as browsers do; base64 may
// leave out its padding and contain white space. A charset in MEDIATYPE
// decodes the text as for a fetched script.
func parseDataURL(loc string) ([]byte, error) {
	meta, data, ok := strings.Cut(loc[len("data:"):], ",")
	if !ok {
		return nil, errors.New("data URL has no comma before its content")
	}
	raw := pacPercentDecode(data)
	mediaType, isBase64 := meta, false
	if i := strings.LastIndexByte(meta, ';'); i >= 0 && strings.EqualFold(strings.TrimSpace(meta[i+1:]), "base64") {
		mediaType, isBase64 = meta[:i], true
	}
	if isBase64 {
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
				return -1
			}
			return r
		}, string(raw))
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
		if err != nil {
			return nil, fmt.Errorf("data URL: bad base64: %v", err)
		}
		raw = b
	}
	if strings.TrimSpace(mediaType) != "" {
		raw = decodePAC(raw, mediaType)
	}
	return raw, nil
}

// pacPercentDecode decodes the %XX escapes of s and keeps every other
// byte, a lone % included.
func pacPercentDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && pacIsHex(s[i+1]) && pacIsHex(s[i+2]) {
			hi, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b = append(b, byte(hi))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func pacIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func pacStatusLine(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
}

// pacTooLarge is the error for a script over the size limit.
func pacTooLarge(limit int64) error {
	return errors.New("larger than " + pacFormatSize(limit))
}

func pacFormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// decodePAC decodes a fetched script by the charset of its Content-Type,
// as Chromium does: UTF-8 (invalid sequences become U+FFFD), or Latin-1
// for iso-8859-1 and its aliases. A UTF-8 byte order mark wins over a
// declared Latin-1, since a Latin-1 script cannot sensibly begin with
// "ï»¿". Without a charset, or with another one, the bytes are passed
// through for the Compiler to sniff (BOM, then UTF-8, then Latin-1).
func decodePAC(b []byte, contentType string) []byte {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return b
	}
	switch strings.ToLower(strings.TrimSpace(params["charset"])) {
	case "utf-8", "utf8", "unicode-1-1-utf-8":
		if utf8.Valid(b) {
			return b
		}
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1", "us-ascii", "ascii",
		"windows-1252", "cp1252", "cp819", "ibm819", "iso-ir-100", "csisolatin1":
		if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
			return b
		}
		return pacLatin1(b)
	}
	return b
}

// pacLatin1 converts Latin-1 bytes to UTF-8.
func pacLatin1(b []byte) []byte {
	n := 0
	for _, c := range b {
		if c >= utf8.RuneSelf {
			n++
		}
	}
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}
