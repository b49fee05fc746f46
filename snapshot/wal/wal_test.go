package wal

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

var modes = []SyncMode{SyncAlways, SyncEverySec, SyncNo}

func TestAppendReopen(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := faultfs.New()
			o := opts(fsys, mode)
			l, recs := open(t, o, 0)
			if len(recs) != 0 {
				t.Fatalf("new log replayed %v", recs)
			}
			appendRange(t, l, 1, 100)
			if l.LastSeq() != 100 {
				t.Fatalf("LastSeq = %d", l.LastSeq())
			}
			if _, err := l.Append(nil); err != nil { // an empty record is a record
				t.Fatal(err)
			}
			must(t, l.Close())
			got := reopen(t, o, 0)
			equalRecs(t, got, append(wantRecs(1, 100), rec{101, ""}))
		})
	}
}

func TestRotationAcrossSegments(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys, SyncAlways)
	o.SegmentBytes = 256
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 200)
	st := l.Stats()
	must(t, l.Close())
	files := 0
	for name := range folder(t, fsys, testDir) {
		if _, ok := parseSegmentName(name); ok {
			files++
		}
	}
	if files < 20 || st.Segments != files {
		t.Fatalf("%d segment files, Stats.Segments %d", files, st.Segments)
	}
	equalRecs(t, reopen(t, o, 0), wantRecs(1, 200))
	rep, err := Verify(fsys, testDir)
	if err != nil || rep.Records != 200 || rep.Segments != files || rep.LastSeq != 200 || rep.FirstSeq != 1 || len(rep.Gaps) != 0 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// readSealed collects ReadSealed's records.
func readSealed(l *Log, after, through uint64) ([]rec, error) {
	var c collector
	err := l.ReadSealed(after, through, c.fn)
	return c.recs, err
}

func TestRotateReadSealedCompact(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys, SyncAlways)
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 10)
	for range 2 { // the second Rotate has nothing to seal
		through, err := l.Rotate()
		if err != nil || through != 10 {
			t.Fatalf("Rotate = %d, %v", through, err)
		}
	}
	if n := l.Stats().Segments; n != 2 {
		t.Fatalf("%d segments after an idle Rotate", n)
	}
	appendRange(t, l, 11, 15)
	steps := []struct {
		name          string
		after, throug uint64
		want          []rec
		err           error
	}{
		{"inside one segment", 3, 10, wantRecs(4, 10), nil},
		{"empty range", 5, 5, nil, nil},
		{"beyond the sealed segments", 0, 12, nil, ErrRange},
	}
	for _, s := range steps {
		got, err := readSealed(l, s.after, s.throug)
		if !errors.Is(err, s.err) || (s.err == nil && err != nil) {
			t.Fatalf("%s: err = %v", s.name, err)
		}
		equalRecs(t, got, s.want)
	}
	if through, err := l.Rotate(); err != nil || through != 15 {
		t.Fatalf("Rotate = %d, %v", through, err)
	}
	got, err := readSealed(l, 8, 15)
	must(t, err)
	equalRecs(t, got, wantRecs(9, 15))

	must(t, l.Compact(10))
	if _, ok := folder(t, fsys, testDir)[seg1]; ok {
		t.Fatal("Compact(10) kept the segment of 1..10")
	}
	if _, err := readSealed(l, 0, 15); !errors.Is(err, ErrGap) {
		t.Fatalf("ReadSealed of compacted records: %v", err)
	}
	got, err = readSealed(l, 10, 15)
	must(t, err)
	equalRecs(t, got, wantRecs(11, 15))
	must(t, l.Compact(15))
	if n := l.Stats().Segments; n != 1 {
		t.Fatalf("%d segments after compacting everything sealed", n)
	}
	must(t, l.Close())
	l, recs := open(t, o, 15) // the snapshot covers everything
	if len(recs) != 0 {
		t.Fatalf("replayed %v", recs)
	}
	appendRange(t, l, 16, 16)
	must(t, l.Close())
	if _, err := Open(o, 0, nil); !errors.Is(err, ErrGap) { // case 11
		t.Fatalf("compacted log opened without a snapshot: %v", err)
	}
}

// TestCompactInterrupted: a crash before the folder fsync of a compaction
// brings deleted segments back; the log still opens (overlap).
func TestCompactInterrupted(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys.Process(), SyncAlways)
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 5)
	_, err := l.Rotate()
	must(t, err)
	appendRange(t, l, 6, 7)
	fsys.Fail(faultfs.OpSyncDir, 1, syscall.EIO)
	if err := l.Compact(5); err == nil {
		t.Fatal("Compact hid a folder fsync error")
	}
	fsys.PowerLoss()
	l.Close()
	o.FS = fsys.Process()
	equalRecs(t, reopen(t, o, 5), wantRecs(6, 7))
	equalRecs(t, reopen(t, o, 0), wantRecs(1, 7))
}

// TestWriteFailures is case 19: nothing acknowledged, partial bytes cut,
// appends accepted again once the fault is gone, without a restart.
func TestWriteFailures(t *testing.T) {
	faults := []struct {
		name string
		arm  func(*faultfs.FS)
	}{
		{"disk full", func(f *faultfs.FS) { f.SetDiskFull(10) }},
		{"disk full at once", func(f *faultfs.FS) { f.SetDiskFull(0) }},
		{"short write", func(f *faultfs.FS) { f.ShortWrite(13) }},
		{"I/O error", func(f *faultfs.FS) { f.Fail(faultfs.OpWrite, 1, syscall.EIO) }},
	}
	for _, mode := range modes {
		for _, ft := range faults {
			t.Run(mode.String()+"/"+ft.name, func(t *testing.T) {
				fsys := faultfs.New()
				o := opts(fsys, mode)
				l, _ := open(t, o, 0)
				appendRange(t, l, 1, 5)
				path := filepath.Join(testDir, seg1)
				before := folder(t, fsys, testDir)[seg1]
				ft.arm(fsys)
				if seq, err := l.Append([]byte("lost")); !errors.Is(err, ErrWrite) || errors.Is(err, ErrFailed) || seq != 0 {
					t.Fatalf("Append during the fault = %d, %v", seq, err)
				}
				if got := folder(t, fsys, testDir)[seg1]; got != before {
					t.Fatalf("%s: %d bytes after the failed write, want %d", path, len(got), len(before))
				}
				fsys.Heal()
				appendRange(t, l, 6, 8) // the failed record took no sequence
				must(t, l.Close())
				equalRecs(t, reopen(t, o, 0), wantRecs(1, 8))
			})
		}
	}
}

// TestWriteFailureRepeated: while the disk stays full every append fails
// and the log is not failed.
func TestWriteFailureRepeated(t *testing.T) {
	fsys := faultfs.New()
	l, _ := open(t, opts(fsys, SyncAlways), 0)
	defer l.Close()
	fsys.SetDiskFull(0)
	for range 5 {
		if _, err := l.Append([]byte("x")); !errors.Is(err, ErrWrite) {
			t.Fatalf("err = %v", err)
		}
	}
	fsys.ClearDiskFull()
	appendRange(t, l, 1, 1)
}

// TestTruncateFailureFails: if the partial bytes cannot be cut, the log
// fails rather than write after garbage.
func TestTruncateFailureFails(t *testing.T) {
	fsys := faultfs.New()
	l, _ := open(t, opts(fsys, SyncAlways), 0)
	fsys.ShortWrite(3)
	fsys.Fail(faultfs.OpTruncate, 1, syscall.EIO)
	if _, err := l.Append([]byte("x")); !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v", err)
	}
	fsys.Heal()
	if _, err := l.Append([]byte("y")); !errors.Is(err, ErrFailed) {
		t.Fatalf("after heal: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrFailed) {
		t.Fatalf("Close = %v", err)
	}
}

// TestFsyncFailure is case 20: a failed fsync fails the log for good and
// is never retried and acknowledged.
func TestFsyncFailure(t *testing.T) {
	cases := []struct {
		name string
		mode SyncMode
		run  func(t *testing.T, l *Log, fsys *faultfs.FS) error
	}{
		{"append", SyncAlways, func(t *testing.T, l *Log, fsys *faultfs.FS) error {
			fsys.Fail(faultfs.OpSync, 1, syscall.EIO)
			_, err := l.Append([]byte("x"))
			return err
		}},
		{"explicit sync", SyncNo, func(t *testing.T, l *Log, fsys *faultfs.FS) error {
			appendRange(t, l, 1, 1)
			fsys.Fail(faultfs.OpSync, 1, syscall.EIO)
			return l.Sync()
		}},
		{"seal at rotation", SyncNo, func(t *testing.T, l *Log, fsys *faultfs.FS) error {
			appendRange(t, l, 1, 1)
			fsys.Fail(faultfs.OpSync, 1, syscall.EIO)
			_, err := l.Rotate()
			return err
		}},
		{"folder fsync at rotation", SyncAlways, func(t *testing.T, l *Log, fsys *faultfs.FS) error {
			appendRange(t, l, 1, 1)
			fsys.Fail(faultfs.OpSyncDir, 1, syscall.EIO)
			_, err := l.Rotate()
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := faultfs.New()
			l, _ := open(t, opts(fsys, tc.mode), 0)
			if err := tc.run(t, l, fsys); !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("err = %v", err)
			}
			syncs := fsys.Counts().Syncs
			for _, call := range []func() error{
				func() error { _, err := l.Append([]byte("y")); return err },
				l.Sync,
				func() error { _, err := l.Rotate(); return err },
				l.Close,
			} {
				if err := call(); !errors.Is(err, ErrFailed) {
					t.Fatalf("after the failure: %v", err)
				}
			}
			if n := fsys.Counts().Syncs; n != syncs {
				t.Fatalf("the failed log fsynced again (%d -> %d)", syncs, n)
			}
		})
	}
}

// durableLastSeq is the last record a power loss would keep right now (the
// folder holding one segment).
func durableLastSeq(t testing.TB, fsys *faultfs.FS) uint64 {
	t.Helper()
	b, err := fsys.SyncedContent(filepath.Join(testDir, seg1))
	must(t, err)
	sc, err := scanSegment(bytes.NewReader(b), int64(len(b)), seg1, 1, 1<<20, true, nil)
	must(t, err)
	return sc.records
}

// TestAckBarrier is case 23: with a slow fsync under SyncAlways, no Append
// returns before its record is durable.
func TestAckBarrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := faultfs.New()
		l, _ := open(t, opts(fsys, SyncAlways), 0)
		release := make(chan struct{})
		fsys.SetSyncHook(func(string) { <-release })
		done := make(chan uint64)
		go func() {
			seq, err := l.Append([]byte("one"))
			must(t, err)
			done <- seq
		}()
		synctest.Wait() // the writer is blocked inside the fsync
		select {
		case <-done:
			t.Fatal("Append returned before its fsync finished")
		default:
		}
		if n := durableLastSeq(t, fsys); n != 0 {
			t.Fatalf("%d records durable before the fsync returned", n)
		}
		close(release)
		if seq := <-done; seq != 1 || durableLastSeq(t, fsys) != 1 {
			t.Fatalf("seq %d, durable %d", seq, durableLastSeq(t, fsys))
		}
		fsys.SetSyncHook(nil)
		must(t, l.Close())
	})
}

// TestAckBarrierConcurrent: many appenders, a slow fsync; whenever an Append
// returns, its record is already durable.
func TestAckBarrierConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := faultfs.New()
		l, _ := open(t, opts(fsys, SyncAlways), 0)
		fsys.SetSyncHook(func(string) { time.Sleep(2 * time.Millisecond) })
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := range 20 {
					seq, err := l.Append(fmt.Appendf(nil, "%d-%d", g, i))
					must(t, err)
					if d := durableLastSeq(t, fsys); d < seq {
						t.Errorf("Append returned %d while only %d are durable", seq, d)
					}
				}
			})
		}
		wg.Wait()
		fsys.SetSyncHook(nil)
		must(t, l.Close())
	})
}

// TestGroupCommit is case 27: 64 appenders share fsyncs; one appender gets
// one fsync per append.
func TestGroupCommit(t *testing.T) {
	cases := []struct {
		writers, each int
		check         func(appends, batches, fsyncs uint64) bool
	}{
		{64, 20, func(a, b, f uint64) bool { return b <= a/16 && f == b }},
		{1, 50, func(a, b, f uint64) bool { return b == a && f == a }},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.writers), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fsys := faultfs.New()
				l, _ := open(t, opts(fsys, SyncAlways), 0)
				fsys.SetSyncHook(func(string) { time.Sleep(time.Millisecond) })
				s0 := l.Stats()
				var wg sync.WaitGroup
				for range tc.writers {
					wg.Go(func() {
						for range tc.each {
							_, err := l.Append([]byte("event"))
							must(t, err)
						}
					})
				}
				wg.Wait()
				s1 := l.Stats()
				a, b, f := s1.Appends-s0.Appends, s1.Batches-s0.Batches, s1.Fsyncs-s0.Fsyncs
				if a != uint64(tc.writers*tc.each) || !tc.check(a, b, f) {
					t.Errorf("appends %d, batches %d, fsyncs %d", a, b, f)
				}
				t.Logf("%d writers: %d appends, %d batches, %d fsyncs, last batch %d", tc.writers, a, b, f, s1.LastBatch)
				must(t, l.Close())
			})
		})
	}
}

// TestBusy: beyond MaxPending waiting records, Append refuses at once.
func TestBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := faultfs.New()
		o := opts(fsys, SyncAlways)
		o.MaxPending = 4
		l, _ := open(t, o, 0)
		release := make(chan struct{})
		fsys.SetSyncHook(func(string) { <-release })
		var wg sync.WaitGroup
		wg.Go(func() { appendOK(t, l) })
		synctest.Wait() // the first record is in the writer, blocked in fsync
		for range 4 {
			wg.Go(func() { appendOK(t, l) })
		}
		synctest.Wait() // four records wait
		if _, err := l.Append([]byte("x")); !errors.Is(err, ErrBusy) {
			t.Fatalf("err = %v, want ErrBusy", err)
		}
		close(release)
		wg.Wait()
		appendOK(t, l)
		fsys.SetSyncHook(nil)
		must(t, l.Close())
	})
}

func appendOK(t testing.TB, l *Log) {
	if _, err := l.Append([]byte("x")); err != nil {
		t.Error(err)
	}
}

// TestClose: Close answers what is queued, then everything is refused.
func TestClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := faultfs.New()
		o := opts(fsys, SyncAlways)
		l, _ := open(t, o, 0)
		release := make(chan struct{})
		fsys.SetSyncHook(func(string) { <-release })
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { appendOK(t, l) })
		}
		synctest.Wait()
		closed := make(chan error)
		go func() { closed <- l.Close() }()
		synctest.Wait()
		close(release)
		wg.Wait()
		must(t, <-closed)
		for name, call := range map[string]func() error{
			"Append":     func() error { _, err := l.Append(nil); return err },
			"Rotate":     func() error { _, err := l.Rotate(); return err },
			"Sync":       l.Sync,
			"Compact":    func() error { return l.Compact(1) },
			"ReadSealed": func() error { return l.ReadSealed(0, 1, nil) },
		} {
			if err := call(); !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: %v", name, err)
			}
		}
		must(t, l.Close())
		if n := len(reopen(t, o, 0)); n != 3 {
			t.Fatalf("%d records after Close, want 3", n)
		}
	})
}

func TestTooLarge(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys, SyncNo)
	o.MaxRecordBytes = 16
	l, _ := open(t, o, 0)
	defer l.Close()
	if _, err := l.Append(make([]byte, 17)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	if _, err := l.Append(make([]byte, 16)); err != nil {
		t.Fatal(err)
	}
}

// TestTimedSync: SyncEverySec fsyncs about once a second when something
// was written, never in the append path; SyncNo never.
func TestTimedSync(t *testing.T) {
	for _, tc := range []struct {
		mode SyncMode
		want []uint64 // fsyncs after: the append, +1.5 s, +3 s idle, another append +1 s
	}{
		{SyncEverySec, []uint64{0, 1, 1, 2}},
		{SyncNo, []uint64{0, 0, 0, 0}},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fsys := faultfs.New()
				l, _ := open(t, opts(fsys, tc.mode), 0)
				var got []uint64
				note := func() { synctest.Wait(); got = append(got, l.Stats().Fsyncs) }
				appendOK(t, l)
				note()
				time.Sleep(1500 * time.Millisecond)
				note()
				time.Sleep(3 * time.Second)
				note()
				appendOK(t, l)
				time.Sleep(time.Second)
				note()
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("fsyncs %v, want %v", got, tc.want)
				}
				must(t, l.Close())
			})
		})
	}
}

// TestTimedSyncFailure: a failed background fsync fails the log.
func TestTimedSyncFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := faultfs.New()
		logger, logs := newLogger()
		o := opts(fsys, SyncEverySec)
		o.Logger = logger
		l, _ := open(t, o, 0)
		appendOK(t, l)
		fsys.Fail(faultfs.OpSync, 1, syscall.EIO)
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if _, err := l.Append([]byte("x")); !errors.Is(err, ErrFailed) {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("failure not logged: %s", logs)
		}
		l.Close()
	})
}

// TestRotationDiskFull: when a new segment cannot be made, appends go on
// in the current one, and rotation is tried again later.
func TestRotationDiskFull(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys, SyncAlways)
	o.SegmentBytes = 128
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 3)
	fsys.FailMatch(faultfs.OpOpen, 3, syscall.ENOSPC, func(name string) bool { return strings.HasSuffix(name, ".tmp") })
	appendRange(t, l, 4, 10)
	must(t, l.Close())
	equalRecs(t, reopen(t, o, 0), wantRecs(1, 10))
}

// TestFolderSyncedAfterCreate is case 22: every create and rename the log
// relies on is durable before anything in it is acknowledged.
func TestFolderSyncedAfterCreate(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys.Process(), SyncAlways)
	o.SegmentBytes = 100
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 10) // several rotations
	fsys.PowerLoss()
	l.Close()
	o.FS = fsys.Process()
	equalRecs(t, reopen(t, o, 0), wantRecs(1, 10))
}

// TestSnapshotNewerThanLogSurvivesPowerLoss: the segment started for after+1
// is durable, so the sequence is never reused.
func TestSnapshotNewerThanLogSurvivesPowerLoss(t *testing.T) {
	fsys := faultfs.New()
	writeFiles(t, fsys, testDir, map[string][]byte{seg1: full})
	o := opts(fsys.Process(), SyncAlways)
	l, _ := open(t, o, 50)
	if l.LastSeq() != 50 {
		t.Fatalf("LastSeq = %d", l.LastSeq())
	}
	fsys.PowerLoss()
	l.Close()
	o.FS = fsys.Process()
	l, _ = open(t, o, 50)
	appendRange(t, l, 51, 51)
	must(t, l.Close())
	if _, err := Open(o, 6, nil); !errors.Is(err, ErrGap) {
		t.Fatalf("records 7..50 are only in the snapshot, yet err = %v", err)
	}
}

// TestConcurrentOps runs appends, rotations, sealed reads, compactions,
// syncs and stats together (for -race), then checks the log.
func TestConcurrentOps(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys, SyncEverySec)
	o.SegmentBytes = 2048
	l, _ := open(t, o, 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range 300 {
				appendOK(t, l)
			}
		})
	}
	compacted := uint64(0)
	var maint sync.WaitGroup
	maint.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			through, err := l.Rotate()
			must(t, err)
			n := 0
			err = l.ReadSealed(compacted, through, func(seq uint64, _ []byte) error {
				if seq != compacted+uint64(n)+1 {
					return fmt.Errorf("seq %d after %d records from %d", seq, n, compacted)
				}
				n++
				return nil
			})
			must(t, err)
			must(t, l.Sync())
			must(t, l.Compact(through))
			compacted = through
			_ = l.Stats()
		}
	})
	wg.Wait()
	close(stop)
	maint.Wait()
	must(t, l.Close())
	got := reopen(t, o, compacted)
	if uint64(len(got)) != 2400-compacted {
		t.Fatalf("%d records above %d, want %d", len(got), compacted, 2400-compacted)
	}
}

// TestAppendAllocs: an Append allocates nothing in the steady state.
func TestAppendAllocs(t *testing.T) {
	o := Options{Dir: t.TempDir(), FS: vfs.OS{}, Sync: SyncNo}
	l, _ := open(t, o, 0)
	defer l.Close()
	p := make([]byte, 40)
	appendRange(t, l, 1, 10)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := l.Append(p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.1 {
		t.Fatalf("%.2f allocations per Append", allocs)
	}
}

// TestStatsHistograms: every fsync and every batch is counted in its
// histogram, the counts are cumulative, and the sums match the counters.
func TestStatsHistograms(t *testing.T) {
	l, _ := open(t, opts(faultfs.New(), SyncAlways), 0)
	defer l.Close()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := l.Append([]byte(payload(i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s := l.Stats()
	for _, c := range []struct {
		name       string
		h          Histogram
		count      uint64
		sum, bound float64
	}{
		{"fsync", s.FsyncLatency, s.Fsyncs, s.FsyncSeconds, 2.5},
		{"batch", s.BatchRecords, s.Batches, float64(s.Appends), 1024},
	} {
		if c.h.Count != c.count || c.h.Sum != c.sum {
			t.Errorf("%s: count %d sum %v, want %d and %v", c.name, c.h.Count, c.h.Sum, c.count, c.sum)
		}
		if len(c.h.Counts) != len(c.h.Bounds) || c.h.Bounds[len(c.h.Bounds)-1] != c.bound {
			t.Fatalf("%s: %d counts for bounds %v", c.name, len(c.h.Counts), c.h.Bounds)
		}
		for i := 1; i < len(c.h.Counts); i++ {
			if c.h.Counts[i] < c.h.Counts[i-1] {
				t.Errorf("%s: counts not cumulative: %v", c.name, c.h.Counts)
			}
		}
		if last := c.h.Counts[len(c.h.Counts)-1]; last > c.h.Count {
			t.Errorf("%s: last bucket %d above the count %d", c.name, last, c.h.Count)
		}
	}
	if s.Appends != 400 || s.BatchRecords.Counts[len(s.BatchRecords.Counts)-1] != s.Batches {
		t.Errorf("appends %d; batches of up to 1024 records %d of %d", s.Appends, s.BatchRecords.Counts[len(s.BatchRecords.Counts)-1], s.Batches)
	}
}

func TestBucketsBounds(t *testing.T) {
	b := &buckets{bounds: []float64{1, 2, 4}}
	for _, v := range []float64{0, 1, 1.5, 2, 3, 4, 5, 100} {
		b.observe(v)
	}
	h := b.snapshot(116.5)
	if want := []uint64{2, 4, 6}; !slices.Equal(h.Counts, want) || h.Count != 8 || h.Sum != 116.5 {
		t.Fatalf("counts %v count %d sum %v, want %v 8 116.5", h.Counts, h.Count, h.Sum, want)
	}
}
