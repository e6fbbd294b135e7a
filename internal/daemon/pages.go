package daemon

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// page serves pacd's own pages, the requests in origin form.
func (s *Server) page(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/proxy.pac", "/wpad.dat":
		s.servePAC(w, req)
	case "/status":
		s.serveStatus(w, req)
	case "/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.m.write(w, s)
	default:
		if s.cfg.Playground != nil {
			sw := &statusWriter{ResponseWriter: w}
			s.cfg.Playground.ServeHTTP(sw, req)
			s.m.request("page", sw.status())
			return
		}
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			s.m.request("page", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexPage.Execute(w, nil)
	}
	s.m.request("page", http.StatusOK)
}

// statusWriter records the status of a response written by another
// handler, for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><title>pacd</title>
<h1>pacd</h1>
<p>A PAC-aware proxy. Point clients at this address as their HTTP proxy
(<code>export HTTPS_PROXY=http://this-address</code>), or browsers at
<a href="/proxy.pac">/proxy.pac</a>.</p>
<ul><li><a href="/status">status</a>, and what pacd would do for a URL</li>
<li><a href="/metrics">metrics</a> (Prometheus text format)</li>
<li><a href="/proxy.pac">/proxy.pac</a> and <a href="/wpad.dat">/wpad.dat</a>: the PAC in use</li></ul>
</html>
`))

// servePAC serves the active PAC script, so that the machine's browsers
// can share pacd's configuration; without one, a script that sends every
// URL through this server.
func (s *Server) servePAC(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
	w.Header().Set("Cache-Control", "no-cache")
	if s.cfg.PAC != nil {
		if src, ok := s.cfg.PAC.Source(); ok {
			w.Write(src)
			return
		}
	}
	fmt.Fprintf(w, "// pacd has no PAC script of its own: everything goes through pacd.\nfunction FindProxyForURL(url, host) {\n  return %q;\n}\n", "PROXY "+req.Host)
}

// statusReport is /status's content.
type statusReport struct {
	Version    string       `json:"version"`
	Started    time.Time    `json:"started"`
	Uptime     string       `json:"uptime"`
	Listeners  []string     `json:"listeners"`
	Config     time.Time    `json:"config_loaded"`
	PAC        *pacReport   `json:"pac,omitempty"`
	BadProxies []badProxy   `json:"bad_proxies"`
	Warnings   []string     `json:"warnings,omitempty"`
	Tunnels    int64        `json:"tunnels_open"`
	Query      *queryReport `json:"query,omitempty"`
}

type pacReport struct {
	Location  string    `json:"location"`
	Loaded    bool      `json:"loaded"`
	LoadedAt  time.Time `json:"loaded_at,omitzero"`
	Age       string    `json:"age,omitempty"`
	Version   string    `json:"version,omitempty"`
	Size      int64     `json:"size,omitempty"`
	LastCheck time.Time `json:"last_check,omitzero"`
	NextCheck time.Time `json:"next_check,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"failures,omitempty"`
}

type badProxy struct {
	Proxy string    `json:"proxy"`
	Until time.Time `json:"until"`
}

type queryReport struct {
	URL      string   `json:"url"`
	Decision string   `json:"decision,omitempty"`
	URLs     string   `json:"urls,omitempty"`
	Explain  string   `json:"explain,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Version is what /status reports as pacd's version; cmd/pacd sets it.
var Version = "(devel)"

func (s *Server) report(req *http.Request) statusReport {
	st := s.state.Load()
	rep := statusReport{
		Version:  Version,
		Started:  s.start,
		Uptime:   time.Since(s.start).Round(time.Second).String(),
		Config:   st.loadedAt,
		Warnings: st.r.Warnings(),
		Tunnels:  s.m.tunnels.Load(),
	}
	s.mu.Lock()
	for ln := range s.listeners {
		rep.Listeners = append(rep.Listeners, ln.Addr().String())
	}
	s.mu.Unlock()
	if s.cfg.PAC != nil {
		ps := s.cfg.PAC.Status()
		p := &pacReport{Location: ps.Location, Loaded: ps.Loaded, Version: ps.Version, Size: ps.Size,
			LastCheck: ps.LastCheck, NextCheck: ps.NextCheck, Failures: ps.Failures}
		if ps.Loaded {
			p.LoadedAt = ps.LoadedAt
			p.Age = time.Since(ps.LoadedAt).Round(time.Second).String()
		}
		if ps.LastError != nil {
			p.LastError = ps.LastError.Error()
		}
		rep.PAC = p
	}
	rep.BadProxies = []badProxy{}
	for _, b := range st.r.BadProxies() {
		rep.BadProxies = append(rep.BadProxies, badProxy{b.Proxy.String(), b.Until})
	}
	if q := req.URL.Query().Get("url"); q != "" {
		qr := &queryReport{URL: q}
		u, err := url.Parse(q)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "":
			qr.Error = "not an absolute URL"
		default:
			qr.URL = u.Redacted()
			d, err := st.r.Resolve(req.Context(), u)
			if err != nil {
				qr.Error = err.Error()
			} else {
				qr.Decision, qr.URLs, qr.Explain, qr.Warnings = d.String(), d.URLs(), d.Explain(), d.Warnings
			}
		}
		rep.Query = qr
	}
	return rep
}

func (s *Server) serveStatus(w http.ResponseWriter, req *http.Request) {
	rep := s.report(req)
	if req.URL.Query().Get("format") == "json" || strings.Contains(req.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statusPage.Execute(w, rep); err != nil {
		s.log.Debug("status page", "err", err)
	}
}

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"in": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return "in " + time.Until(t).Round(time.Second).String()
	},
	"itoa": func(n int64) string { return strconv.FormatInt(n, 10) },
}).Parse(`<!doctype html>
<html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>pacd status</title>
<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#111}
td,th{text-align:left;padding:.2em .6em;vertical-align:top}code{background:#f2f2f2}
.err{color:#a00}</style>
<h1>pacd status</h1>
<form method="get" action="/status"><label for="url">What would pacd do for</label>
<input id="url" name="url" size="50" placeholder="https://www.example.com/" value="{{with .Query}}{{.URL}}{{end}}">
<button type="submit">Ask</button></form>
{{with .Query}}<p>{{if .Error}}<span class="err">{{.Error}}</span>{{else}}
<code>{{.Decision}}</code> because {{.Explain}}{{range .Warnings}}<br><span class="err">warning: {{.}}</span>{{end}}{{end}}</p>{{end}}
<table>
<tr><th>version</th><td>{{.Version}}</td></tr>
<tr><th>up for</th><td>{{.Uptime}}, since {{.Started.Format "2006-01-02 15:04:05 MST"}}</td></tr>
<tr><th>listening on</th><td>{{range .Listeners}}<code>{{.}}</code> {{end}}</td></tr>
<tr><th>configuration</th><td>loaded {{ago .Config}}</td></tr>
<tr><th>tunnels open</th><td>{{itoa .Tunnels}}</td></tr>
{{with .PAC}}<tr><th>PAC</th><td><code>{{.Location}}</code>{{if .Loaded}}, version {{.Version}} ({{.Size}} bytes), loaded {{.Age}} ago{{else}} <span class="err">not loaded</span>{{end}}<br>
last checked {{ago .LastCheck}}, next check {{in .NextCheck}}{{if .LastError}}<br><span class="err">last check failed ({{.Failures}} in a row): {{.LastError}}</span>{{end}}</td></tr>{{end}}
<tr><th>proxies tried last</th><td>{{range .BadProxies}}<code>{{.Proxy}}</code> until {{.Until.Format "15:04:05"}}<br>{{else}}none{{end}}</td></tr>
{{with .Warnings}}<tr><th>configuration warnings</th><td>{{range .}}<span class="err">{{.}}</span><br>{{end}}</td></tr>{{end}}
</table>
<p><a href="/metrics">metrics</a> · <a href="/proxy.pac">proxy.pac</a> · <a href="/status?format=json">JSON</a></p>
</html>
`))
