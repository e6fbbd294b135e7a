//go:build !wasip1

package pac

import (
	"context"
	"time"
)

// lookupContext is the context of one DNS lookup: ctx, bounded by the
// DNS timeout.
func lookupContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, timeout)
}
