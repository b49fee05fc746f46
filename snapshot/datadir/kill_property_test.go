package datadir

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

// workload generates records that apply in order: sessions started,
// paused, resumed and ended, and page tracks, each on a page of its own
// (so that a track counted twice shows in the page totals) or on one of a
// few shared pages.
type workload struct {
	rng  *rand.Rand
	now  int64
	n    int
	live map[uuid.UUID]session.Status
	user map[uuid.UUID]string
}

// next returns a record that applies after the ones before it.
func (w *workload) next() event.Record {
	w.now += int64(1 + w.rng.IntN(90_000))
	w.n++
	user := fmt.Sprintf("u%d", w.rng.IntN(5))
	if len(w.live) > 0 && w.rng.IntN(2) == 0 {
		ids := make([]uuid.UUID, 0, len(w.live))
		for id := range w.live {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		id := ids[w.rng.IntN(len(ids))]
		kind := event.End
		switch st := w.live[id]; {
		case st == session.Active && w.rng.IntN(3) == 0:
			kind = event.Pause
		case st == session.Paused && w.rng.IntN(2) == 0:
			kind = event.Resume
		}
		switch kind {
		case event.End:
			delete(w.live, id)
		case event.Pause:
			w.live[id] = session.Paused
		default:
			w.live[id] = session.Active
		}
		return event.Record{Kind: kind, App: "shop", User: w.user[id], Session: id, At: w.now, Logged: w.now}
	}
	if w.rng.IntN(3) == 0 {
		var id uuid.UUID
		for i := range id {
			id[i] = byte(w.rng.Uint32())
		}
		w.live[id], w.user[id] = session.Active, user
		return event.Record{Kind: event.Start, App: "shop", User: user, Session: id, At: w.now, Logged: w.now}
	}
	page := fmt.Sprintf("/own/%d", w.n)
	if w.rng.IntN(4) == 0 {
		page = fmt.Sprintf("/shared/%d", w.rng.IntN(3))
	}
	return event.Record{Kind: event.PageTrack, App: "shop", User: user, Page: page, SpentMs: int64(w.rng.IntN(5000)), At: w.now, Logged: w.now}
}

// replayModel rebuilds the workload's view of the sessions from history,
// so that the next records apply after whatever a restart recovered.
func (w *workload) replayModel(history []event.Record) {
	w.live, w.user = map[uuid.UUID]session.Status{}, map[uuid.UUID]string{}
	for _, r := range history {
		switch r.Kind {
		case event.Start:
			w.live[r.Session], w.user[r.Session] = session.Active, r.User
		case event.Pause:
			w.live[r.Session] = session.Paused
		case event.Resume:
			w.live[r.Session] = session.Active
		case event.End, event.Timeout:
			delete(w.live, r.Session)
		}
		w.now = max(w.now, r.At)
	}
}

// kill stops d as SIGKILL would: no final snapshot, nothing more written
// (every append already reached the file), the folder's lock let go.
func kill(t *testing.T, d *DataDir) {
	t.Helper()
	if err := d.wal.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.lock.Release(); err != nil {
		t.Fatal(err)
	}
}

// lastSegment returns the path and size of the log's last segment.
func lastSegment(t *testing.T, dir string) (string, int64) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no segment in %s: %v", dir, err)
	}
	slices.Sort(names)
	fi, err := os.Stat(names[len(names)-1])
	if err != nil {
		t.Fatal(err)
	}
	return names[len(names)-1], fi.Size()
}

// TestKillRestartProperty is the kill -9 test (DURABILITY cases 16, 17,
// 24) without a process: random records on real files, random
// checkpoints, and a kill at a random moment — between writes, in the
// middle of the last write (a torn tail: the last segment cut anywhere in
// the bytes of writes never acknowledged), after a snapshot was written
// but before the log was compacted, or with a half-written snapshot left
// behind — then a restart, more records, and again, many times over.
// After every restart the state is exactly that of the acknowledged
// records plus some of the unacknowledged ones in order (page visits
// included: most tracks have a page of their own, so one counted twice
// shows), and the next restart keeps those.
func TestKillRestartProperty(t *testing.T) {
	seeds, rounds := 6, 20
	if testing.Short() {
		seeds, rounds = 3, 12
	}
	var acked, torn, midCheckpoint, snapshots, recovered int
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 24))
		dir := t.TempDir()
		o := Options{Dir: dir, Sync: wal.SyncEverySec, SegmentBytes: int64(512 + rng.IntN(4096)), Policy: snapshot.Policy{Interval: time.Hour}}
		if seed == 1 {
			o.Sync = wal.SyncAlways
		}
		w := &workload{rng: rng, now: 1_700_000_000_000}
		var history []event.Record
		mustHave := 0 // the records acknowledged, which every restart keeps
		for round := range rounds {
			d, st, rec, err := Open(o)
			if err != nil {
				t.Fatalf("seed %d round %d: the folder does not open: %v", seed, round, err)
			}
			history = matchPrefix(t, fmt.Sprintf("seed %d round %d (snapshot %d, %d replayed)", seed, round, rec.SnapshotSeq, rec.Replayed), encode(t, st), history, mustHave)
			if rec.LastSeq != uint64(len(history)) {
				t.Fatalf("seed %d round %d: log ends at %d, %d records recovered", seed, round, rec.LastSeq, len(history))
			}
			recovered += len(history)
			mustHave = len(history) // recovered once, so kept from now on
			w.replayModel(history)
			for range rng.IntN(60) {
				r := w.next()
				if err := d.Append(&r); err != nil {
					t.Fatal(err)
				}
				history = append(history, r)
				mustHave = len(history)
				acked++
				if rng.IntN(25) == 0 {
					if _, err := d.Checkpoint(); err != nil {
						t.Fatal(err)
					}
					snapshots++
				}
			}
			switch rng.IntN(4) {
			case 0: // killed between writes
				kill(t, d)
			case 1: // killed in a write: what was not acknowledged is cut anywhere
				seg, size := lastSegment(t, dir)
				var pending []event.Record
				for range 1 + rng.IntN(8) {
					r := w.next()
					if err := d.Append(&r); err != nil {
						t.Fatal(err)
					}
					pending = append(pending, r)
				}
				kill(t, d)
				seg2, size2 := lastSegment(t, dir)
				from := size
				if seg2 != seg {
					from = 32 // a new segment: its header is written whole before its name exists
				}
				if err := os.Truncate(seg2, from+rng.Int64N(size2-from+1)); err != nil {
					t.Fatal(err)
				}
				history = append(history, pending...) // the restart keeps a prefix of them
				torn++
			case 2: // killed after the snapshot, before the log was compacted
				through, err := d.wal.Rotate()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Build(nil, dir, through, nil, Retention{}); err != nil {
					t.Fatal(err)
				}
				kill(t, d)
				midCheckpoint++
			case 3: // killed while the snapshot was being written
				kill(t, d)
				name := fmt.Sprintf("%016x-%016x.snap.tmp", len(history), time.Now().UnixNano())
				if err := os.WriteFile(filepath.Join(dir, "snap", name), []byte(snapshot.Magic+"half"), 0o600); err != nil {
					t.Fatal(err)
				}
				midCheckpoint++
			}
		}
	}
	t.Logf("%d seeds x %d kills: %d records acknowledged, %d recovered over all restarts, %d checkpoints, %d torn tails, %d kills mid-checkpoint",
		seeds, rounds, acked, recovered, snapshots, torn, midCheckpoint)
}

// matchPrefix returns the prefix of history, at least mustHave records
// long, whose state encodes as got, failing if there is none: a torn write
// may have kept any prefix of the records it was writing, never more, and
// never less than every record acknowledged.
func matchPrefix(t *testing.T, what string, got []byte, history []event.Record, mustHave int) []event.Record {
	t.Helper()
	for n := len(history); n >= mustHave; n-- {
		if bytes.Equal(got, reference(t, history[:n])) {
			return history[:n]
		}
	}
	var b strings.Builder
	for i, r := range history[max(0, len(history)-10):] {
		fmt.Fprintf(&b, "\n  %d: %v %s %s", max(0, len(history)-10)+i+1, r.Kind, r.Page, r.Session)
	}
	t.Fatalf("%s: the state is not that of the %d acknowledged records plus a prefix of the %d after them (the last:%s)",
		what, mustHave, len(history)-mustHave, b.String())
	return nil
}
