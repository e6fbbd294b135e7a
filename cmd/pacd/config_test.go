package main

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests of pacd serve --config: its grammar and errors, the precedence
// of the command line, and SIGHUP rereading it and the credentials file.

// loadServe parses cmdline as pacd serve's flags and then applies the
// configuration file with content src, as serve does.
func loadServe(t *testing.T, src string, cmdline ...string) (*serveFlags, error) {
	t.Helper()
	path := writeFile(t, t.TempDir(), "pacd.conf", src)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &serveFlags{}
	o.define(fs)
	if err := fs.Parse(cmdline); err != nil {
		t.Fatal(err)
	}
	_, err := applyConfig(fs, path)
	if err != nil {
		return nil, err
	}
	return o, nil
}

func TestConfigPrecedence(t *testing.T) {
	src := `# a comment
listen 127.0.0.1:4000
	socks   127.0.0.1:4001
bypass a.example
bypass b.example
allow 10.0.0.0/8
trusted-pac
log-json false
pac-refresh 90m
mount "all://*.corp=http://p.corp:3128"
log-level warn
`
	o, err := loadServe(t, src, "--listen", "127.0.0.1:5000", "--bypass", "c.example", "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"listen (command line)", o.listen, "127.0.0.1:5000"},
		{"socks (file)", o.socks, "127.0.0.1:4001"},
		{"bypass (command line replaces the file's two)", o.rf.bypass, []string{"c.example"}},
		{"allow (file)", o.allow, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
		{"trusted-pac (file, alone)", o.trustedPAC, true},
		{"log-json (file)", o.logJSON, false},
		{"pac-refresh (file)", o.pacRefresh, 90 * time.Minute},
		{"mount (file, quoted)", len(o.rf.mounts) == 1 && o.rf.mounts[0].Pattern == "all://*.corp", true},
		{"log-level (command line)", o.logLevel, "debug"},
		{"max-conns (default)", o.maxConns, 16384},
	} {
		switch want := c.want.(type) {
		case []string:
			if !slices.Equal(c.got.([]string), want) {
				t.Errorf("%s: got %v, want %v", c.what, c.got, want)
			}
		case []netip.Prefix:
			if !slices.Equal(c.got.([]netip.Prefix), want) {
				t.Errorf("%s: got %v, want %v", c.what, c.got, want)
			}
		default:
			if c.got != c.want {
				t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
			}
		}
	}
	// Without the command line, the file's repeatable lines add up.
	o, err = loadServe(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.rf.bypass, []string{"a.example", "b.example"}) || o.listen != "127.0.0.1:4000" {
		t.Errorf("the file alone: bypass %v, listen %q", o.rf.bypass, o.listen)
	}
}

type configErrCase struct {
	name, src, err string
}

func (c configErrCase) String() string { return c.name }

// TestConfigErrors runs pacd serve with bad configuration files: each is
// a usage error naming the file and line, before pacd listens.
func TestConfigErrors(t *testing.T) {
	for _, c := range []configErrCase{
		{"unknown setting", "listen 127.0.0.1:0\n\nlisen 127.0.0.1:1\n", ":3: unknown setting \"lisen\""},
		{"bad duration", "# x\ndrain soon\n", ":2: drain: parse error"},
		{"bad network", "allow 10.0.0.0/33\n", ":1: allow: netip.ParsePrefix"},
		{"bad bool", "trusted-pac perhaps\n", ":1: trusted-pac: parse error"},
		{"set twice", "listen 127.0.0.1:0\nsocks 127.0.0.1:0\nlisten 127.0.0.1:1\n", ":3: listen is already set, at line 1"},
		{"no value", "pac\n", ":1: pac needs a value"},
		{"dashes", "--listen 127.0.0.1:0\n", ":1: write the flag's name without dashes"},
		{"nested", "config other.conf\n", ":1: a configuration file cannot name another"},
		{"bad quoting", "pac \"x.pac\n", ":1: pac: the quoted value does not unquote"},
		{"a secret in a shared file", "auth u:p\n", "group or others may access this file, which holds auth or credentials, (mode 0644)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "pacd.conf", c.src)
			os.Chmod(path, 0o644)
			code, _, stderr := runPacd(t, "", "serve", "--no-env", "--listen", "127.0.0.1:0", "--config", path)
			if code != 2 || !strings.Contains(stderr, c.err) || !strings.Contains(stderr, path) {
				t.Errorf("exit %d, stderr %q; want 2 and %q with the file's name", code, stderr, c.err)
			}
			if strings.Contains(stderr, "u:p") {
				t.Errorf("the error shows the auth value: %q", stderr)
			}
		})
	}
	code, _, stderr := runPacd(t, "", "serve", "--config", filepath.Join(t.TempDir(), "missing.conf"))
	if code != 2 || !strings.Contains(stderr, "missing.conf: no such file") {
		t.Errorf("a missing file: exit %d, stderr %q", code, stderr)
	}
}

// TestConfigSIGHUP runs pacd serve as a child with a configuration file
// and a credentials file, and changes both under it: SIGHUP rereads
// each, a configuration file that no longer parses is rejected and the
// last good configuration stays in use, and no password reaches the log.
func TestConfigSIGHUP(t *testing.T) {
	up := startRecordingProxy(t, "up")
	dir := t.TempDir()
	pacPath := writeFile(t, dir, "proxy.pac", pacReturning(`return "PROXY `+up.addr+`";`))
	pw := func(n int) string { return credSecret + "-" + string(rune('0'+n)) }
	creds1 := writeSecret(t, filepath.Join(dir, "creds1"), "machine "+up.addr+" login alice password "+pw(1)+"\n")
	creds2 := writeSecret(t, filepath.Join(dir, "creds2"), "machine "+up.addr+" login bob password "+pw(2)+"\n")
	conf := filepath.Join(dir, "pacd.conf")
	writeConf := func(lines ...string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConf("pac "+pacPath, "credentials-file "+creds1)
	p := startPacdProc(t, 0, "--config", conf)

	offered := func(step, want string) {
		t.Helper()
		code, body, err := getVia(p.proxyURL(), "http://x.test/")
		if err != nil || code != 200 || body != "via up" {
			t.Fatalf("%s: GET: %d %q %v", step, code, body, err)
		}
		if got := up.take(); len(got) != 1 || got[0] != want {
			t.Errorf("%s: the upstream was offered %q, want [%q]", step, got, want)
		}
	}
	reloads := func() int { return strings.Count(p.log.String(), "msg=reloaded") }
	// pacd registers for SIGHUP just after it logs its addresses: send
	// until it is done, as TestServeSIGHUP does (a reload more is
	// harmless).
	hup := func(step string, done func() bool) {
		t.Helper()
		if !pollUntil(5*time.Second, func() bool {
			syscall.Kill(p.pid(), syscall.SIGHUP)
			return pollUntil(300*time.Millisecond, done)
		}) {
			t.Fatalf("%s: no reload after SIGHUP:\n%s", step, p.log)
		}
	}

	offered("at start", basicAuth("alice", pw(1)))

	// The configuration file names another credentials file.
	writeConf("pac "+pacPath, "credentials-file "+creds2)
	n := reloads()
	hup("new config", func() bool { return reloads() > n })
	offered("after the config changed", basicAuth("bob", pw(2)))

	// The credentials file itself changes.
	writeSecret(t, creds2, "machine "+up.addr+" login carol password "+pw(3)+"\n")
	n = reloads()
	hup("new credentials", func() bool { return reloads() > n })
	offered("after the credentials file changed", basicAuth("carol", pw(3)))

	// A setting that needs a restart is reported, and the rest applies.
	writeConf("pac "+pacPath, "credentials-file "+creds2, "max-conns 100")
	n = reloads()
	hup("restart-only", func() bool { return reloads() > n })
	if !strings.Contains(p.log.String(), "takes effect when pacd restarts") || !strings.Contains(p.log.String(), "setting=max-conns") {
		t.Errorf("no warning that max-conns needs a restart")
	}

	// A broken configuration file keeps the last good configuration.
	writeConf("pac "+pacPath, "credentials-file "+creds1, "frobnicate yes")
	hup("broken config", func() bool { return strings.Contains(p.log.String(), "configuration file is rejected") })
	if !strings.Contains(p.log.String(), "pacd.conf:3: unknown setting") {
		t.Errorf("the rejection does not name the file and line")
	}
	offered("after a broken config", basicAuth("carol", pw(3)))

	// So does a credentials file that no longer parses.
	writeConf("pac "+pacPath, "credentials-file "+creds2)
	writeSecret(t, creds2, "default login x password "+pw(4)+"\n")
	hup("broken credentials", func() bool { return strings.Contains(p.log.String(), "a default entry is refused") })
	offered("after a broken credentials file", basicAuth("carol", pw(3)))

	if log := p.log.String(); strings.Contains(log, credSecret) {
		t.Errorf("a password is in the log:\n%s", log)
	}
}
