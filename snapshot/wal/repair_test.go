package wal

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

func TestVerify(t *testing.T) {
	segA := seg(1, recsOf(1, 2, 2)...) // 1..4
	segB := seg(5, recsOf(5, 1, 2)...) // 5..6
	tests := []struct {
		name    string
		files   map[string][]byte
		want    Report
		wantErr error
	}{
		{"missing folder", nil, Report{}, nil},
		{"clean", map[string][]byte{seg1: segA, segmentName(5): segB},
			Report{Segments: 2, Records: 6, FirstSeq: 1, LastSeq: 6}, nil},
		{"compacted with a hole", map[string][]byte{segmentName(3): seg(3, []string{"c"}), segmentName(9): seg(9, []string{"i", "j"})},
			Report{Segments: 2, Records: 3, FirstSeq: 3, LastSeq: 10, Gaps: []Gap{{4, 8}}}, nil},
		{"torn tail", map[string][]byte{seg1: full[:lastStart+5]},
			Report{Segments: 1, Records: 4, FirstSeq: 1, LastSeq: 4,
				Torn: &Damage{File: filepath.Join(testDir, seg1), Offset: lastStart, Size: lastStart + 5, Reason: "frame header cut by the end of the file"}}, nil},
		{"corrupt", map[string][]byte{seg1: flip(segA, offs[1]+9), segmentName(5): segB},
			Report{Segments: 2, Records: 2, FirstSeq: 1, LastSeq: 2, Corrupt: &CorruptError{File: filepath.Join(testDir, seg1), Offset: offs[1]}}, ErrCorrupt},
		{"newer format", map[string][]byte{seg1: badVersion()}, Report{Segments: 1}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New()
			if tt.files != nil {
				writeFiles(t, fsys, testDir, tt.files)
			}
			before := folder(t, fsys, testDir)
			rep, err := Verify(fsys, testDir)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if rep.Corrupt != nil && tt.want.Corrupt != nil {
				tt.want.Corrupt.Reason = rep.Corrupt.Reason
			}
			if !sameReport(rep, tt.want) {
				t.Fatalf("Verify =\n %+v\nwant\n %+v", rep, tt.want)
			}
			sameFolder(t, before, folder(t, fsys, testDir))
		})
	}
}

func sameReport(a, b Report) bool {
	return a.Segments == b.Segments && a.Records == b.Records && a.FirstSeq == b.FirstSeq &&
		a.LastSeq == b.LastSeq && slices.Equal(a.Gaps, b.Gaps) &&
		((a.Torn == nil) == (b.Torn == nil) && (a.Torn == nil || *a.Torn == *b.Torn)) &&
		((a.Corrupt == nil) == (b.Corrupt == nil) && (a.Corrupt == nil || *a.Corrupt == *b.Corrupt))
}

// TestRepair: after Repair, Open succeeds with the records before the
// damage, and every removed byte is kept in a .broken file.
func TestRepair(t *testing.T) {
	segA := seg(1, recsOf(1, 2, 2)...) // 1..4
	segB := seg(5, recsOf(5, 1, 2)...) // 5..6
	segC := seg(7, recsOf(7, 1, 1)...) // 7
	tests := []struct {
		name       string
		files      map[string][]byte
		want       []rec
		wantBroken []string // files set aside
		wantErr    error
	}{
		{"clean: nothing to do", map[string][]byte{seg1: segA}, wantRecs(1, 4), nil, nil},
		{"torn tail", map[string][]byte{seg1: full[:lastStart+5]}, wantRecs(1, 4), []string{seg1}, nil},
		{"middle of the last segment", map[string][]byte{seg1: flip(full, offs[1]+9)}, wantRecs(1, 2), []string{seg1}, nil},
		{"sealed segment", map[string][]byte{seg1: flip(segA, offs[1]+9), segmentName(5): segB, segmentName(7): segC},
			wantRecs(1, 2), []string{seg1, segmentName(5), segmentName(7)}, nil},
		{"bad header of a middle segment", map[string][]byte{seg1: segA, segmentName(5): flip(segB, 3), segmentName(7): segC},
			wantRecs(1, 4), []string{segmentName(5), segmentName(7)}, nil},
		{"newer format is refused", map[string][]byte{seg1: unknownType()}, nil, nil, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New()
			writeFiles(t, fsys, testDir, tt.files)
			before := folder(t, fsys, testDir)
			rep, err := Repair(fsys, testDir)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v", err)
				}
				sameFolder(t, before, folder(t, fsys, testDir))
				return
			}
			must(t, err)
			if (len(tt.wantBroken) == 0) != (len(rep.Actions) == 0) || rep.Torn != nil || rep.Corrupt != nil {
				t.Fatalf("Repair report %+v", rep)
			}
			after := folder(t, fsys, testDir)
			for _, name := range tt.wantBroken {
				if after[name+brokenExt] != string(tt.files[name]) {
					t.Errorf("%s has no faithful .broken copy; folder [%s]", name, names(after))
				}
			}
			logger, logs := newLogger()
			o := opts(fsys, SyncAlways)
			o.Logger = logger
			equalRecs(t, reopen(t, o, 0), tt.want)
			if strings.Contains(logs.String(), "torn") {
				t.Errorf("Open still found a torn tail after Repair: %s", logs)
			}
		})
	}
}

// failFrom makes every mutating operation from the step-th on fail, and
// reports how many were attempted.
func failFrom(fsys *faultfs.FS, step int) *int {
	calls := new(int)
	match := func(string) bool { *calls++; return *calls > step }
	for _, op := range []faultfs.Op{faultfs.OpOpen, faultfs.OpWrite, faultfs.OpSync, faultfs.OpSyncDir,
		faultfs.OpRename, faultfs.OpRemove, faultfs.OpTruncate} {
		fsys.FailMatch(op, -1, errors.New("injected crash"), match)
	}
	return calls
}

// TestInterruptedRecovery: a crash at every step of Repair, or of Open
// cutting a torn tail, leaves a folder that the next attempt recovers to
// the same records.
func TestInterruptedRecovery(t *testing.T) {
	segA := seg(1, recsOf(1, 2, 2)...)
	cases := []struct {
		name  string
		files map[string][]byte
		run   func(*faultfs.FS) error
		want  []rec
	}{
		{"repair", map[string][]byte{seg1: flip(segA, offs[1]+9), segmentName(5): seg(5, []string{payload(5)}), segmentName(6): seg(6, []string{payload(6)})},
			func(f *faultfs.FS) error { _, err := Repair(f, testDir); return err }, wantRecs(1, 2)},
		{"open with a torn tail", map[string][]byte{seg1: full[:lastStart+5]},
			func(f *faultfs.FS) error {
				l, err := Open(opts(f, SyncAlways), 0, nil)
				if err == nil {
					err = l.Close()
				}
				return err
			}, wantRecs(1, 4)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for step := 0; ; step++ {
				fsys := faultfs.New()
				writeFiles(t, fsys, testDir, tc.files)
				calls := failFrom(fsys, step)
				err := tc.run(fsys)
				fsys.Heal()
				fsys.PowerLoss()
				if rerr := tc.run(fsys); rerr != nil {
					t.Fatalf("step %d: the retry failed: %v", step, rerr)
				}
				equalRecs(t, reopen(t, opts(fsys, SyncAlways), 0), tc.want)
				if err == nil && *calls <= step {
					t.Logf("%d steps checked", step)
					return
				}
			}
		})
	}
}
