package analytics

import (
	"math"
	"runtime"
	"slices"
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
		a.eachPresentDay(math.MinInt64/dayMs-1, math.MaxInt64/dayMs, func(dn int64, d *day) {
			for i := range bucketsDay {
				if start := dn*dayMs + int64(i)*BucketMs; start >= r[0] && start < r[1] {
					want += d.get(i).starts
				}
			}
		})
		if got != want {
			t.Fatalf("range %v: %d starts, want %d", r, got, want)
		}
	}
}

// TestSparseDays: a day stays a short list up to sparseMax busy buckets
// and becomes dense past it, answering the same either way, whatever the
// order the buckets come in.
func TestSparseDays(t *testing.T) {
	order := []int{95, 3, 40, 0, 41, 7, 88, 12, 60, 2, 33, 94, 1, 50}
	a := NewAggregate()
	want := map[int]int64{}
	for n, i := range order {
		for r := 0; r <= n%3; r++ {
			a.AddStart(5*dayMs + int64(i)*BucketMs + 1)
			want[i]++
		}
		d := a.day(5)
		if busy := len(want); (busy <= sparseMax) != (d.dense == nil) {
			t.Fatalf("after %d busy buckets: dense %v", busy, d.dense != nil)
		}
		got := map[int]int64{}
		a.eachCell(math.MinInt64, math.MaxInt64, func(ms int64, c *cell) {
			if c.starts != 0 {
				got[int((ms-5*dayMs)/BucketMs)] = c.starts
			}
		})
		if len(got) != len(want) {
			t.Fatalf("after %d: %v, want %v", n, got, want)
		}
		for i, w := range want {
			if got[i] != w || d.get(i).starts != w {
				t.Fatalf("after %d: bucket %d has %d (get %d), want %d", n, i, got[i], d.get(i).starts, w)
			}
		}
	}
}

// TestDistantDaysStayCheap: sessions on many distinct days, in reverse
// order, cost little memory each and read back in time order; so do days
// spread over two thousand years.
func TestDistantDaysStayCheap(t *testing.T) {
	for _, c := range []struct {
		name    string
		gap     int64 // days between two sessions
		maxHeap float64
	}{
		{"consecutive", 1, 250}, // about 150 B a day, and 8 B of its block's slot
		{"37 apart", 37, 700},   // each block holds few days: 37 × 8 B of slots each
	} {
		t.Run(c.name, func(t *testing.T) {
			const n = 20_000
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			a := NewAggregate()
			for i := n; i > 0; i-- {
				a.AddStart(-int64(i)*c.gap*dayMs + 1)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			per := float64(after.HeapAlloc-before.HeapAlloc) / n
			t.Logf("%.0f heap bytes per distinct day", per)
			if per > c.maxHeap {
				t.Fatalf("%.0f heap bytes per distinct day, want at most %.0f", per, c.maxHeap)
			}
			last, seen := int64(math.MinInt64), 0
			a.eachCell(math.MinInt64, math.MaxInt64, func(ms int64, cl *cell) {
				if ms <= last || cl.starts != 1 {
					t.Fatalf("bucket at %d after %d with %d starts", ms, last, cl.starts)
				}
				last, seen = ms, seen+1
			})
			if seen != n {
				t.Fatalf("%d buckets read back, want %d", seen, n)
			}
			runtime.KeepAlive(a)
		})
	}
}

// get returns bucket i's cell without adding it (tests only).
func (d *day) get(i int) cell {
	if d.dense != nil {
		return d.dense[i]
	}
	if k, found := slices.BinarySearch(d.idx, uint8(i)); found {
		return d.cells[k]
	}
	return cell{}
}
