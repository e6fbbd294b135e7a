package pac

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	s, err := Compile(`function FindProxyForURL(u, h) { return "PROXY a:1; DIRECT" }`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Eval(context.Background(), "http://x/", "x")
	if err != nil || got != "PROXY a:1; DIRECT" {
		t.Fatalf("got %q, %v", got, err)
	}
}
