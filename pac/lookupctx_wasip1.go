//go:build wasip1

package pac

import (
	"context"
	"time"
)

// Inside WebAssembly a lookup's context is the evaluation's own, without
// a timeout of its own: the guest's timers cannot fire while the host
// answers (nothing preempts the guest's one thread), so a timer would
// bound nothing, and the host bounds every lookup by the DNS timeout and
// the deadline of the call (see cmd/pac-wasm). Making and stopping the
// timer cost a lookup about half its time in the guest.
func lookupContext(ctx context.Context, _ time.Duration) (context.Context, context.CancelFunc) {
	return ctx, func() {}
}
