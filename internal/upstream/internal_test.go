package upstream

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// TestCleanup checks that when a test ends every process of a daemon is
// gone (squid's auth helpers, dante's children) and so are squid's
// shared-memory segments, and that the daemons ran as nobody when the
// tests run as root (dante with username auth runs under a root unshare
// and drops privileges itself).
