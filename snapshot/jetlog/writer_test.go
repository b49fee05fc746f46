package jetlog

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sessionserver/sessionserver/actors/event"
)

// Many goroutines appending through one Writer: every acknowledged
// record is replayed exactly once, each goroutine's in its order, and
// the records went out in fewer messages than records.
func TestWriterConcurrent(t *testing.T) {
	_, s := single(t)
	l := s.App("shop")
	last, err := l.Claim(testCtx(t), 0, "me")
	if err != nil {
		t.Fatal(err)
	}
	w := l.Writer(last, 0)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := range workers {
		wg.Go(func() {
			for i, rec := range recs("shop", g*each, each) {
				var err error
				if i%50 == 49 { // some batches among the singles
					err = w.AppendBatch([]event.Record{rec})
				} else {
					err = w.Append(&rec)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	w.Close()
	if err := w.Err(); err != nil {
		t.Fatalf("Err after Close: %v", err)
	}
	got, seqs := replayAll(t, l)
	if len(got) != workers*each {
		t.Fatalf("replayed %d records, want %d", len(got), workers*each)
	}
	if !slices.IsSorted(seqs) || seqs[len(seqs)-1] != w.Last() {
		t.Fatalf("sequences out of order or last %d != %d", seqs[len(seqs)-1], w.Last())
	}
	next := make([]int64, workers) // each goroutine's next record
	for _, rec := range got {
		g := rec.At / each
		if rec.At != g*each+next[g] {
			t.Fatalf("record %d where %d was due", rec.At, g*each+next[g])
		}
		next[g]++
	}
	if b := w.Batches(); b != uint64(len(seqs)) || b >= workers*each/2 {
		t.Fatalf("%d messages for %d records (Batches %d)", len(seqs), len(got), b)
	}
	t.Logf("%d records in %d messages", len(got), len(seqs))
	rec := recs("shop", 0, 1)[0]
	if err := w.Append(&rec); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// AppendBatch is one message, all or none; one too large is refused at
// once without stopping the Writer.
func TestWriterAppendBatch(t *testing.T) {
	_, s := single(t)
	l := s.App("shop")
	w := l.Writer(0, 0)
	defer w.Close()
	if err := w.AppendBatch(recs("shop", 0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := w.AppendBatch(nil); err != nil {
		t.Fatal(err)
	}
	huge := recs("shop", 3, 1)
	huge[0].Page = string(make([]byte, event.MaxPage))
	huge = slices.Repeat(huge, 2<<20/event.MaxPage)
	if err := w.AppendBatch(huge); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge batch: %v", err)
	}
	// A batch beyond MaxBatchRecords still goes in one message.
	if err := w.AppendBatch(recs("shop", 3, MaxBatchRecords+1)); err != nil {
		t.Fatal(err)
	}
	got, seqs := replayAll(t, l)
	if len(got) != MaxBatchRecords+4 || len(seqs) != 2 || w.Last() != seqs[1] {
		t.Fatalf("replayed %d records in %v, Last %d", len(got), seqs, w.Last())
	}
}

// A Writer whose connection is closed stops with the error, and so does
// everything after.
func TestWriterStopsOnFailure(t *testing.T) {
	_, s := single(t)
	w := s.App("shop").Writer(0, 0)
	defer w.Close()
	s.Close()
	rec := recs("shop", 0, 1)[0]
	first := w.Append(&rec)
	if first == nil {
		t.Fatal("append on a closed connection succeeded")
	}
	<-w.Done()
	if err := w.Append(&rec); err == nil || err.Error() != first.Error() || w.Err() == nil {
		t.Fatalf("after the failure: %v (first %v)", err, first)
	}
	select {
	case <-w.Fenced():
		t.Fatal("Fenced closed for a lost connection")
	default:
	}
}

// Mark appends a claim marker of the writer's own, alone, among batches
// sent at the same time: the subject ends with it, replay skips it, and
// the writer appends after it.
func TestWriterMark(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	w := l.Writer(0, 0)
	defer w.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			rec := recs("shop", i, 1)[0]
			errs <- w.Append(&rec)
		})
	}
	mark, err := w.Mark("member-1\n")
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.stream.GetMsg(ctx, mark)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(HeaderKind) != kindClaim || m.Header.Get(HeaderClaimant) != "member-1" || len(m.Data) != 0 {
		t.Fatalf("marker at %d: headers %v, %d bytes", mark, m.Header, len(m.Data))
	}
	after := recs("shop", 40, 1)[0]
	if err := w.Append(&after); err != nil {
		t.Fatalf("append after the marker: %v", err)
	}
	got, seqs := replayAll(t, l)
	if len(got) != 41 || slices.Contains(seqs, mark) {
		t.Fatalf("replayed %d records in batches %v (marker %d)", len(got), seqs, mark)
	}
	if last, err := l.Last(ctx); err != nil || last != w.Last() || last <= mark {
		t.Fatalf("last %d, writer's %d, marker %d, %v", last, w.Last(), mark, err)
	}
}
