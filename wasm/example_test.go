package wasm_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"time"

	"github.com/pacd/pacd/pac"
	"github.com/pacd/pacd/wasm"
	_ "github.com/pacd/pacd/wasm/embedded" // the module, in builds with -tags pacd_embedwasm
)

// An untrusted PAC script evaluated in the sandbox, as it would be
// natively. (Not run by go test: it needs the module, from
// Config.ModulePath or from the embedded copy.)
func ExampleEngine_Compile() {
	ctx := context.Background()
	e, err := wasm.New(ctx, nil) // the embedded module; compiled once, then cached
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close(ctx)
	s, err := e.Compile(ctx, `function FindProxyForURL(url, host) {
  return isPlainHostName(host) ? "DIRECT" : "PROXY proxy.example:8080; DIRECT";
}`, &pac.Options{Name: "untrusted.pac", Timeout: 500 * time.Millisecond})
	if err != nil {
		log.Fatal(err) // a *pac.SyntaxError says untrusted.pac:line:col
	}
	defer s.Close()
	u, _ := url.Parse("https://www.example.org/")
	r, err := s.FindProxyForURL(ctx, u)
	if err != nil {
		log.Fatal(err) // pac.ErrTimeout, wasm.ErrMemoryLimit, a *pac.ScriptError...
	}
	fmt.Println(r)
}
