package analytics

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// TestPageTotals: the list and, past smallPages, the map give the totals
// a plain map gives, whatever order the pages come in.
func TestPageTotals(t *testing.T) {
	for _, c := range []struct {
		name  string
		pages int
		order func(r *rand.Rand, i int) uint32
	}{
		{"ascending, few", 10, func(_ *rand.Rand, i int) uint32 { return uint32(i % 10) }},
		{"descending, at the limit", smallPages, func(_ *rand.Rand, i int) uint32 { return uint32(smallPages - 1 - i%smallPages) }},
		{"random, one past the limit", smallPages + 1, func(r *rand.Rand, _ int) uint32 { return uint32(r.IntN(smallPages + 1)) }},
		{"random, many", 5000, func(r *rand.Rand, _ int) uint32 { return uint32(r.IntN(5000)) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(c.pages)))
			var p pageTotals
			want := map[uint32]PageTotal{}
			for i := range 20 * c.pages {
				page, ms := c.order(r, i), r.Int64N(1000)
				p.add(page, PageTotal{Visits: 1, Ms: ms})
				w := want[page]
				w.Visits++
				w.Ms += ms
				want[page] = w
			}
			got := map[uint32]PageTotal{}
			last, sorted := -1, true
			p.each(func(page uint32, pt PageTotal) {
				if _, dup := got[page]; dup {
					t.Fatalf("page %d twice", page)
				}
				got[page] = pt
				sorted = sorted && int(page) > last
				last = int(page)
			})
			if !maps.Equal(got, want) || p.len() != len(want) {
				t.Fatalf("%d pages (len %d), want %d", len(got), p.len(), len(want))
			}
			if inList := len(want) <= smallPages; (p.m == nil) != inList || (inList && !sorted) {
				t.Fatalf("%d pages: list %v (sorted %v), map %v", len(want), p.list != nil, sorted, p.m != nil)
			}
		})
	}
}

// TestNames: ids are dense and stable, and lookups find every name before
// and after the map is built past smallNames.
func TestNames(t *testing.T) {
	for _, n := range []int{0, 1, smallNames, smallNames + 1, 1000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var x names
			buf := []byte("name-")
			for i := range n {
				b := strconv.AppendInt(buf[:5], int64(i), 10)
				if id := x.add(string(b)); id != uint32(i) {
					t.Fatalf("name %d got id %d", i, id)
				}
			}
			for i := range n {
				if id, ok := x.id(fmt.Sprint("name-", i)); !ok || id != uint32(i) || x.list[id] != fmt.Sprint("name-", i) {
					t.Fatalf("name-%d: id %d %v", i, id, ok)
				}
			}
			if _, ok := x.id("nobody"); ok || x.len() != n || (x.ids != nil) != (n > smallNames) {
				t.Fatalf("len %d, map %v", x.len(), x.ids != nil)
			}
		})
	}
}

// heapPer returns the heap held per unit by what fill makes.
func heapPer(units int, fill func() any) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	held := fill()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(held)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(units)
}

// TestSmallThingsCostLittle: an app with one page track (what a public
// track for a new app name makes) and a page track on a day of its own
// stay within a few hundred bytes. They took 3.4 KB and 1.5 KB when the
// maps, the 96-bucket table of a day and the session part were made up
// front. BenchmarkSmallMemory has the exact figures.
func TestSmallThingsCostLittle(t *testing.T) {
	if raceBuild {
		t.Skip("heap figures under the race detector are not a normal build's; make test checks them")
	}
	const n = 10_000
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	rec := func(at int64) *event.Record {
		return &event.Record{Kind: event.PageTrack, User: "ann", Page: "/", At: at, SpentMs: 1000}
	}
	perApp := heapPer(n, func() any {
		apps := make([]*App, n)
		for i := range apps {
			apps[i] = NewApp()
			if err := apps[i].Apply(rec(base)); err != nil {
				t.Fatal(err)
			}
		}
		return apps
	})
	perDay := heapPer(n, func() any {
		a := NewApp()
		for i := range n {
			if err := a.Apply(rec(base - int64(i)*dayMs)); err != nil {
				t.Fatal(err)
			}
		}
		return a
	})
	if perApp > 600 || perDay > 400 {
		t.Fatalf("%.0f bytes per app with one track (want <= 600), %.0f per track on a new day (want <= 400)", perApp, perDay)
	}
}
