package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

func TestReadRange(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys, SyncAlways)
	o.SegmentBytes = 256
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 60)
	through, err := l.Rotate()
	must(t, err)
	appendRange(t, l, 61, 70) // in the active segment: never read
	for _, tc := range []struct {
		after, through uint64
		want           error
	}{
		{0, through, nil}, {10, 20, nil}, {59, through, nil}, {through, through, nil},
		{0, 1000, ErrRange},
	} {
		var got collector
		err := ReadRange(fsys, o.Dir, tc.after, tc.through, got.fn)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Fatalf("(%d, %d]: err %v, want %v", tc.after, tc.through, err, tc.want)
		}
		if tc.want == nil {
			equalRecs(t, got.recs, wantRecs(int(tc.after)+1, int(tc.through)))
		}
	}
	must(t, l.Compact(30))
	if err := ReadRange(fsys, o.Dir, 0, through, (&collector{}).fn); !errors.Is(err, ErrGap) {
		t.Fatalf("after compaction: err %v, want ErrGap", err)
	}
	must(t, l.Close())
}

// TestReadRangeTrustsNoName: ReadRange hands over exactly (after, through]
// whatever the segment names claim. A sealed segment holding records its
// successor's name says are the successor's (an overlap, which Open
// refuses) was read on past them, and those records were handed over
// twice — a snapshot built from it counted them twice, silently, and once
// compaction dropped the segments Open had nothing left to refuse. A
// sealed segment ending before its successor begins (records missing,
// not covered by the snapshot the range starts from) was skipped over in
// silence: the snapshot lacked them. Both are errors now; the gap a
// snapshot covers (a log that ended before its snapshot) is still fine.
func TestReadRangeTrustsNoName(t *testing.T) {
	batches := func(from, to int) [][]string {
		var b [][]string
		for i := from; i <= to; i++ {
			b = append(b, []string{payload(i)})
		}
		return b
	}
	for _, tc := range []struct {
		name           string
		segs           map[uint64][][]string
		after, through uint64
		want           error
		recs           []rec
	}{
		{"overlap", map[uint64][][]string{1: batches(1, 5), 4: batches(4, 6), 7: nil}, 0, 6, ErrCorrupt, nil},
		{"overlap past the range", map[uint64][][]string{1: batches(1, 5), 4: batches(4, 6), 7: nil}, 0, 2, nil, wantRecs(1, 2)},
		{"records missing", map[uint64][][]string{1: batches(1, 3), 6: batches(6, 7), 8: nil}, 0, 7, ErrGap, nil},
		{"missing, but covered by the snapshot", map[uint64][][]string{1: batches(1, 3), 6: batches(6, 7), 8: nil}, 5, 7, nil, wantRecs(6, 7)},
		{"whole", map[uint64][][]string{1: batches(1, 3), 4: batches(4, 7), 8: nil}, 0, 7, nil, wantRecs(1, 7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for first, b := range tc.segs {
				must(t, os.WriteFile(filepath.Join(dir, segmentName(first)), seg(first, b...), 0o600))
			}
			var got collector
			err := ReadRange(vfs.OS{}, dir, tc.after, tc.through, got.fn)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v; handed over %v", err, tc.want, summary(got.recs))
				}
				return
			}
			must(t, err)
			equalRecs(t, got.recs, tc.recs)
		})
	}
}
