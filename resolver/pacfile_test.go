package resolver

// These tests are internal to package resolver so that they can replace
// PACFile's clock and timers (the unexported now and newTimer hooks) and
// check the retry schedule without sleeping.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paceng "github.com/pacd/pacd/pac"
)

// pacTestScript returns a PAC script that answers every URL with answer.
func pacTestScript(answer string) string {
	return fmt.Sprintf("function FindProxyForURL(url, host) { return %q; }\n", answer)
}

// pacTestCompiler is the Compiler cmd/pacd uses: pac.Compile. If count is
// not nil, it counts the calls.
func pacTestCompiler(count *atomic.Int32) Compiler {
	return func(src []byte, name string) (Evaluator, error) {
		if count != nil {
			count.Add(1)
		}
		return paceng.Compile(string(src), &paceng.Options{Name: name})
	}
}

// pacOrigin is an HTTP server for one PAC file whose content, validators
// and status the tests change. It counts requests, conditional requests
// and 304 answers.
type pacOrigin struct {
	mu          sync.Mutex
	body        string
	etag        string    // sent, and compared with If-None-Match, if not empty
	lastMod     time.Time // sent, and compared with If-Modified-Since, if not zero
	status      int       // if not 0 or 200, the answer (with no validators)
	contentType string

	requests, conditional, notModified int
}

func (o *pacOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests++
	inm, ims := r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
	if inm != "" || ims != "" {
		o.conditional++
	}
	if o.status != 0 && o.status != http.StatusOK {
		http.Error(w, http.StatusText(o.status), o.status)
		return
	}
	if o.etag != "" {
		w.Header().Set("ETag", o.etag)
	}
	if !o.lastMod.IsZero() {
		w.Header().Set("Last-Modified", o.lastMod.UTC().Format(http.TimeFormat))
	}
	notModified := o.etag != "" && inm == o.etag
	if t, err := http.ParseTime(ims); err == nil && o.etag == "" && !o.lastMod.IsZero() && !o.lastMod.Truncate(time.Second).After(t) {
		notModified = true
	}
	if notModified {
		o.notModified++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if o.contentType != "" {
		w.Header().Set("Content-Type", o.contentType)
	}
	fmt.Fprint(w, o.body)
}

func (o *pacOrigin) set(fn func(o *pacOrigin)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fn(o)
}

func (o *pacOrigin) counts() (requests, conditional, notModified int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests, o.conditional, o.notModified
}

// pacServe starts a loopback server for h and returns the URL of /proxy.pac
// on it.
func pacServe(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/proxy.pac"
}

// pacWriteFile writes src to dir/name with modification time mtime.
func pacWriteFile(t *testing.T, path, src string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// pacStart starts f and registers its Close; it fails the test if Start
// fails and wantErr is false.
func pacStart(t *testing.T, f *PACFile, wantErr bool) error {
	t.Helper()
	err := f.Start(context.Background())
	t.Cleanup(func() { f.Close() })
	if (err != nil) != wantErr {
		t.Fatalf("Start(%s) error = %v, want error %v", f.Location, err, wantErr)
	}
	return err
}

// pacEval evaluates f for a fixed URL.
func pacEval(t *testing.T, f *PACFile) string {
	t.Helper()
	got, err := f.Eval(context.Background(), "http://www.example.com/", "www.example.com")
	if err != nil {
		t.Fatalf("Eval: %v", err)
	}
	return got
}

func TestPACFileInitialLoad(t *testing.T) {
	const answer = "PROXY 127.0.0.1:3128; DIRECT"
	dir := t.TempDir()
	path := filepath.Join(dir, "proxy.pac")
	mtime := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	pacWriteFile(t, path, pacTestScript(answer), mtime)
	httpURL := pacServe(t, &pacOrigin{body: pacTestScript(answer), etag: `"v1"`})
	plainURL := pacServe(t, &pacOrigin{body: pacTestScript(answer)})

	tests := []struct {
		name, location, wantVersion string
	}{
		{"http", httpURL, `"v1"`},
		{"http without validators", plainURL, ""},
		{"file path", path, "2025-03-04T05:06:07Z"},
		{"file URL", "file://" + filepath.ToSlash(path), "2025-03-04T05:06:07Z"},
		{"file URL with localhost", "file://localhost" + filepath.ToSlash(path), "2025-03-04T05:06:07Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &PACFile{Location: tt.location, Compile: pacTestCompiler(nil)}
			pacStart(t, f, false)
			if got := pacEval(t, f); got != answer {
				t.Errorf("Eval = %q, want %q", got, answer)
			}
			st := f.Status()
			if !st.Loaded || st.LoadedAt.IsZero() || st.LastError != nil || st.Failures != 0 {
				t.Errorf("Status() = %+v, want loaded without error", st)
			}
			if st.Version != tt.wantVersion {
				t.Errorf("Status().Version = %q, want %q", st.Version, tt.wantVersion)
			}
			if st.Location != tt.location {
				t.Errorf("Status().Location = %q, want %q", st.Location, tt.location)
			}
			if want := int64(len(pacTestScript(answer))); st.Size != want {
				t.Errorf("Status().Size = %d, want %d", st.Size, want)
			}
			if d := st.NextCheck.Sub(st.LastCheck); d != DefaultPACRefresh {
				t.Errorf("NextCheck - LastCheck = %v, want %v", d, DefaultPACRefresh)
			}
		})
	}
}

func TestPACFileRevalidation(t *testing.T) {
	lastMod := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name        string
		origin      *pacOrigin
		wantVersion string
	}{
		{"ETag", &pacOrigin{etag: `"abc"`}, `"abc"`},
		{"Last-Modified", &pacOrigin{lastMod: lastMod}, lastMod.Format(http.TimeFormat)},
		{"both", &pacOrigin{etag: `W/"x"`, lastMod: lastMod}, `W/"x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.origin.body = pacTestScript("DIRECT")
			var compiles atomic.Int32
			f := &PACFile{Location: pacServe(t, tt.origin), Compile: pacTestCompiler(&compiles)}
			pacStart(t, f, false)
			for i := range 3 {
				if err := f.Reload(context.Background()); err != nil {
					t.Fatalf("Reload %d: %v", i, err)
				}
			}
			req, cond, nm := tt.origin.counts()
			if req != 4 || cond != 3 || nm != 3 {
				t.Errorf("requests, conditional, 304s = %d, %d, %d; want 4, 3, 3", req, cond, nm)
			}
			if n := compiles.Load(); n != 1 {
				t.Errorf("compiled %d times, want 1", n)
			}
			st := f.Status()
			if st.Version != tt.wantVersion || st.LastError != nil || st.Failures != 0 || !st.LastCheck.After(st.LoadedAt) {
				t.Errorf("Status() = %+v, want version %q, no error, checked after loading", st, tt.wantVersion)
			}
		})
	}
}

func TestPACFileNewVersion(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		o := &pacOrigin{body: pacTestScript("PROXY 127.0.0.1:1"), etag: `"1"`}
		f := &PACFile{Location: pacServe(t, o), Compile: pacTestCompiler(nil)}
		pacStart(t, f, false)
		o.set(func(o *pacOrigin) { o.body, o.etag = pacTestScript("PROXY 127.0.0.1:2"), `"2"` })
		if err := f.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := pacEval(t, f), "PROXY 127.0.0.1:2"; got != want {
			t.Errorf("Eval after Reload = %q, want %q", got, want)
		}
		if got := f.Status().Version; got != `"2"` {
			t.Errorf("Version = %q, want %q", got, `"2"`)
		}
	})
	t.Run("http same bytes", func(t *testing.T) {
		// A new ETag on the same script: no recompile, new version.
		o := &pacOrigin{body: pacTestScript("DIRECT"), etag: `"1"`}
		var compiles atomic.Int32
		f := &PACFile{Location: pacServe(t, o), Compile: pacTestCompiler(&compiles)}
		pacStart(t, f, false)
		loadedAt := f.Status().LoadedAt
		o.set(func(o *pacOrigin) { o.etag = `"2"` })
		if err := f.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := f.Status()
		if n := compiles.Load(); n != 1 || st.Version != `"2"` || !st.LoadedAt.Equal(loadedAt) {
			t.Errorf("compiles = %d, Status() = %+v; want 1 compile, version \"2\", LoadedAt unchanged", n, st)
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "proxy.pac")
		t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		pacWriteFile(t, path, pacTestScript("PROXY 127.0.0.1:1"), t0)
		var compiles atomic.Int32
		f := &PACFile{Location: path, Compile: pacTestCompiler(&compiles)}
		pacStart(t, f, false)

		// Same modification time and size: not even read.
		if err := os.WriteFile(path, []byte(pacTestScript("PROXY 127.0.0.1:9")), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, t0, t0)
		if err := f.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := pacEval(t, f), "PROXY 127.0.0.1:1"; got != want || compiles.Load() != 1 {
			t.Errorf("Eval with mtime and size unchanged = %q after %d compiles, want %q after 1", got, compiles.Load(), want)
		}

		pacWriteFile(t, path, pacTestScript("PROXY 127.0.0.1:2"), t0.Add(time.Second))
		if err := f.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := pacEval(t, f), "PROXY 127.0.0.1:2"; got != want {
			t.Errorf("Eval after a new mtime = %q, want %q", got, want)
		}
		if got, want := f.Status().Version, "2025-01-01T00:00:01Z"; got != want {
			t.Errorf("Version = %q, want %q", got, want)
		}
	})
}

func TestPACFileBrokenVersionKeepsOld(t *testing.T) {
	const good = "PROXY 127.0.0.1:3128"
	o := &pacOrigin{body: pacTestScript(good), etag: `"good"`}
	var logs bytes.Buffer
	f := &PACFile{
		Location: pacServe(t, o),
		Compile:  pacTestCompiler(nil),
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	}
	pacStart(t, f, false)

	o.set(func(o *pacOrigin) { o.body, o.etag = "function FindProxyForURL(url, host) { return ", `"broken"` })
	err := f.Reload(context.Background())
	var se *paceng.SyntaxError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "resolver: PAC "+f.Location+": ") {
		t.Fatalf("Reload of a broken script: %v, want a *pac.SyntaxError prefixed with the location", err)
	}
	if got := pacEval(t, f); got != good {
		t.Errorf("Eval after a broken version = %q, want the old %q", got, good)
	}
	st := f.Status()
	if !st.Loaded || st.LastError != err || st.Failures != 1 || st.Version != `"good"` {
		t.Errorf("Status() = %+v, want loaded, version \"good\", LastError %v, 1 failure", st, err)
	}
	// The broken version's ETag must not be used to revalidate: the next
	// check fetches it again, and fails again.
	if err := f.Reload(context.Background()); err == nil {
		t.Error("second Reload of the broken script succeeded")
	}
	if n := f.Status().Failures; n != 2 {
		t.Errorf("Failures = %d, want 2", n)
	}

	o.set(func(o *pacOrigin) { o.body, o.etag = pacTestScript("DIRECT"), `"fixed"` })
	if err := f.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := f.Status(); st.LastError != nil || st.Failures != 0 || pacEval(t, f) != "DIRECT" {
		t.Errorf("after a fixed version: Status() = %+v, Eval = %q", st, pacEval(t, f))
	}

	f.Close()
	text := logs.String()
	if n := strings.Count(text, `level=INFO msg="PAC loaded"`); n != 2 {
		t.Errorf("%d Info lines for loads, want 2:\n%s", n, text)
	}
	if n := strings.Count(text, `level=WARN msg="PAC check failed"`); n != 2 {
		t.Errorf("%d Warn lines for failures, want 2:\n%s", n, text)
	}
	if !strings.Contains(text, `version="\"fixed\""`) {
		t.Errorf("log does not name the version:\n%s", text)
	}
}

func TestPACFileErrors(t *testing.T) {
	big := pacTestScript("DIRECT") + "//" + strings.Repeat("x", 1<<20)
	notFound := pacServe(t, &pacOrigin{status: http.StatusNotFound})
	serverError := pacServe(t, &pacOrigin{status: http.StatusInternalServerError})
	oversize := pacServe(t, &pacOrigin{body: big})
	chunked := pacServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 1 << 10 {
			fmt.Fprint(w, strings.Repeat("/", 1<<10))
			w.(http.Flusher).Flush() // no Content-Length
		}
		fmt.Fprint(w, "\n"+pacTestScript("DIRECT"))
	}))
	noContent := pacServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	release := make(chan struct{})
	slow := pacServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) }) // before the server's Close
	dir := t.TempDir()
	bigFile := filepath.Join(dir, "big.pac")
	pacWriteFile(t, bigFile, pacTestScript("DIRECT"), time.Now())
	noEntry := filepath.Join(dir, "noentry.pac")
	pacWriteFile(t, noEntry, "var x = 1;", time.Now())
	missing := filepath.Join(dir, "missing.pac")

	fastClient := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{}}
	tests := []struct {
		name     string
		location string
		maxSize  int64
		client   *http.Client
		wantErr  string // the whole message, or a prefix if it ends in "…"
		wantIs   error
	}{
		{name: "404", location: notFound, wantErr: "resolver: PAC " + notFound + ": status 404 Not Found"},
		{name: "500", location: serverError, wantErr: "resolver: PAC " + serverError + ": status 500 Internal Server Error"},
		{name: "204", location: noContent, wantErr: "resolver: PAC " + noContent + ": status 204 No Content"},
		{name: "over 1 MiB", location: oversize, wantErr: "resolver: PAC " + oversize + ": larger than 1 MiB"},
		{name: "over 1 MiB without Content-Length", location: chunked, wantErr: "resolver: PAC " + chunked + ": larger than 1 MiB"},
		{name: "over MaxSize", location: oversize, maxSize: 4 << 10, wantErr: "resolver: PAC " + oversize + ": larger than 4 KiB"},
		{name: "slow server", location: slow, client: fastClient, wantErr: "resolver: PAC " + slow + ": …", wantIs: context.DeadlineExceeded},
		{name: "connection refused", location: "http://127.0.0.1:1/proxy.pac", wantErr: "resolver: PAC http://127.0.0.1:1/proxy.pac: …"},
		{name: "missing file", location: missing, wantErr: "resolver: PAC " + missing + ": …", wantIs: fs.ErrNotExist},
		{name: "directory", location: dir, wantErr: "resolver: PAC " + dir + ": is a directory"},
		{name: "file over MaxSize", location: bigFile, maxSize: 16, wantErr: "resolver: PAC " + bigFile + ": larger than 16 bytes"},
		{name: "no FindProxyForURL", location: noEntry, wantErr: "resolver: PAC " + noEntry + ": …", wantIs: paceng.ErrNoEntryPoint},
		{name: "unsupported scheme", location: "ftp://127.0.0.1/proxy.pac", wantErr: `resolver: PAC ftp://127.0.0.1/proxy.pac: unsupported scheme "ftp": want a file path, file://, http://, https:// or data:`},
		{name: "remote file URL", location: "file://server/share/proxy.pac", wantErr: `resolver: PAC file://server/share/proxy.pac: file URL names host "server"; only local files are read`},
		{name: "relative file URL", location: "file:proxy.pac", wantErr: "resolver: PAC file:proxy.pac: file URL needs an absolute path (file:///path)"},
		{name: "password redacted", location: "http://user:secret@127.0.0.1:1/proxy.pac", wantErr: "resolver: PAC http://user:xxxxx@127.0.0.1:1/proxy.pac: …"},
		{name: "no Location", location: "", wantErr: "resolver: PACFile has no Location"},
		{name: "data URL without a comma", location: "data:text/plain;base64", wantErr: "resolver: PAC data URL: data URL has no comma before its content"},
		{name: "data URL, bad base64", location: "data:;base64,@@@@", wantErr: "resolver: PAC data URL: data URL: bad base64: …"},
		{name: "data URL over MaxSize", location: "data:," + strings.Repeat("x", 17), maxSize: 16, wantErr: "resolver: PAC data URL: larger than 16 bytes"},
		{name: "data URL that does not compile", location: "data:,function%20FindProxyForURL(", wantErr: "resolver: PAC data URL: …"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &PACFile{Location: tt.location, Compile: pacTestCompiler(nil), MaxSize: tt.maxSize, Client: tt.client}
			err := pacStart(t, f, true)
			if prefix, ok := strings.CutSuffix(tt.wantErr, "…"); ok {
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Errorf("Start: %v, want prefix %q", err, prefix)
				}
			} else if err.Error() != tt.wantErr {
				t.Errorf("Start: %v, want %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Start: %v, want errors.Is %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Start: %v shows the password", err)
			}
			_, evalErr := f.Eval(context.Background(), "http://www.example.com/", "www.example.com")
			var ue *PACUnavailableError
			if !errors.As(evalErr, &ue) || ue.Err != err {
				t.Errorf("Eval after a failed Start: %v, want a *PACUnavailableError wrapping %v", evalErr, err)
			}
		})
	}
	t.Run("slow server is a timeout", func(t *testing.T) {
		f := &PACFile{Location: slow, Compile: pacTestCompiler(nil), Client: fastClient}
		err := pacStart(t, f, true)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Start: %v, want a net.Error timeout", err)
		}
	})
	t.Run("no Compile", func(t *testing.T) {
		f := &PACFile{Location: notFound}
		err := f.Start(context.Background())
		if want := "resolver: PAC " + notFound + ": PACFile has no Compile function"; err == nil || err.Error() != want {
			t.Errorf("Start: %v, want %q", err, want)
		}
		f.Close()
	})
}

func TestPACFileUnavailable(t *testing.T) {
	o := &pacOrigin{status: http.StatusNotFound}
	loc := pacServe(t, o)
	f := &PACFile{Location: loc, Compile: pacTestCompiler(nil)}
	t.Cleanup(func() { f.Close() })

	_, err := f.Eval(context.Background(), "http://www.example.com/", "www.example.com")
	var ue *PACUnavailableError
	if !errors.As(err, &ue) || ue.Err != nil || ue.Location != loc {
		t.Fatalf("Eval before Start: %#v, want a *PACUnavailableError with no cause", err)
	}
	if want := "resolver: PAC " + loc + " not loaded"; err.Error() != want {
		t.Errorf("Eval before Start: %q, want %q", err, want)
	}

	startErr := f.Start(context.Background())
	_, err = f.Eval(context.Background(), "http://www.example.com/", "www.example.com")
	if !errors.As(err, &ue) || !errors.Is(err, startErr) {
		t.Fatalf("Eval after a failed Start: %v, want a *PACUnavailableError wrapping %v", err, startErr)
	}
	if want := "resolver: PAC " + loc + " not loaded: status 404 Not Found"; err.Error() != want {
		t.Errorf("Eval after a failed Start: %q, want %q", err, want)
	}
	if st := f.Status(); st.Loaded || st.Failures != 1 || st.LastError != startErr {
		t.Errorf("Status() = %+v, want not loaded, 1 failure", st)
	}

	// The server comes back: Reload (as on SIGHUP) loads the script.
	o.set(func(o *pacOrigin) { o.status, o.body = 0, pacTestScript("DIRECT") })
	if err := f.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := pacEval(t, f); got != "DIRECT" {
		t.Errorf("Eval after Reload = %q, want DIRECT", got)
	}
}

func TestPACRetryDelay(t *testing.T) {
	tests := []struct {
		failures int
		refresh  time.Duration
		want     time.Duration
	}{
		{0, 12 * time.Hour, 12 * time.Hour},
		{1, 12 * time.Hour, 8 * time.Second},
		{2, 12 * time.Hour, 32 * time.Second},
		{3, 12 * time.Hour, 2 * time.Minute},
		{4, 12 * time.Hour, 4 * time.Hour},
		{5, 12 * time.Hour, 4 * time.Hour},
		{100, 12 * time.Hour, 4 * time.Hour},
		{4, time.Hour, time.Hour},
		{3, time.Minute, time.Minute},
		{1, 5 * time.Second, 5 * time.Second},
		{0, 5 * time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := pacRetryDelay(tt.failures, tt.refresh); got != tt.want {
			t.Errorf("pacRetryDelay(%d, %v) = %v, want %v", tt.failures, tt.refresh, got, tt.want)
		}
	}
}

// pacFakeTimers replaces PACFile's timers: each timer the refresher asks for
// is sent on timers, and fires when the test sends on its channel.
type pacFakeTimers struct {
	timers chan pacFakeTimer
}

type pacFakeTimer struct {
	d time.Duration
	c chan time.Time
}

func newPACFakeTimers() *pacFakeTimers { return &pacFakeTimers{timers: make(chan pacFakeTimer, 100)} }

func (ft *pacFakeTimers) newTimer(d time.Duration) (<-chan time.Time, func() bool) {
	c := make(chan time.Time, 1)
	ft.timers <- pacFakeTimer{d, c}
	return c, func() bool { return true }
}

// next returns the next timer the refresher asks for.
func (ft *pacFakeTimers) next(t *testing.T) pacFakeTimer {
	t.Helper()
	select {
	case tm := <-ft.timers:
		return tm
	case <-time.After(5 * time.Second):
		t.Fatal("the refresher asked for no timer")
		panic("unreachable")
	}
}

func TestPACFileBackoffSchedule(t *testing.T) {
	const (
		s = time.Second
		m = time.Minute
		h = time.Hour
	)
	tests := []struct {
		refresh time.Duration
		want    []time.Duration // the waits after 1, 2, … failures
	}{
		{0, []time.Duration{8 * s, 32 * s, 2 * m, 4 * h, 4 * h, 4 * h}},
		{h, []time.Duration{8 * s, 32 * s, 2 * m, h, h}},
		{20 * s, []time.Duration{8 * s, 20 * s, 20 * s}},
	}
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(fmt.Sprint("Refresh=", tt.refresh), func(t *testing.T) {
			refresh := tt.refresh
			if refresh == 0 {
				refresh = DefaultPACRefresh
			}
			o := &pacOrigin{status: http.StatusServiceUnavailable}
			ft := newPACFakeTimers()
			f := &PACFile{
				Location: pacServe(t, o),
				Compile:  pacTestCompiler(nil),
				Refresh:  tt.refresh,
				now:      func() time.Time { return base },
				newTimer: ft.newTimer,
			}
			pacStart(t, f, true)
			for i, want := range tt.want {
				tm := ft.next(t)
				st := f.Status()
				if tm.d != want || st.Failures != i+1 || !st.NextCheck.Equal(base.Add(want)) {
					t.Errorf("after %d failures: wait %v, Failures %d, NextCheck %v; want %v, %d, %v",
						i+1, tm.d, st.Failures, st.NextCheck, want, i+1, base.Add(want))
				}
				if i == len(tt.want)-1 {
					o.set(func(o *pacOrigin) { o.status, o.body = 0, pacTestScript("DIRECT") })
				}
				tm.c <- base
			}
			// The check after the last failure succeeds: back to Refresh.
			if tm, st := ft.next(t), f.Status(); tm.d != refresh || st.Failures != 0 || !st.Loaded {
				t.Errorf("after a success: wait %v, Status() = %+v; want %v, loaded, no failures", tm.d, st, refresh)
			}
			if req, _, _ := o.counts(); req != len(tt.want)+1 {
				t.Errorf("%d requests, want %d", req, len(tt.want)+1)
			}
		})
	}

	t.Run("Reload reschedules", func(t *testing.T) {
		o := &pacOrigin{status: http.StatusServiceUnavailable}
		ft := newPACFakeTimers()
		f := &PACFile{
			Location: pacServe(t, o),
			Compile:  pacTestCompiler(nil),
			Refresh:  time.Hour,
			now:      func() time.Time { return base },
			newTimer: ft.newTimer,
		}
		pacStart(t, f, true)
		if tm := ft.next(t); tm.d != 8*s {
			t.Fatalf("first wait %v, want 8s", tm.d)
		}
		o.set(func(o *pacOrigin) { o.status, o.body = 0, pacTestScript("DIRECT") })
		if err := f.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
		if tm := ft.next(t); tm.d != time.Hour {
			t.Errorf("wait after a successful Reload = %v, want 1h", tm.d)
		}
	})
}

func TestPACFileRefreshFile(t *testing.T) {
	// The refresher itself (real timers, a short Refresh) picks up a file
	// whose modification time changed.
	path := filepath.Join(t.TempDir(), "proxy.pac")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pacWriteFile(t, path, pacTestScript("PROXY 127.0.0.1:1"), t0)
	f := &PACFile{Location: path, Compile: pacTestCompiler(nil), Refresh: 10 * time.Millisecond}
	pacStart(t, f, false)
	pacWriteFile(t, path, pacTestScript("PROXY 127.0.0.1:2"), t0.Add(time.Second))
	deadline := time.Now().Add(5 * time.Second)
	for pacEval(t, f) != "PROXY 127.0.0.1:2" {
		if time.Now().After(deadline) {
			t.Fatal("the refresher did not pick up the new file")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPACFileClose(t *testing.T) {
	loc := pacServe(t, &pacOrigin{body: pacTestScript("DIRECT")})
	waitDone := func(t *testing.T, f *PACFile) {
		t.Helper()
		f.lifeMu.Lock()
		done := f.life.done
		f.lifeMu.Unlock()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the refresher goroutine did not return")
		}
	}

	t.Run("Close", func(t *testing.T) {
		f := &PACFile{Location: loc, Compile: pacTestCompiler(nil)}
		pacStart(t, f, false)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		waitDone(t, f)
		if err := f.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if got := pacEval(t, f); got != "DIRECT" {
			t.Errorf("Eval after Close = %q, want the script still in use", got)
		}
		if err := f.Start(context.Background()); err == nil {
			t.Error("Start after Close succeeded")
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		f := &PACFile{Location: loc, Compile: pacTestCompiler(nil)}
		if err := f.Start(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		waitDone(t, f)
		f.Close()
	})
	t.Run("Start twice", func(t *testing.T) {
		f := &PACFile{Location: loc, Compile: pacTestCompiler(nil)}
		pacStart(t, f, false)
		if err := f.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "Start called twice") {
			t.Errorf("second Start: %v, want an error", err)
		}
	})
	t.Run("Close before Start", func(t *testing.T) {
		f := &PACFile{Location: loc, Compile: pacTestCompiler(nil)}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Close cancels a check in progress", func(t *testing.T) {
		release := make(chan struct{})
		var calls atomic.Int32
		slowLoc := pacServe(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				fmt.Fprint(w, pacTestScript("DIRECT"))
				return
			}
			select { // the refresher's check hangs
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() { close(release) })
		f := &PACFile{Location: slowLoc, Compile: pacTestCompiler(nil), Refresh: time.Millisecond}
		pacStart(t, f, false)
		for calls.Load() < 2 {
			time.Sleep(time.Millisecond)
		}
		closed := make(chan struct{})
		go func() { f.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not return while a check hung")
		}
	})
}

func TestPACFileConcurrentEval(t *testing.T) {
	answers := [2]string{"PROXY 127.0.0.1:1", "PROXY 127.0.0.1:2"}
	o := &pacOrigin{body: pacTestScript(answers[0]), etag: `"0"`}
	f := &PACFile{Location: pacServe(t, o), Compile: pacTestCompiler(nil), Refresh: time.Millisecond}
	pacStart(t, f, false)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				got, err := f.Eval(context.Background(), "http://www.example.com/", "www.example.com")
				if err != nil || (got != answers[0] && got != answers[1]) {
					errs <- fmt.Errorf("Eval = %q, %v; want one of %q", got, err, answers)
					return
				}
				_ = f.Status()
			}
		})
	}
	for i := range 20 {
		o.set(func(o *pacOrigin) { o.body, o.etag = pacTestScript(answers[(i+1)%2]), fmt.Sprintf(`"%d"`, i+1) })
		if err := f.Reload(context.Background()); err != nil {
			t.Error(err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := pacEval(t, f); got != answers[0] {
		t.Errorf("final Eval = %q, want %q", got, answers[0])
	}
}

func TestPACFileDefaultClient(t *testing.T) {
	f := &PACFile{Location: "http://127.0.0.1:1/proxy.pac", Compile: pacTestCompiler(nil)}
	if err := f.setup(); err != nil {
		t.Fatal(err)
	}
	c := f.cfg.client
	tr, ok := c.Transport.(*http.Transport)
	if !ok || tr.Proxy != nil || c.Timeout != 30*time.Second {
		t.Errorf("default client: Transport %T (Proxy set: %v), Timeout %v; want an *http.Transport without Proxy, 30s",
			c.Transport, ok && tr.Proxy != nil, c.Timeout)
	}
	if f.cfg.refresh != 12*time.Hour || f.cfg.maxSize != 1<<20 {
		t.Errorf("defaults: refresh %v, max size %d; want 12h, 1 MiB", f.cfg.refresh, f.cfg.maxSize)
	}
}

func TestDecodePAC(t *testing.T) {
	tests := []struct {
		name, contentType, in, want string
	}{
		{"no Content-Type", "", "caf\xe9", "caf\xe9"},
		{"no charset", "application/x-ns-proxy-autoconfig", "caf\xe9", "caf\xe9"},
		{"latin-1", "application/x-ns-proxy-autoconfig; charset=ISO-8859-1", "caf\xe9", "café"},
		{"latin1 alias", "text/plain; charset=latin1", "caf\xe9", "café"},
		{"us-ascii", "text/plain; charset=us-ascii", "caf\xe9", "café"},
		{"windows-1252", "text/plain; charset=\"windows-1252\"", "caf\xe9", "café"},
		{"latin-1 ascii only", "text/plain; charset=iso-8859-1", "cafe", "cafe"},
		{"latin-1 with a UTF-8 BOM", "text/plain; charset=iso-8859-1", "\xef\xbb\xbfcafé", "\xef\xbb\xbfcafé"},
		{"utf-8", "text/plain; charset=utf-8", "café", "café"},
		{"utf-8 invalid", "text/plain; charset=UTF-8", "caf\xe9!", "caf\uFFFD!"},
		{"other charset", "text/plain; charset=shift_jis", "caf\xe9", "caf\xe9"},
		{"malformed Content-Type", "text/plain; charset", "caf\xe9", "caf\xe9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(decodePAC([]byte(tt.in), tt.contentType)); got != tt.want {
				t.Errorf("decodePAC(%q, %q) = %q, want %q", tt.in, tt.contentType, got, tt.want)
			}
		})
	}
}

func TestPACFileCharset(t *testing.T) {
	// A Latin-1 script served as such, and a UTF-8 one served without a
	// charset (the Compiler sniffs it), both match a host with an "é".
	const latin1Src = "function FindProxyForURL(url, host) { return host == \"caf\xe9.example\" ? \"PROXY 127.0.0.1:1\" : \"DIRECT\"; }"
	const utf8Src = "function FindProxyForURL(url, host) { return host == \"café.example\" ? \"PROXY 127.0.0.1:1\" : \"DIRECT\"; }"
	tests := []struct {
		name, contentType, body string
	}{
		{"latin-1 declared", "application/x-ns-proxy-autoconfig; charset=iso-8859-1", latin1Src},
		{"latin-1 sniffed", "application/x-ns-proxy-autoconfig", latin1Src},
		{"utf-8 sniffed", "application/x-ns-proxy-autoconfig", utf8Src},
		{"utf-8 with BOM", "", "\ufeff" + utf8Src},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &PACFile{Location: pacServe(t, &pacOrigin{body: tt.body, contentType: tt.contentType}), Compile: pacTestCompiler(nil)}
			pacStart(t, f, false)
			got, err := f.Eval(context.Background(), "http://café.example/", "café.example")
			if err != nil || got != "PROXY 127.0.0.1:1" {
				t.Errorf("Eval(café.example) = %q, %v; want PROXY 127.0.0.1:1", got, err)
			}
		})
	}
}

// TestPACFileDataURL loads scripts given inline as data: URLs, in each
// encoding RFC 2397 allows, and checks that the script's text never
// becomes its name.
func TestPACFileDataURL(t *testing.T) {
	const script = `function FindProxyForURL(url, host) { return host == "a" ? "PROXY p:1" : "DIRECT"; }`
	tests := []struct {
		name, location string
	}{
		{"raw", "data:," + script},
		{"percent-encoded", "data:application/x-ns-proxy-autoconfig," + url.PathEscape(script)},
		{"base64", "data:application/x-ns-proxy-autoconfig;base64," + base64.StdEncoding.EncodeToString([]byte(script))},
		{"base64 unpadded, with white space, upper case", "DATA:;BASE64," + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(script)), "=")[:20] + "\n " + strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(script)), "=")[20:]},
		{"a lone percent sign kept", "data:," + strings.Replace(script, `"DIRECT"`, `"DIRECT" + ("%zz" ? "" : "")`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &PACFile{Location: tt.location, Compile: pacTestCompiler(nil)}
			pacStart(t, f, false)
			for host, want := range map[string]string{"a": "PROXY p:1", "b": "DIRECT"} {
				got, err := f.Eval(context.Background(), "http://"+host+"/", host)
				if err != nil || got != want {
					t.Errorf("Eval(%s) = %q, %v; want %q", host, got, err, want)
				}
			}
			if st := f.Status(); st.Location != "data URL" || strings.Contains(st.Location, "FindProxyForURL") {
				t.Errorf("Status().Location = %q, want \"data URL\"", st.Location)
			}
			if err := f.Reload(context.Background()); err != nil {
				t.Errorf("Reload: %v", err)
			}
		})
	}
	// A charset decodes the text as for a fetched script.
	f := &PACFile{Location: "data:text/plain;charset=iso-8859-1,function%20FindProxyForURL(u,%20h)%20{%20return%20%22PROXY%20caf%E9:1%22;%20}", Compile: pacTestCompiler(nil)}
	pacStart(t, f, false)
	src, _ := f.Source()
	if !strings.Contains(string(src), "café") {
		t.Errorf("Source() = %q, want the Latin-1 é decoded", src)
	}
}

func TestPACUnavailableErrorMessage(t *testing.T) {
	other := errors.New("something else")
	tests := []struct {
		name string
		err  *PACUnavailableError
		want string
	}{
		{"no cause", &PACUnavailableError{Location: "/etc/proxy.pac"}, "resolver: PAC /etc/proxy.pac not loaded"},
		{"own cause", &PACUnavailableError{Location: "/etc/proxy.pac", Err: &pacError{"/etc/proxy.pac", fs.ErrNotExist}}, "resolver: PAC /etc/proxy.pac not loaded: file does not exist"},
		{"other cause", &PACUnavailableError{Location: "/etc/proxy.pac", Err: other}, "resolver: PAC /etc/proxy.pac not loaded: something else"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s: Error() = %q, want %q", tt.name, got, tt.want)
		}
	}
	if !errors.Is(tests[1].err, fs.ErrNotExist) {
		t.Error("PACUnavailableError does not unwrap to its cause")
	}
}
