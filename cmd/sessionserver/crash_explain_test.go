package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

// explainPage says where the visits of page in app come from in the data
// folder dir, for a failed exactly-once check: the visits each snapshot
// holds, and the sequences at which the log holds a track of it. It reads
// a copy (a start on it cuts a torn tail), so dir stays as the test left
// it; what it cannot read it says.
func explainPage(t *testing.T, dir, app, page string) string {
	t.Helper()
	var b strings.Builder
	infos, err := (&snapshot.Store{Dir: filepath.Join(dir, "snap")}).List()
	if err != nil {
		fmt.Fprintf(&b, "snapshots: %v; ", err)
	}
	for _, info := range infos {
		v, err := snapshotVisits(t, info.Path, app, page)
		if err != nil {
			fmt.Fprintf(&b, "snapshot %s (seq %d): %v; ", filepath.Base(info.Path), info.Seq, err)
			continue
		}
		fmt.Fprintf(&b, "snapshot %s (seq %d): %d visits; ", filepath.Base(info.Path), info.Seq, v)
	}
	seqs, first, last, err := logTracks(t, dir, app, page)
	if err != nil {
		fmt.Fprintf(&b, "log: %v", err)
		return b.String()
	}
	fmt.Fprintf(&b, "log (records %d to %d): tracks of it at %v", first, last, seqs)
	return b.String()
}

// snapshotVisits loads the one snapshot file path (from a folder of its
// own, so that no newer one is chosen) and counts the visits of page.
func snapshotVisits(t *testing.T, path, app, page string) (int64, error) {
	t.Helper()
	one := t.TempDir()
	if err := copyFile(path, filepath.Join(one, filepath.Base(path))); err != nil {
		return 0, err
	}
	var visits int64
	_, found, err := (&snapshot.Store{Dir: one}).Load(func(_ uint64, r io.Reader) error {
		st, err := analytics.ReadState(r)
		if err != nil {
			return err
		}
		if a := st.Apps[app]; a != nil {
			for _, ps := range a.Pages(analytics.Query{Range: analytics.All()}) {
				if ps.Page == page {
					visits += ps.Visits
				}
			}
		}
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("does not verify")
	}
	return visits, err
}

// logTracks replays a copy of the log of dir from its first record and
// returns the sequences of the tracks of page, and the first and last
// sequences it holds.
func logTracks(t *testing.T, dir, app, page string) (seqs []uint64, first, last uint64, err error) {
	t.Helper()
	cp := filepath.Join(t.TempDir(), "wal")
	if err := os.CopyFS(cp, os.DirFS(filepath.Join(dir, "wal"))); err != nil {
		return nil, 0, 0, err
	}
	l, err := wal.Open(wal.Options{Dir: cp}, 0, func(seq uint64, payload []byte) error {
		if first == 0 {
			first = seq
		}
		last = seq
		rec, err := event.Decode(payload)
		if err != nil {
			return err
		}
		if rec.Kind == event.PageTrack && rec.App == app && rec.Page == page {
			seqs = append(seqs, seq)
		}
		return nil
	})
	if err != nil {
		return nil, 0, 0, err
	}
	return seqs, first, last, l.Close()
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// TestExplainPage: the explanation of a failed check names what each
// snapshot and the log hold of the page.
func TestExplainPage(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "-fsync", "always")
	c := newClient(t, p.addr)
	for _, page := range []string{"/a", "/b", "/a"} {
		if code, _, err := c.post("/api/pages/track", map[string]any{"app": "ex", "user": "u", "page": page, "timespent": 1}); err != nil || code != 200 {
			t.Fatalf("track %s: %d %v", page, code, err)
		}
	}
	if err := p.stop(t); err != nil { // the final snapshot covers the three
		t.Fatalf("SIGTERM: %v", err)
	}
	got := explainPage(t, dir, "ex", "/a")
	if !strings.Contains(got, "(seq 3): 2 visits") || !strings.Contains(got, "log (records 1 to 3): tracks of it at [1 3]") {
		t.Fatalf("explanation: %s", got)
	}
}
