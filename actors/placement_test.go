package actors

import (
	"errors"
	"testing"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
)

// TestAdoptAndDrop: an engine drops an app without logging anything (its
// open sessions then answer 404), and adopts it back from the records
// another engine logged: the adopted app answers as the log does, and
// its open sessions go on.
func TestAdoptAndDrop(t *testing.T) {
	j := &recordingJournal{}
	a := newEngine(t, Config{Journal: j})
	open, err := a.Start("shop", "u0", 1_000)
	if err != nil {
		t.Fatal(err)
	}
	ended, err := a.Start("shop", "u1", 2_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Transition(event.End, "shop", "u1", ended.ID, 5_000, false); err != nil {
		t.Fatal(err)
	}
	if err := a.TrackPage("shop", "u0", "/a", 1_500, 300); err != nil {
		t.Fatal(err)
	}
	logged := len(j.recs)

	had, err := a.Drop("shop")
	if err != nil || !had {
		t.Fatalf("Drop: %v, %v", had, err)
	}
	if len(j.recs) != logged {
		t.Fatalf("Drop logged %d records", len(j.recs)-logged)
	}
	if _, err := a.Transition(event.Pause, "shop", "u0", open.ID, 6_000, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("pause of a dropped app's session: %v, want ErrNotFound", err)
	}
	if s, _ := a.Starts("shop", analytics.Query{Range: analytics.All()}); s.Sessions != 0 {
		t.Fatalf("a dropped app still answers %d sessions", s.Sessions)
	}
	if had, err := a.Drop("shop"); had || err != nil {
		t.Fatalf("second Drop: %v, %v", had, err)
	}

	// Another engine adopts the app from the log.
	b := newEngine(t, Config{Journal: j})
	b.Adopt("shop", j.replayed(t).Apps["shop"])
	sameAsReplay(t, b, j.replayed(t), "shop")
	if c := b.Counts(); c.Active != 1 {
		t.Fatalf("adopted engine counts %d active sessions, want 1", c.Active)
	}
	if _, err := b.Transition(event.End, "shop", "u0", open.ID, 7_000, false); err != nil {
		t.Fatalf("end of the adopted open session: %v", err)
	}
	sameAsReplay(t, b, j.replayed(t), "shop")
}
