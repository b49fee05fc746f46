package datadir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/vfs"
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

// TestCheckpointDropsTheLogItCovers: the log is dropped only back to the
// oldest kept snapshot: the first snapshot drops nothing (the whole log is
// its fallback), the second drops the segments the first covers and keeps
// the ones after it; the next write continues the sequence.
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
	if after := d.Stats().Segments; after != before+1 {
		t.Fatalf("the first snapshot: segments %d before, %d after; want every one kept and a new one", before, after)
	}
	more := records(3, 300)
	appendAll(t, d, more)
	mid := d.Stats().Segments
	if _, err := d.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if after := d.Stats().Segments; after != mid+1-before {
		t.Fatalf("the second snapshot: segments %d before, %d after; want the %d the first snapshot covers dropped", mid, after, before)
	}
	if first, _, _ := wal.FirstSeq(fsys, "/data/wal"); first != info.Seq+1 {
		t.Fatalf("the log starts at %d, want %d (just after the older snapshot)", first, info.Seq+1)
	}
	last := records(4, 10)
	appendAll(t, d, last)
	fsys.PowerLoss()
	_, st := mustOpen(t, options(fsys))
	if !bytes.Equal(encode(t, st), reference(t, slices.Concat(recs, more, last))) {
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
		_, err := Build(fsys, o.Dir, through, nil, Retention{})
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

// flipByte flips a byte in the middle of the file at path.
func flipByte(t *testing.T, fsys vfs.FS, path string) {
	t.Helper()
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.Seek(fi.Size()/2, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// twoSnapshots writes three batches of records with a snapshot after each
// of the first two, and returns every record and the snapshots, newest
// first.
func twoSnapshots(t *testing.T, fsys *faultfs.FS) ([]event.Record, []snapshot.Info) {
	t.Helper()
	d, _ := mustOpen(t, options(fsys))
	var all []event.Record
	for w := range 3 {
		recs := records(10+w, 200)
		appendAll(t, d, recs)
		all = append(all, recs...)
		if w < 2 {
			if _, err := d.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	fsys.PowerLoss() // a kill -9: no final snapshot
	list, err := (&snapshot.Store{Dir: "/data/snap", FS: fsys}).List()
	if err != nil || len(list) != 2 {
		t.Fatalf("snapshots: %v %v", list, err)
	}
	return all, list
}

// TestBrokenNewestSnapshotFallsBack is issue 10's finding 2: a flipped
// byte in the newest snapshot made the folder unbootable, because the log
// after the older snapshot was gone. Now the older one plus the log after
// it give every record back, and the broken one is set aside.
func TestBrokenNewestSnapshotFallsBack(t *testing.T) {
	fsys := faultfs.New()
	all, list := twoSnapshots(t, fsys)
	flipByte(t, fsys, list[0].Path)
	d, st, rec, err := Open(options(fsys))
	if err != nil {
		t.Fatalf("a broken newest snapshot: %v", err)
	}
	defer d.Close()
	if rec.SnapshotSeq != list[1].Seq {
		t.Errorf("recovered from snapshot %d, want the older %d", rec.SnapshotSeq, list[1].Seq)
	}
	if !bytes.Equal(encode(t, st), reference(t, all)) {
		t.Fatal("state after the fallback differs from every record")
	}
	if _, err := fsys.Stat(list[0].Path + ".broken"); err != nil {
		t.Errorf("the broken snapshot was not set aside: %v", err)
	}
}

// TestEverySnapshotBroken: with both snapshots broken and the log
// compacted, the start refuses (ErrNoSnapshot, every snapshot and the
// log's first record named) and renames nothing, the same at every try;
// with a log that still starts at its first record, it rebuilds from it.
func TestEverySnapshotBroken(t *testing.T) {
	fsys := faultfs.New()
	_, list := twoSnapshots(t, fsys)
	for _, s := range list {
		flipByte(t, fsys, s.Path)
	}
	for range 2 {
		_, _, _, err := Open(options(fsys))
		if !errors.Is(err, ErrNoSnapshot) || !errors.Is(err, snapshot.ErrCorrupt) {
			t.Fatalf("both snapshots broken: %v", err)
		}
		for _, s := range list {
			if !strings.Contains(err.Error(), filepath.Base(s.Path)) {
				t.Errorf("the refusal does not name %s: %v", s.Path, err)
			}
			if _, serr := fsys.Stat(s.Path); serr != nil {
				t.Errorf("%s was moved: %v", s.Path, serr)
			}
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("starts at record %d", list[1].Seq+1)) {
			t.Errorf("the refusal does not say where the log starts: %v", err)
		}
	}

	fsys = faultfs.New()
	d, _ := mustOpen(t, options(fsys))
	recs := records(20, 200)
	appendAll(t, d, recs)
	info, err := d.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	fsys.PowerLoss()
	flipByte(t, fsys, info.Path)
	d, st, rec, err := Open(options(fsys))
	if err != nil {
		t.Fatalf("the only snapshot broken, the whole log kept: %v", err)
	}
	defer d.Close()
	if rec.SnapshotSeq != 0 || !bytes.Equal(encode(t, st), reference(t, recs)) {
		t.Fatalf("rebuilt from snapshot %d; state differs: %v", rec.SnapshotSeq, !bytes.Equal(encode(t, st), reference(t, recs)))
	}
}

// TestReadStateChangesNothing: ReadState, which sessionserver export uses
// on a stopped server's folder, recovers what Open would (here: past a
// broken newest snapshot, from the older one and the log) and renames,
// removes and cuts nothing.
func TestReadStateChangesNothing(t *testing.T) {
	fsys := faultfs.New()
	all, list := twoSnapshots(t, fsys)
	flipByte(t, fsys, list[0].Path)
	listing := func() []string {
		var out []string
		for _, sub := range []string{"/data/snap", "/data/wal"} {
			entries, err := fsys.ReadDir(sub)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				fi, err := fsys.Stat(filepath.Join(sub, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s/%s %d", sub, e.Name(), fi.Size()))
			}
		}
		return out
	}
	before := listing()
	st, rec, err := ReadState(fsys, "/data")
	if err != nil {
		t.Fatal(err)
	}
	if rec.SnapshotSeq != list[1].Seq {
		t.Errorf("read from snapshot %d, want the older %d", rec.SnapshotSeq, list[1].Seq)
	}
	if !bytes.Equal(encode(t, st), reference(t, all)) {
		t.Fatal("the state read differs from every record")
	}
	if after := listing(); !slices.Equal(before, after) {
		t.Errorf("ReadState changed the folder:\nbefore %v\nafter  %v", before, after)
	}
}
