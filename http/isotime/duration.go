package isotime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrDuration: the text is not a duration.
var ErrDuration = errors.New("isotime: not a duration")

// maxDays is the most days a time.Duration holds.
const maxDays = int64(1<<63-1) / int64(24*time.Hour)

// ParseDuration reads a length of time that is not negative: a whole
// number of days ("90d") or a Go duration ("2160h", "30s", "1h30m").
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > maxDays || days == "" || days[0] == '+' {
			return 0, fmt.Errorf("%w: %q (a number of days is digits then d, like 90d)", ErrDuration, s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q (like 90d, 2160h or 30s)", ErrDuration, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%w: %q is negative", ErrDuration, s)
	}
	return d, nil
}
