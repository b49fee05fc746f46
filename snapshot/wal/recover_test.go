package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// Files crafted byte by byte for the recovery cases.
var (
	three     = recsOf(1, 3, 2) // batches {1,2} {3,4} {5,6}
	full      = seg(1, three...)
	offs      = batchOffsets(three...) // starts of the 3 batches, then the end
	seg1      = segmentName(1)
	lastStart = offs[2]
)

// bigLast is a segment whose last batch spans several sectors, and the
// offset of that batch.
func bigLast() ([]byte, int64) {
	batches := [][]string{{"a", "b"}, {strings.Repeat("x", 700), strings.Repeat("y", 700), strings.Repeat("z", 700)}}
	return seg(1, batches...), batchOffsets(batches...)[1]
}

// zeroSector zeroes the 512-byte sector holding offset at.
func zeroSector(b []byte, at int64) []byte {
	c := bytes.Clone(b)
	s := at / 512 * 512
	clear(c[s:min(s+512, int64(len(c)))])
	return c
}

// setWord overwrites the length/type word of the frame at off (keeping the
// stale checksum).
func setWord(b []byte, off int64, word uint32) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[off+4:], word)
	return c
}

// unknownType is a segment whose second batch holds a frame of type 9 with
// a valid checksum.
func unknownType() []byte {
	b, seed := appendHeader(nil, 1)
	b = appendFrame(b, seed, typeRecord, []byte("one"))
	b = appendCommit(b, seed, 1, 1, frameLen(3), headerLen)
	return appendFrame(b, seed, 9, []byte("future"))
}

// badVersion is a segment header of the next version with a valid checksum.
func badVersion() []byte {
	b, _ := appendHeader(nil, 1)
	binary.LittleEndian.PutUint32(b[8:], formatVersion+1)
	binary.LittleEndian.PutUint32(b[24:], crc(0, b[:24]))
	return b
}

// wrongCommitSeq is a valid-looking segment whose last commit states the
// wrong sequence.
func wrongCommitSeq() []byte {
	b := seg(1, []string{"a"})
	_, seed := appendHeader(nil, 1)
	start := len(b)
	b = appendFrame(b, seed, typeRecord, []byte("b"))
	return appendCommit(b, seed, 7, 1, len(b)-start, int64(start))
}

type recoveryCase struct {
	name    string
	files   map[string][]byte
	after   uint64
	want    []rec
	next    uint64 // sequence of the next append
	tornAt  int64  // >0: the last segment is cut here
	wantErr error  // ErrCorrupt, ErrFormat, ErrGap
	errFile string // for ErrCorrupt
	errAt   int64  // for ErrCorrupt
}

func recoveryCases() []recoveryCase {
	big, bigStart := bigLast()
	segA := seg(1, recsOf(1, 2, 2)...) // 1..4
	segB := seg(5, recsOf(5, 1, 2)...) // 5..6
	midBatches := [][]string{{"a"}, {strings.Repeat("x", 700), strings.Repeat("y", 700)}, {"c"}, {"d"}}
	mid, midOffs := seg(1, midBatches...), batchOffsets(midBatches...)
	return []recoveryCase{
		// 1, 2
		{name: "empty folder", files: map[string][]byte{}, next: 1},
		{name: "N records back", files: map[string][]byte{seg1: full}, want: wantRecs(1, 6), next: 7},
		{name: "empty segment", files: map[string][]byte{segmentName(9): seg(9)}, after: 8, next: 9},
		// 3, 8
		{name: "last record cut inside payload", files: map[string][]byte{seg1: full[:lastStart+frameHeaderLen+3]}, want: wantRecs(1, 4), next: 5, tornAt: lastStart},
		{name: "last record cut inside header", files: map[string][]byte{seg1: full[:lastStart+4]}, want: wantRecs(1, 4), next: 5, tornAt: lastStart},
		{name: "commit frame cut", files: map[string][]byte{seg1: full[:offs[3]-10]}, want: wantRecs(1, 4), next: 5, tornAt: lastStart},
		{name: "multi-record batch without commit dropped whole", files: map[string][]byte{seg1: full[:offs[3]-commitFrameLen]}, want: wantRecs(1, 4), next: 5, tornAt: lastStart},
		{name: "only batch cut", files: map[string][]byte{seg1: full[:offs[0]+5]}, next: 1, tornAt: headerLen},
		// 4
		{name: "zero-filled tail", files: map[string][]byte{seg1: append(slices.Clone(full), make([]byte, 4096)...)}, want: wantRecs(1, 6), next: 7, tornAt: offs[3]},
		{name: "zeroed sector in last batch", files: map[string][]byte{seg1: zeroSector(big, bigStart+900)}, want: []rec{{1, "a"}, {2, "b"}}, next: 3, tornAt: bigStart},
		{name: "garbage tail", files: map[string][]byte{seg1: append(slices.Clone(full), bytes.Repeat([]byte{0xab}, 100)...)}, want: wantRecs(1, 6), next: 7, tornAt: offs[3]},
		{name: "flipped byte in last batch", files: map[string][]byte{seg1: flip(full, lastStart+frameHeaderLen+1)}, want: wantRecs(1, 4), next: 5, tornAt: lastStart},
		{name: "length past the end in last batch", files: map[string][]byte{seg1: setWord(full, lastStart, 1000|typeRecord<<24)}, want: wantRecs(1, 4), next: 5, tornAt: lastStart},
		// 5
		{name: "flipped byte in a middle record", files: map[string][]byte{seg1: flip(full, offs[1]+frameHeaderLen+2)}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[1]},
		{name: "flipped byte in a middle commit", files: map[string][]byte{seg1: flip(full, offs[1]-3)}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[0]},
		{name: "zeroed sector in a middle batch", files: map[string][]byte{seg1: zeroSector(mid, 600)}, wantErr: ErrCorrupt, errFile: seg1, errAt: midOffs[1]},
		// 6
		{name: "absurd length in the middle", files: map[string][]byte{seg1: setWord(full, offs[1], maxFrameBody|typeRecord<<24)}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[1]},
		{name: "length past the end in the middle", files: map[string][]byte{seg1: setWord(full, offs[1], 1000|typeRecord<<24)}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[1]},
		// 7
		{name: "flipped byte in a sealed segment", files: map[string][]byte{seg1: flip(segA, offs[1]+9), segmentName(5): segB}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[1]},
		{name: "torn tail in a sealed segment", files: map[string][]byte{seg1: segA[:len(segA)-5], segmentName(5): segB}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[1]},
		{name: "zero tail in a sealed segment", files: map[string][]byte{seg1: append(slices.Clone(segA), make([]byte, 512)...), segmentName(5): segB}, wantErr: ErrCorrupt, errFile: seg1, errAt: offs[2]},
		{name: "two segments", files: map[string][]byte{seg1: segA, segmentName(5): segB}, want: wantRecs(1, 6), next: 7},
		// 9
		{name: "unknown frame type", files: map[string][]byte{seg1: unknownType()}, wantErr: ErrFormat},
		{name: "unknown format version", files: map[string][]byte{seg1: badVersion()}, wantErr: ErrFormat},
		{name: "bad magic", files: map[string][]byte{seg1: flip(full, 2)}, wantErr: ErrCorrupt, errFile: seg1, errAt: 0},
		{name: "header cut short", files: map[string][]byte{seg1: full[:20]}, wantErr: ErrCorrupt, errFile: seg1, errAt: 0},
		{name: "header and name disagree", files: map[string][]byte{seg1: seg(7, []string{"a"})}, wantErr: ErrCorrupt, errFile: seg1, errAt: 0},
		{name: "commit with wrong sequence at the tail", files: map[string][]byte{seg1: wrongCommitSeq()}, wantErr: ErrCorrupt, errFile: seg1, errAt: batchOffsets([]string{"a"})[1]},
		{name: "overlapping segments", files: map[string][]byte{seg1: segA, segmentName(3): seg(3, []string{"x"})}, wantErr: ErrCorrupt, errFile: segmentName(3), errAt: 0},
		// 11, 14, 15, 16
		{name: "compacted log without snapshot", files: map[string][]byte{segmentName(5): segB}, wantErr: ErrGap},
		{name: "snapshot newer than the log", files: map[string][]byte{seg1: full}, after: 10, next: 11},
		{name: "snapshot newer than an empty log", files: map[string][]byte{}, after: 10, next: 11},
		{name: "gap between snapshot and log", files: map[string][]byte{segmentName(20): seg(20, []string{"t"})}, after: 10, wantErr: ErrGap},
		{name: "overlap with the snapshot", files: map[string][]byte{seg1: full}, after: 4, want: wantRecs(5, 6), next: 7},
		{name: "snapshot covers a whole segment", files: map[string][]byte{seg1: segA, segmentName(5): segB}, after: 4, want: wantRecs(5, 6), next: 7},
		{name: "hole between segments covered by the snapshot", files: map[string][]byte{seg1: seg(1, []string{"a"}), segmentName(10): seg(10, []string{"j"})}, after: 9, want: []rec{{10, "j"}}, next: 11},
		{name: "hole between segments not covered", files: map[string][]byte{seg1: seg(1, []string{"a"}), segmentName(10): seg(10, []string{"j"})}, after: 5, wantErr: ErrGap},
	}
}

// TestOpenRecovery covers DURABILITY.md cases 1-9, 11, 14-16 on files
// crafted byte by byte. After every successful recovery, two appends must
// be readable after another restart, and Verify must find nothing wrong.
func TestOpenRecovery(t *testing.T) {
	for _, tc := range recoveryCases() {
		t.Run(tc.name, func(t *testing.T) {
			fsys := faultfs.New()
			writeFiles(t, fsys, testDir, tc.files)
			before := folder(t, fsys, testDir)
			logger, logs := newLogger()
			o := opts(fsys, SyncAlways)
			o.Logger = logger
			var c collector
			l, err := Open(o, tc.after, c.fn)
			if tc.wantErr != nil {
				checkRefused(t, tc, err)
				sameFolder(t, before, folder(t, fsys, testDir))
				return
			}
			must(t, err)
			equalRecs(t, c.recs, tc.want)
			if tc.tornAt > 0 {
				checkTorn(t, tc, fsys, logs.String())
			} else if strings.Contains(logs.String(), "torn") {
				t.Errorf("unexpected torn-tail warning: %s", logs)
			}
			appendRange(t, l, int(tc.next), int(tc.next)+1)
			must(t, l.Close())
			got := reopen(t, o, tc.after)
			want := append(slices.Clone(tc.want), rec{tc.next, payload(int(tc.next))}, rec{tc.next + 1, payload(int(tc.next) + 1)})
			equalRecs(t, got, want)
			rep, err := Verify(fsys, testDir)
			if err != nil || rep.Torn != nil {
				t.Fatalf("Verify after recovery: %+v, %v", rep, err)
			}
		})
	}
}

func checkRefused(t *testing.T, tc recoveryCase, err error) {
	t.Helper()
	if !errors.Is(err, tc.wantErr) {
		t.Fatalf("err = %v, want %v", err, tc.wantErr)
	}
	if tc.wantErr != ErrCorrupt {
		return
	}
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("err %T is not a *CorruptError", err)
	}
	want := filepath.Join(testDir, tc.errFile)
	if ce.File != want || ce.Offset != tc.errAt {
		t.Fatalf("corruption at %s:%d, want %s:%d (%v)", ce.File, ce.Offset, want, tc.errAt, err)
	}
	if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, fmt.Sprintf("offset %d", tc.errAt)) {
		t.Fatalf("message %q does not name the file and offset", msg)
	}
}

// checkTorn checks the cut, the .broken copy and the warning.
func checkTorn(t *testing.T, tc recoveryCase, fsys *faultfs.FS, logs string) {
	t.Helper()
	var name string
	for n := range tc.files {
		name = max(name, n)
	}
	after := folder(t, fsys, testDir)
	if got := int64(len(after[name])); got != tc.tornAt {
		t.Errorf("%s is %d bytes after recovery, want %d", name, got, tc.tornAt)
	}
	if after[name+".broken"] != string(tc.files[name]) {
		t.Errorf("no faithful .broken copy; folder [%s]", names(after))
	}
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "torn") {
		t.Errorf("no warning logged: %q", logs)
	}
	if synced, _ := fsys.SyncedContent(filepath.Join(testDir, name)); int64(len(synced)) != tc.tornAt {
		t.Errorf("the cut is not durable: %d synced bytes", len(synced))
	}
}

func TestOpenMissingFolder(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys.Process(), SyncAlways)
	l, recs := open(t, o, 0)
	if len(recs) != 0 {
		t.Fatalf("replayed %v", recs)
	}
	appendRange(t, l, 1, 3)
	// Case 22: the folder, the segment and its records survive a power loss.
	fsys.PowerLoss()
	l.Close()
	o.FS = fsys.Process()
	equalRecs(t, reopen(t, o, 0), wantRecs(1, 3))
}

// TestOpenRefusesHugeLengthWithoutAllocating is case 6: a length near the
// format limit is rejected before anything that size is allocated.
func TestOpenRefusesHugeLengthWithoutAllocating(t *testing.T) {
	for _, maxRec := range []int{1 << 20, maxFrameBody} {
		fsys := faultfs.New()
		writeFiles(t, fsys, testDir, map[string][]byte{seg1: setWord(full, offs[1], maxFrameBody|typeRecord<<24)})
		o := opts(fsys, SyncAlways)
		o.MaxRecordBytes = maxRec
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		_, err := Open(o, 0, nil)
		runtime.ReadMemStats(&ms1)
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("max %d: err = %v", maxRec, err)
		}
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 1<<20 {
			t.Errorf("max %d: Open allocated %d bytes for a %d-byte log", maxRec, alloc, len(full))
		}
	}
}

func TestOpenLeftovers(t *testing.T) {
	fsys := faultfs.New()
	files := map[string][]byte{
		seg1:                        full,
		segmentName(7) + ".tmp":     []byte("half a header"),
		seg1 + ".broken.tmp":        []byte("half a copy"),
		seg1 + ".broken":            []byte("an old copy"),
		"00000000000000aa.snap.tmp": []byte("another package's file"),
		"README":                    []byte("keep me"),
	}
	writeFiles(t, fsys, testDir, files)
	l, recs := open(t, opts(fsys, SyncAlways), 0)
	must(t, l.Close())
	equalRecs(t, recs, wantRecs(1, 6))
	got := names(folder(t, fsys, testDir))
	if want := "0000000000000001.wal,0000000000000001.wal.broken,00000000000000aa.snap.tmp,README"; got != want {
		t.Fatalf("folder = %s, want %s", got, want)
	}
}

// TestOpenCallbackError: an error from fn stops Open and changes nothing,
// not even a torn tail.
func TestOpenCallbackError(t *testing.T) {
	fsys := faultfs.New()
	writeFiles(t, fsys, testDir, map[string][]byte{seg1: full[:lastStart+3]})
	before := folder(t, fsys, testDir)
	errStop := errors.New("engine refuses")
	_, err := Open(opts(fsys, SyncAlways), 0, func(seq uint64, _ []byte) error {
		if seq == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || !strings.Contains(err.Error(), "record 2") {
		t.Fatalf("err = %v", err)
	}
	sameFolder(t, before, folder(t, fsys, testDir))
}

func TestOpenOptions(t *testing.T) {
	fsys := faultfs.New()
	tests := []Options{
		{},
		{Dir: testDir, FS: fsys, Sync: SyncMode(7)},
		{Dir: testDir, FS: fsys, MaxRecordBytes: maxFrameBody + 1},
		{Dir: testDir, FS: fsys, SegmentBytes: -1},
		{Dir: testDir, FS: fsys, MaxPending: -1},
	}
	for _, o := range tests {
		if _, err := Open(o, 0, nil); !errors.Is(err, ErrOptions) {
			t.Errorf("Open(%+v) err = %v", o, err)
		}
	}
}

func TestParseSyncMode(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want SyncMode
		err  bool
	}{
		{"always", SyncAlways, false}, {"everysec", SyncEverySec, false}, {"no", SyncNo, false},
		{"", 0, true}, {"Always", 0, true}, {"sometimes", 0, true},
	} {
		got, err := ParseSyncMode(tt.in)
		if (err != nil) != tt.err || got != tt.want || (err != nil && !errors.Is(err, ErrOptions)) {
			t.Errorf("ParseSyncMode(%q) = %v, %v", tt.in, got, err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}
