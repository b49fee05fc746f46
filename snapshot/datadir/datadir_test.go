package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

func options(fsys *faultfs.FS) Options {
	return Options{Dir: "/data", FS: fsys, Sync: wal.SyncAlways, SegmentBytes: 4096, Policy: snapshot.Policy{Interval: time.Hour}}
}

func mustOpen(t *testing.T, o Options) (*DataDir, *analytics.State) {
	t.Helper()
	d, st, _, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return d, st
}

// records makes a realistic sequence: n sessions of writer w, each
// started, sometimes paused and resumed, mostly ended, with a page track.
func records(w, n int) []event.Record {
	var out []event.Record
	for i := 0; i < n; i++ {
		id := uuid.UUID{byte(w), byte(i >> 8), byte(i), 1}
		user := fmt.Sprintf("u%d", w)
		at := int64(1_700_000_000_000 + i*60_000)
		add := func(k event.Kind, t int64) {
			out = append(out, event.Record{Kind: k, App: "shop", User: user, Session: id, At: t, Logged: t})
		}
		add(event.Start, at)
		if i%3 == 0 {
			add(event.Pause, at+1000)
			add(event.Resume, at+2000)
		}
		out = append(out, event.Record{Kind: event.PageTrack, App: "shop", User: user, Page: fmt.Sprintf("/p%d", i%7), SpentMs: int64(i), At: at, Logged: at})
		if i%5 != 4 {
			add(event.End, at+5000)
		}
	}
	return out
}

func encode(t *testing.T, st *analytics.State) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := analytics.WriteState(&buf, st); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reference(t *testing.T, recs []event.Record) []byte {
	t.Helper()
	st := analytics.NewState()
	for i := range recs {
		if err := st.Apply(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return encode(t, st)
}

func appendAll(t *testing.T, d *DataDir, recs []event.Record) {
	t.Helper()
	for i := range recs {
		if err := d.Append(&recs[i]); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
}

func TestEmptyFolderStartsEmpty(t *testing.T) {
	d, st := mustOpen(t, options(faultfs.New()))
	defer d.Close()
	if len(st.Apps) != 0 {
		t.Fatalf("state of an empty folder has %d apps", len(st.Apps))
	}
}

// TestRestartRebuildsTheState: log only, log after a snapshot, and a clean
// close (final snapshot) all give back exactly the state of the records.
func TestRestartRebuildsTheState(t *testing.T) {
	recs := records(1, 200)
	want := reference(t, recs)
	for _, tc := range []struct {
		name  string
		close func(t *testing.T, fsys *faultfs.FS, d *DataDir)
	}{
		{"log only, power loss", func(t *testing.T, fsys *faultfs.FS, d *DataDir) { fsys.PowerLoss() }},
		{"snapshot then log, power loss", nil},
		{"clean close", func(t *testing.T, fsys *faultfs.FS, d *DataDir) {
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := faultfs.New()
			d, _ := mustOpen(t, options(fsys))
			if tc.close == nil {
				appendAll(t, d, recs[:300])
				if _, err := d.Checkpoint(); err != nil {
					t.Fatal(err)
				}
				appendAll(t, d, recs[300:])
				fsys.PowerLoss()
			} else {
				appendAll(t, d, recs)
				tc.close(t, fsys, d)
			}
			d2, st := mustOpen(t, options(fsys))
			defer d2.Close()
			if got := encode(t, st); !bytes.Equal(got, want) {
				t.Fatal("restarted state differs from the acknowledged records")
			}
			// Restart twice with no writes between: identical state.
			if err := d2.Close(); err != nil {
				t.Fatal(err)
			}
			d3, st3 := mustOpen(t, options(fsys))
			defer d3.Close()
			if got := encode(t, st3); !bytes.Equal(got, want) {
				t.Fatal("second restart differs")
			}
		})
	}
}

// TestCheckpointDropsTheLogItCovers: after a snapshot the sealed segments
// it covers are gone, and the next write continues the sequence.
func TestCheckpointDropsTheLogItCovers(t *testing.T) {
	fsys := faultfs.New()
	d, _ := mustOpen(t, options(fsys))
	recs := records(2, 300)
	appendAll(t, d, recs)
	before := d.Stats().Segments
	info, err := d.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if info.Seq != uint64(len(recs)) {
		t.Fatalf("snapshot covers %d, want %d", info.Seq, len(recs))
	}
	if after := d.Stats().Segments; after >= before || after > 2 {
		t.Fatalf("segments %d before, %d after the snapshot", before, after)
	}
	more := records(3, 10)
	appendAll(t, d, more)
	fsys.PowerLoss()
	_, st := mustOpen(t, options(fsys))
	if !bytes.Equal(encode(t, st), reference(t, append(append([]event.Record{}, recs...), more...))) {
		t.Fatal("state after snapshot + log differs")
	}
}

// TestCheckpointUnderConcurrentWrites (DURABILITY case 18): snapshots
// taken while writers append; after a power loss every acknowledged record
// is there once.
func TestCheckpointUnderConcurrentWrites(t *testing.T) {
	fsys := faultfs.New()
	d, _ := mustOpen(t, options(fsys))
	var wg sync.WaitGroup
	all := make([][]event.Record, 4)
	for w := range all {
		all[w] = records(10+w, 150)
		wg.Add(1)
		go func(recs []event.Record) {
			defer wg.Done()
			appendAll(t, d, recs)
		}(all[w])
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	snaps := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			if _, err := d.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			snaps++
		}
	}
	fsys.PowerLoss()
	_, st := mustOpen(t, options(fsys))
	want := analytics.NewState()
	for _, recs := range all {
		for i := range recs {
			if err := want.Apply(&recs[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	assertSameAnswers(t, st, want)
	t.Logf("%d snapshots during the writes", snaps)
}

// assertSameAnswers compares two states by what they answer (records of
// different writers may interleave in any order).
func assertSameAnswers(t *testing.T, got, want *analytics.State) {
	t.Helper()
	q := analytics.Query{Range: analytics.All()}
	for name, w := range want.Apps {
		g := got.Apps[name]
		if g == nil {
			t.Fatalf("app %s lost", name)
		}
		gs, ws := g.Starts(q), w.Starts(q)
		if gs.Sessions != ws.Sessions || gs.Ended != ws.Ended || gs.ActiveMs != ws.ActiveMs || gs.Grid != ws.Grid {
			t.Fatalf("app %s: %d/%d sessions, want %d/%d", name, gs.Sessions, gs.Ended, ws.Sessions, ws.Ended)
		}
		if fmt.Sprint(g.Pages(q)) != fmt.Sprint(w.Pages(q)) {
			t.Fatalf("app %s: pages differ", name)
		}
	}
}

// TestFailureAtEveryCheckpointStep (DURABILITY cases 17, 21): whichever
// filesystem operation of a checkpoint fails, the checkpoint reports it,
// the data folder keeps serving, and after a power loss the state is
// exactly what was acknowledged.
func TestFailureAtEveryCheckpointStep(t *testing.T) {
	ops := []struct {
		name string
		op   faultfs.Op
	}{
		{"open", faultfs.OpOpen}, {"write", faultfs.OpWrite}, {"sync", faultfs.OpSync},
		{"syncdir", faultfs.OpSyncDir}, {"rename", faultfs.OpRename}, {"remove", faultfs.OpRemove},
	}
	for _, tc := range ops {
		for skip := 0; skip < 4; skip++ {
			t.Run(fmt.Sprintf("%s/after%d", tc.name, skip), func(t *testing.T) {
				fsys := faultfs.New()
				d, _ := mustOpen(t, options(fsys))
				first, second := records(4, 60), records(5, 40)
				appendAll(t, d, first)
				if _, err := d.Checkpoint(); err != nil {
					t.Fatal(err)
				}
				appendAll(t, d, second)
				// Let skip operations of this kind pass, then fail one.
				fsys.FailMatch(tc.op, 1, syscall.EIO, countdown(skip))
				_, cerr := d.Checkpoint()
				fsys.Heal()
				// The log may refuse writes for good after a failed fsync of
				// its folder (never retried and acknowledged); only the
				// acknowledged ones are expected back.
				var third []event.Record
				for _, rec := range records(6, 20) {
					err := d.Append(&rec)
					if err != nil && !errors.Is(err, event.ErrRefused) {
						t.Fatalf("append after a failed checkpoint: %v", err)
					}
					if err == nil {
						third = append(third, rec)
					}
				}
				fsys.PowerLoss()
				_, st, _, err := Open(options(fsys))
				if err != nil {
					t.Fatalf("the folder does not open after a failed checkpoint (%v): %v", cerr, err)
				}
				want := analytics.NewState()
				for _, recs := range [][]event.Record{first, second, third} {
					for i := range recs {
						_ = want.Apply(&recs[i])
					}
				}
				assertSameAnswers(t, st, want)
			})
		}
	}
}

// countdown matches every name after skip calls.
func countdown(skip int) func(string) bool {
	var mu sync.Mutex
	return func(string) bool {
		mu.Lock()
		defer mu.Unlock()
		skip--
		return skip < 0
	}
}

// TestBuilder: a checkpoint can be built by another party (the server's
// child process); a builder that fails, or leaves no snapshot, fails the
// checkpoint and keeps the log.
func TestBuilder(t *testing.T) {
	fsys := faultfs.New()
	var calls int
	mode := "build"
	o := options(fsys)
	o.Builder = func(through uint64) error {
		calls++
		switch mode {
		case "fail":
			return syscall.EIO
		case "nothing":
			return nil
		}
		_, err := Build(fsys, o.Dir, through, nil)
		return err
	}
	d, _ := mustOpen(t, o)
	recs := records(7, 30)
	appendAll(t, d, recs)
	for _, m := range []string{"fail", "nothing"} {
		mode = m
		if _, err := d.Checkpoint(); err == nil {
			t.Fatalf("%s: checkpoint succeeded", m)
		}
	}
	mode = "build"
	info, err := d.Checkpoint()
	if err != nil || info.Seq != uint64(len(recs)) {
		t.Fatalf("checkpoint %+v, %v", info, err)
	}
	if calls != 3 {
		t.Fatalf("builder called %d times", calls)
	}
	fsys.PowerLoss()
	_, st := mustOpen(t, options(fsys))
	if !bytes.Equal(encode(t, st), reference(t, recs)) {
		t.Fatal("state after a built snapshot differs")
	}
}
