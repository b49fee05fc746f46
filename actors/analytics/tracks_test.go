package analytics

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// TestTracksInSlices: walking Tracks in slices of any size gives every
// track of the query once, in the order tracked, for every user and one,
// bounded or not; each slice looks at no more tracks than asked.
func TestTracksInSlices(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 9))
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	a := NewApp()
	var all []TrackRow
	for range 5000 {
		rec := event.Record{Kind: event.PageTrack, User: fmt.Sprintf("u%d", r.IntN(4)), Page: fmt.Sprintf("/p%d", r.IntN(30)), At: base + r.Int64N(10*dayMs), SpentMs: r.Int64N(9000)}
		if err := a.Apply(&rec); err != nil {
			t.Fatal(err)
		}
		all = append(all, TrackRow{User: rec.User, Page: rec.Page, At: rec.At, Ms: rec.SpentMs})
	}
	mid := Range{From: base + 2*dayMs, To: base + 5*dayMs - 1, Loc: time.UTC}
	for _, q := range []Query{{Range: All()}, {User: "u2", Range: All()}, {Range: mid}, {User: "u3", Range: mid}, {User: "nobody", Range: All()}} {
		var want []TrackRow
		for _, tr := range all {
			if (q.User == "" || tr.User == q.User) && q.Range.Contains(tr.At) {
				want = append(want, tr)
			}
		}
		for _, scan := range []int{1, 7, 4096, 100000} {
			var got []TrackRow
			n := 0
			for pos := 0; pos >= 0; n++ {
				rows, next := a.Tracks(q, pos, scan)
				if len(rows) > scan {
					t.Fatalf("%+v scan %d: a slice of %d rows", q, scan, len(rows))
				}
				got = append(got, rows...)
				if next >= 0 && next != pos+scan {
					t.Fatalf("%+v scan %d: next %d after %d", q, scan, next, pos)
				}
				pos = next
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%+v scan %d: %d rows in %d slices, want %d", q, scan, len(got), n, len(want))
			}
		}
	}
}
