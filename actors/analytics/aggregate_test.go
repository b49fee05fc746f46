package analytics

import (
	"math"
	"testing"
)

// TestEachDayBounds: partial first and last days, unbounded ranges and
// days before 1970 give exactly the buckets whose start is in range.
func TestEachDayBounds(t *testing.T) {
	a := NewAggregate()
	for _, ms := range []int64{-3*dayMs + 5, -dayMs, 0, 7 * BucketMs, dayMs - 1, 5*dayMs + 3*BucketMs} {
		a.AddStart(ms)
	}
	for _, r := range [][2]int64{
		{math.MinInt64, math.MaxInt64}, {-2 * dayMs, math.MaxInt64}, {math.MinInt64, 0},
		{BucketMs, dayMs - BucketMs}, {7 * BucketMs, 7*BucketMs + 1}, {-dayMs - 1, dayMs + 1},
	} {
		var got, want int64
		a.eachDay(r[0], r[1], func(ms int64, cells []cell) {
			for i := range cells {
				if start := ms + int64(i)*BucketMs; start < r[0] || start >= r[1] {
					t.Fatalf("range %v: bucket at %d handed out", r, start)
				}
				got += cells[i].starts
			}
		})
		for _, day := range a.keys {
			for i, c := range a.days[day] {
				if start := day*dayMs + int64(i)*BucketMs; start >= r[0] && start < r[1] {
					want += c.starts
				}
			}
		}
		if got != want {
			t.Fatalf("range %v: %d starts, want %d", r, got, want)
		}
	}
}
