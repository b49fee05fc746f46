package wal

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// TestKillMidWriteProperty: a log on real files, killed again and again
// in the middle of a write — the last segment cut at a random byte among
// the bytes of writes never acknowledged, batches of many records (written
// by concurrent appenders) torn anywhere, also on a 4 KiB page boundary as
// a write interrupted in the kernel leaves it — then reopened after a
// random snapshot sequence, appended to and reopened again. Every time:
// the records are exactly 1..n, each once with the payload Append gave
// that sequence, every acknowledged one among them; Open after a snapshot
// delivers exactly those above it, and ReadRange of the sealed segments
// exactly the range asked for.
func TestKillMidWriteProperty(t *testing.T) {
	seeds, rounds := 6, 15
	if testing.Short() {
		seeds, rounds = 4, 8
	}
	var acked, cuts, pageCuts, records int
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 3))
		o := Options{Dir: filepath.Join(t.TempDir(), "wal"), FS: vfs.OS{}, Sync: []SyncMode{SyncEverySec, SyncNo, SyncEverySec, SyncAlways}[seed%4],
			SegmentBytes: int64(1024 + rng.IntN(16<<10))}
		log := map[uint64]string{} // every record recovered or acknowledged, by sequence
		mustHave := uint64(0)      // the last sequence acknowledged or recovered
		for round := range rounds {
			what := fmt.Sprintf("seed %d round %d", seed, round)
			got := reopen(t, o, 0)
			checkRecovered(t, what, got, log, mustHave)
			for _, r := range got {
				log[r.seq] = r.payload
			}
			last := uint64(len(got))
			mustHave = last
			records += len(got)
			if last > 0 { // a snapshot at a random sequence: Open delivers what is above it
				after := rng.Uint64N(last + 1)
				equalRecs(t, reopen(t, o, after), got[after:])
			}
			l, _ := open(t, o, 0)
			for i := range rng.IntN(40) {
				p := fmt.Sprintf("s%d-r%d-a%d", seed, round, i)
				seq, err := l.Append([]byte(p))
				must(t, err)
				log[seq], mustHave = p, seq
				acked++
			}
			if rng.IntN(3) == 0 { // seal, then check ReadRange of everything sealed
				through, err := l.Rotate()
				must(t, err)
				from := rng.Uint64N(through + 1)
				var rr collector
				must(t, ReadRange(o.FS, o.Dir, from, through, rr.fn))
				var want []rec
				for s := from + 1; s <= through; s++ {
					want = append(want, rec{s, log[s]})
				}
				equalRecs(t, rr.recs, want)
			}
			seg, size := lastSegmentOf(t, o.Dir)
			// Appenders in flight when the process dies: batches of many records.
			var wg sync.WaitGroup
			var mu sync.Mutex
			pending := map[uint64]string{}
			for g := range 1 + rng.IntN(8) {
				n, pad := rng.IntN(6), strings.Repeat("x", rng.IntN(700)) // batches across pages
				wg.Go(func() {
					for i := range n {
						p := fmt.Sprintf("s%d-r%d-g%d-%d%s", seed, round, g, i, pad)
						seq, err := l.Append([]byte(p))
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						pending[seq] = p
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			must(t, l.Close()) // the process is gone: nothing more is written
			seg2, size2 := lastSegmentOf(t, o.Dir)
			from := size
			if seg2 != seg {
				from = headerLen // a segment exists only with its whole header
			}
			cut := from + rng.Int64N(size2-from+1)
			if page := (from + 4095) &^ 4095; rng.IntN(3) == 0 && page < size2 {
				cut = page // a write interrupted in the kernel between two pages
				pageCuts++
			}
			if cut < size2 {
				cuts++
			}
			must(t, os.Truncate(seg2, cut))
			for seq, p := range pending {
				log[seq] = p // what survives is recovered, a prefix of them
			}
		}
	}
	t.Logf("%d seeds x %d kills: %d records acknowledged, %d recovered over all restarts, %d tails torn (%d on a page boundary)",
		seeds, rounds, acked, records, cuts, pageCuts)
}

// checkRecovered: sequences 1..n without holes, each payload the one
// Append gave that sequence (no record twice, none changed), every
// acknowledged one there.
func checkRecovered(t *testing.T, what string, got []rec, log map[uint64]string, mustHave uint64) {
	t.Helper()
	checkSequences(t, what, got)
	for _, r := range got {
		if want, ok := log[r.seq]; !ok || want != r.payload {
			t.Fatalf("%s: record %d is %q, Append gave it %q", what, r.seq, r.payload, want)
		}
	}
	if uint64(len(got)) < mustHave {
		t.Fatalf("%s: %d records recovered, %d were acknowledged", what, len(got), mustHave)
	}
}

// lastSegmentOf returns the path and size of the last segment in dir.
func lastSegmentOf(t *testing.T, dir string) (string, int64) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil || len(names) == 0 {
		t.Fatalf("no segment in %s: %v", dir, err)
	}
	slices.Sort(names)
	fi, err := os.Stat(names[len(names)-1])
	must(t, err)
	return names[len(names)-1], fi.Size()
}
