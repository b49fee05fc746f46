package datadir

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// TestSnapshotLeavesOutExpired: a snapshot holds no more than retention
// keeps (the server's, or an app's own), at the clock of its build.
func TestSnapshotLeavesOutExpired(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	o := options(faultfs.New())
	o.Retention = time.Hour
	o.Now = func() time.Time { return now }
	d, _ := mustOpen(t, o)
	ms := now.UnixMilli()
	var recs []event.Record
	for _, app := range []string{"shop", "keep"} {
		old, recent, open := uuid.New(), uuid.New(), uuid.New()
		recs = append(recs,
			event.Record{Kind: event.Start, App: app, User: "ann", Session: old, At: ms - 3*3_600_000},
			event.Record{Kind: event.End, App: app, User: "ann", Session: old, At: ms - 2*3_600_000},
			event.Record{Kind: event.Start, App: app, User: "ann", Session: open, At: ms - 3*3_600_000},
			event.Record{Kind: event.Start, App: app, User: "bob", Session: recent, At: ms - 60_000},
			event.Record{Kind: event.End, App: app, User: "bob", Session: recent, At: ms},
			event.Record{Kind: event.PageTrack, App: app, User: "ann", Page: "/old", At: ms - 2*3_600_000, SpentMs: 5},
			event.Record{Kind: event.PageTrack, App: app, User: "bob", Page: "/new", At: ms - 1000, SpentMs: 5},
		)
	}
	recs = append(recs, event.Record{Kind: event.Settings, App: "keep", Extra: &event.Extra{RetentionMs: 0, Public: event.PublicInherit}})
	appendAll(t, d, recs)
	if _, err := d.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	st, _, err := ReadState(o.FS, o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for app, want := range map[string][2]int{"shop": {2, 1}, "keep": {3, 2}} {
		a := st.Apps[app]
		if a.Sessions() != want[0] || a.PageTracks() != want[1] {
			t.Errorf("%s in the snapshot: %d sessions and %d page tracks, want %d and %d", app, a.Sessions(), a.PageTracks(), want[0], want[1])
		}
	}
	if got := st.Apps["shop"].Pages(analytics.Query{Range: analytics.All()}); len(got) != 1 || got[0].Page != "/new" {
		t.Errorf("shop's pages in the snapshot: %v", got)
	}
}
