package pac

import (
	"math"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// RegexpMatchTimeout bounds one match of a regular expression that needs
// backtracking (a backreference, a lookahead), whether the script builds
// it itself or shExpMatch builds it from a pattern.
//
// goja matches such expressions with github.com/dlclark/regexp2, outside
// its interpreter loop, where the evaluation's deadline cannot interrupt
// them: without a bound, /^(a|aa)+\1b$/ against a long run of a's runs for
// hours. This package therefore sets regexp2.DefaultMatchTimeout, a
// process-wide setting, to RegexpMatchTimeout when it loads, unless the
// program has already changed it. A match that runs out of time fails to
// match; by then the evaluation's own deadline (shorter, by default) has
// passed, and the evaluation ends with ErrTimeout as soon as the match
// returns. Expressions without backtracking run in linear time and are not
// affected.
const RegexpMatchTimeout = 3 * time.Second

func init() {
	if regexp2.DefaultMatchTimeout == time.Duration(math.MaxInt64) {
		regexp2.DefaultMatchTimeout = RegexpMatchTimeout
	}
}
