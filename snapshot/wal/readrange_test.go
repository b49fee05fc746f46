package wal

import (
	"errors"
	"testing"

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
