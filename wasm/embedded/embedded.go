//go:build pacd_embedwasm

package embedded

import (
	_ "embed"

	"github.com/pacd/pacd/wasm"
)

// module is bin/pac.wasm compressed with gzip -9 (make wasm-embed).
//
//go:embed pac.wasm.gz
var module []byte

func init() {
	wasm.RegisterModule(func() ([]byte, error) { return module, nil })
}
