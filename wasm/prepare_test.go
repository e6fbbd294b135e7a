package wasm

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrepare checks that the prepared module is kept in the cache
// directory and used from there, and that a damaged copy is replaced.
func TestPrepare(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(spinModule())
	zw.Close()
	dir := t.TempDir()
	want, err := instrument(spinModule())
	if err != nil {
		t.Fatal(err)
	}
	bin, cached, err := prepare(gz.Bytes(), dir, true, slog.New(slog.DiscardHandler))
	if err != nil || cached != "" || !bytes.Equal(bin, want) {
		t.Fatalf("first prepare: cached %q, err %v, module as instrument's: %v", cached, err, bytes.Equal(bin, want))
	}
	bin, cached, err = prepare(gz.Bytes(), dir, true, slog.New(slog.DiscardHandler))
	if err != nil || cached == "" || !bytes.Equal(bin, want) {
		t.Fatalf("second prepare: cached %q, err %v", cached, err)
	}
	if bin, _, _ := prepare(gz.Bytes(), dir, false, slog.New(slog.DiscardHandler)); !bytes.Equal(bin, spinModule()) {
		t.Error("prepare without preemption did not give the module as it is")
	}

	if err := os.WriteFile(cached, []byte("\x00asm\x01\x00\x00\x00garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	_, err = New(context.Background(), &Config{Module: gz.Bytes(), CacheDir: dir, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err == nil || !strings.Contains(err.Error(), "not a PAC module") {
		t.Errorf("New: %v, want the spin module compiled, and refused", err)
	}
	if !strings.Contains(log.String(), "does not compile; preparing it again") {
		t.Errorf("log = %q", log.String())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "pacd-modules", "*")); len(m) != 0 {
		t.Errorf("the damaged copy is still there: %q", m)
	}
}
