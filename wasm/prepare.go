package wasm

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// preparedVersion names the output of prepare: it changes whenever
// instrument's output for the same module does.
const preparedVersion = "1"

// prepare turns the module as given (perhaps compressed with gzip) into
// the one the engine compiles: decompressed and, if preempt, with the
// yield hook (see instrument). Decompressing and instrumenting 20 MB take
// about a tenth of a second, which every start would pay; with a cache
// directory, the result is kept in it, named by the hash of the module
// as given, beside wazero's compiled code, which a program trusts as
// much. cached names the file the result came from, if it did.
func prepare(given []byte, dir string, preempt bool, log *slog.Logger) (bin []byte, cached string, err error) {
	var path string
	if dir != "" && preempt {
		sum := sha256.Sum256(given)
		path = filepath.Join(dir, "pacd-modules", hex.EncodeToString(sum[:16])+"-v"+preparedVersion+".wasm")
		if b, err := os.ReadFile(path); err == nil && len(b) > 8 {
			return b, path, nil
		}
	}
	bin = given
	if len(bin) >= 2 && bin[0] == 0x1f && bin[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(bin))
		if err != nil {
			return nil, "", fmt.Errorf("wasm: module: %w", err)
		}
		if bin, err = io.ReadAll(zr); err != nil {
			return nil, "", fmt.Errorf("wasm: module: %w", err)
		}
	}
	if !preempt {
		return bin, "", nil
	}
	// Without the yield hook nothing could stop a runaway guest, and a
	// garbage collection that began during its call would hang the
	// process (see instrument).
	if bin, err = instrument(bin); err != nil {
		return nil, "", fmt.Errorf("wasm: module: %v", err)
	}
	if path != "" {
		if err := writeFile(path, bin); err != nil {
			log.Warn("wasm: cannot keep the prepared module", "file", path, "err", err)
		}
	}
	return bin, "", nil
}

// writeFile writes b to path whole or not at all.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.wasm")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
