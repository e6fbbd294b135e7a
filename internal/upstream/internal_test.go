package upstream

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeTB records what require and unavailable do instead of ending the
// test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Skip(args ...any)  { f.skipped, f.msg = true, fmt.Sprint(args...) }
func (f *fakeTB) Fatal(args ...any) { f.failed, f.msg = true, fmt.Sprint(args...) }

func TestRequire(t *testing.T) {
	tests := []struct {
		name, binary, ci        string
		wantPath                bool
		wantSkipped, wantFailed bool
	}{
		{name: "present", binary: "sh", ci: "true", wantPath: true},
		{name: "missing", binary: "pacd-no-such-binary", ci: "", wantSkipped: true},
		{name: "missing, CI=false", binary: "pacd-no-such-binary", ci: "false", wantSkipped: true},
		{name: "missing in CI", binary: "pacd-no-such-binary", ci: "true", wantFailed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			f := &fakeTB{TB: t}
			path := require(f, tt.binary)
			if (path != "") != tt.wantPath || f.skipped != tt.wantSkipped || f.failed != tt.wantFailed {
				t.Errorf("require(%q) with CI=%q = %q, skipped %v, failed %v; want path %v, skipped %v, failed %v",
					tt.binary, tt.ci, path, f.skipped, f.failed, tt.wantPath, tt.wantSkipped, tt.wantFailed)
			}
			if (f.skipped || f.failed) && !strings.Contains(f.msg, tt.binary) {
				t.Errorf("message %q does not name %s", f.msg, tt.binary)
			}
		})
	}
}

func TestRequireSbin(t *testing.T) {
	// A PATH without sbin, as a non-root user's often is on Debian.
	t.Setenv("PATH", "/usr/bin:/bin")
	for _, d := range sbinDirs {
		if isExecutable(filepath.Join(d, "danted")) {
			f := &fakeTB{TB: t}
			if p := require(f, "danted"); p == "" {
				t.Errorf("require(danted) did not find it in %s: %s", d, f.msg)
			}
			return
		}
	}
	t.Skip("danted is not installed in an sbin directory")
}

func TestCheckCredentials(t *testing.T) {
	tests := []struct {
		user, pass string
		ok         bool
	}{
		{"", "", true},
		{"alice", "s3cret", true},
		{"alice", "p@ss!w0rd%", true},
		{"alice", "", false},
		{"", "s3cret", false},
		{"al:ice", "s3cret", false},
		{"alice", "s3 cret", false},
		{"alice", `s3"cret`, false},
		{"alice", "s3#cret", false},
		{"alice", "sécret", false},
		{"alice", strings.Repeat("x", 256), false},
	}
	for _, tt := range tests {
		if got := checkCredentials(tt.user, tt.pass); (got == "") != tt.ok {
			t.Errorf("checkCredentials(%q, %q) = %q, want ok %v", tt.user, tt.pass, got, tt.ok)
		}
	}
}

func TestReadTail(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		n             int
		want          string
	}{
		{"empty", "", 3, ""},
		{"short", "a\nb\n", 3, "a\nb"},
		{"exact", "a\nb\nc\n", 3, "a\nb\nc"},
		{"long", "a\nb\nc\nd\ne\n", 2, "d\ne"},
		{"no final newline", "a\nb\nc", 2, "b\nc"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		os.WriteFile(path, []byte(tt.content), 0o644)
		got, err := readTail(path, tt.n)
		if err != nil || string(got) != tt.want {
			t.Errorf("readTail(%q, %d) = %q, %v; want %q", tt.content, tt.n, got, err, tt.want)
		}
	}
}

// TestPortCollision makes the first port each daemon gets one that is
// already taken, and checks that the start is retried on another. It
// replaces pickPort, so it must not run in parallel with anything.
func TestPortCollision(t *testing.T) {
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	starts := []struct {
		name  string
		start func(t *testing.T) *Server
	}{
		{"squid", func(t *testing.T) *Server { return StartSquid(t, SquidOptions{TLS: true}) }},
		{"tinyproxy", func(t *testing.T) *Server { return StartTinyproxy(t, TinyproxyOptions{}) }},
		{"dante", func(t *testing.T) *Server { return StartDante(t, DanteOptions{}) }},
		{"microsocks", func(t *testing.T) *Server { return StartMicrosocks(t, MicrosocksOptions{}) }},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			calls := 0
			pickPort = func() (int, error) {
				if calls++; calls == 1 {
					return takenPort, nil
				}
				return freePort()
			}
			defer func() { pickPort = freePort }()
			s := st.start(t)
			if calls < 2 || strings.HasSuffix(s.Addr, ":"+strconv.Itoa(takenPort)) {
				t.Errorf("%s runs on %s after %d port picks; want it moved off the taken port %d", st.name, s.Addr, calls, takenPort)
			}
		})
	}
}

// groupMembers returns the PIDs of live (not zombie) processes in process
// group pgid.
func groupMembers(pgid int) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …; comm may hold anything.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// uidOf returns the real user ID of process pid.
func uidOf(t *testing.T, pid int) string {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strings.Fields(rest)[0]
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
	return ""
}

// TestCleanup checks that when a test ends every process of a daemon is
// gone (squid's auth helpers, dante's children) and so are squid's
// shared-memory segments, and that the daemons ran as nobody when the
// tests run as root (dante with username auth runs under a root unshare
// and drops privileges itself).
func TestCleanup(t *testing.T) {
	starts := []struct {
		name  string
		start func(t *testing.T) *Server
		root  bool // the group's leader stays root (unshare)
	}{
		{"squid", func(t *testing.T) *Server { return StartSquid(t, SquidOptions{Username: "alice", Password: "s3cret"}) }, false},
		{"dante", func(t *testing.T) *Server { return StartDante(t, DanteOptions{}) }, false},
		{"dante with username auth", func(t *testing.T) *Server {
			return StartDante(t, DanteOptions{Username: "pacdsocks", Password: "s3cret"})
		}, true},
		{"tinyproxy", func(t *testing.T) *Server { return StartTinyproxy(t, TinyproxyOptions{}) }, false},
		{"microsocks", func(t *testing.T) *Server { return StartMicrosocks(t, MicrosocksOptions{}) }, false},
	}
	for _, st := range starts {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			var s *Server
			var members []int
			t.Run("run", func(t *testing.T) {
				s = st.start(t)
				members = groupMembers(s.pgid)
				if len(members) == 0 {
					t.Fatalf("no live process in the daemon's group %d", s.pgid)
				}
				if s.squidName != "" {
					shm, _ := filepath.Glob(filepath.Join("/dev/shm", s.squidName+"-*"))
					t.Logf("squid's shared memory: %v", shm)
				}
				if os.Geteuid() == 0 && !st.root {
					if uid := uidOf(t, s.pgid); uid != "65534" {
						t.Errorf("%s runs as uid %s, want nobody (65534)", st.name, uid)
					}
				}
			})
			if s == nil {
				return
			}
			t.Logf("%s had %d processes", st.name, len(members))
			deadline := time.Now().Add(5 * time.Second)
			for len(groupMembers(s.pgid)) > 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if left := groupMembers(s.pgid); len(left) > 0 {
				t.Errorf("processes %v of %s outlived its test", left, st.name)
			}
			if s.squidName != "" {
				if shm, _ := filepath.Glob(filepath.Join("/dev/shm", s.squidName+"-*")); len(shm) > 0 {
					t.Errorf("squid left %v behind", shm)
				}
			}
		})
	}
}
