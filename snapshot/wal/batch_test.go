package wal

import (
	"fmt"
	"sync"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// TestAppendBatch: a batch's records get consecutive sequences from the
// one returned, beside single appends, and a reopen replays each once.
func TestAppendBatch(t *testing.T) {
	for _, mode := range []SyncMode{SyncAlways, SyncEverySec, SyncNo} {
		t.Run(mode.String(), func(t *testing.T) {
			o := opts(faultfs.New(), mode)
			l, _ := open(t, o, 0)
			appendRange(t, l, 1, 1)
			seq, err := l.AppendBatch([][]byte{[]byte(payload(2)), []byte(payload(3)), []byte(payload(4))})
			must(t, err)
			if seq != 2 {
				t.Fatalf("batch got first seq %d, want 2", seq)
			}
			if seq, err = l.AppendBatch(nil); err != nil || seq != 5 {
				t.Fatalf("empty batch: seq %d err %v, want 5 and no error", seq, err)
			}
			appendRange(t, l, 5, 5)
			must(t, l.Close())
			equalRecs(t, reopen(t, o, 0), wantRecs(1, 5))
		})
	}
}

// TestAppendBatchConcurrent: batches and single appends from many
// goroutines are each written whole and in order, never interleaved.
func TestAppendBatchConcurrent(t *testing.T) {
	o := opts(faultfs.New(), SyncAlways)
	o.SegmentBytes = 4 << 10 // rotations between and inside the batches' runs
	l, _ := open(t, o, 0)
	const writers, rounds = 8, 40
	var mu sync.Mutex
	want := make(map[uint64]string)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				n := 1 + (w+r)%7
				batch := make([][]byte, n)
				for i := range batch {
					batch[i] = fmt.Appendf(nil, "w%d-r%d-%d", w, r, i)
				}
				var first uint64
				var err error
				if n == 1 {
					first, err = l.Append(batch[0])
				} else {
					first, err = l.AppendBatch(batch)
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, p := range batch {
					want[first+uint64(i)] = string(p)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	must(t, l.Close())
	got := reopen(t, o, 0)
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, acknowledged %d", len(got), len(want))
	}
	for i, r := range got {
		if r.seq != uint64(i+1) || want[r.seq] != r.payload {
			t.Fatalf("record %d: seq %d payload %q, want seq %d payload %q", i, r.seq, r.payload, i+1, want[uint64(i+1)])
		}
	}
}

// TestAppendBatchTooLarge: one record over the limit refuses the batch,
// writing none of it.
func TestAppendBatchTooLarge(t *testing.T) {
	o := opts(faultfs.New(), SyncAlways)
	o.MaxRecordBytes = 64
	l, _ := open(t, o, 0)
	if _, err := l.AppendBatch([][]byte{[]byte("ok"), make([]byte, 65)}); err == nil {
		t.Fatal("a batch with a record over the limit was accepted")
	}
	appendRange(t, l, 1, 1)
	must(t, l.Close())
	equalRecs(t, reopen(t, o, 0), wantRecs(1, 1))
}
