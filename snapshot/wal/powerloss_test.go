package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// tornKeep returns a PowerLossWith function that keeps a random prefix of
// every file's unsynced appended bytes, sometimes with a zeroed sector in
// it — a torn write. Synced bytes are never touched.
func tornKeep(rng *rand.Rand) func(name string, synced, written []byte) []byte {
	return func(_ string, synced, written []byte) []byte {
		if len(written) <= len(synced) || !bytes.HasPrefix(written, synced) {
			return synced
		}
		cut := len(synced) + rng.IntN(len(written)-len(synced)+1)
		data := written[:cut]
		if rng.IntN(3) == 0 && cut > len(synced) {
			s := (len(synced) + rng.IntN(cut-len(synced))) / 512 * 512
			clear(data[max(s, len(synced)):min(s+512, cut)])
		}
		return data
	}
}

// crashRun appends from several goroutines until a power loss, triggered
// after a random number of acknowledgements or inside a random fsync, and
// returns what was acknowledged (seq -> payload).
func crashRun(t *testing.T, fsys *faultfs.FS, o Options, round int, rng *rand.Rand, acked map[uint64]string) {
	t.Helper()
	l, err := Open(o, 0, nil)
	must(t, err)
	var (
		mu      sync.Mutex
		once    sync.Once
		acks    atomic.Int64
		syncs   atomic.Int64
		ackAt   = int64(1 + rng.IntN(300))
		syncAt  = int64(1 + rng.IntN(100))
		keep    = tornKeep(rng)
		crash   = func() { once.Do(func() { fsys.PowerLossWith(keep) }) }
		wg      sync.WaitGroup
		writers = 1 + rng.IntN(8)
	)
	fsys.SetSyncHook(func(string) {
		if syncs.Add(1) == syncAt {
			crash() // the power fails inside this fsync
		}
	})
	for g := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("r%d-g%d-%d", round, g, i)
				seq, err := l.Append([]byte(p))
				if err != nil {
					return
				}
				mu.Lock()
				acked[seq] = p
				mu.Unlock()
				if acks.Add(1) == ackAt {
					crash()
				}
			}
		})
	}
	wg.Wait()
	fsys.SetSyncHook(nil)
	l.Close() // the process is dead; its errors do not matter
}

// TestPowerLoss is case 25: under SyncAlways, with power lost at random
// moments (torn writes, crashes inside fsync, during rotations), every
// acknowledged record survives with its sequence, exactly once, and the
// folder always opens. Each seed runs three crash-and-recover rounds.
func TestPowerLoss(t *testing.T) {
	seeds := 100
	if testing.Short() {
		seeds = 10
	}
	acks, cuts := 0, 0
	for seed := range seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 25))
		fsys := faultfs.New()
		acked := map[uint64]string{}
		for round := range 3 {
			o := opts(fsys.Process(), SyncAlways)
			o.SegmentBytes = int64(256 + rng.IntN(2048))
			crashRun(t, fsys, o, round, rng, acked)
			o.FS = fsys.Process()
			var c collector
			l, err := Open(o, 0, c.fn)
			if err != nil {
				t.Fatalf("seed %d round %d: the folder does not open: %v", seed, round, err)
			}
			must(t, l.Close())
			checkSurvivors(t, fmt.Sprintf("seed %d round %d", seed, round), c.recs, acked)
		}
		acks += len(acked)
		for name := range folder(t, fsys, testDir) {
			if strings.HasSuffix(name, brokenExt) {
				cuts++
			}
		}
	}
	t.Logf("%d seeds: %d acknowledged records checked, %d torn tails cut", seeds, acks, cuts)
	if cuts == 0 || acks < 10*seeds {
		t.Fatalf("the test no longer exercises torn tails (%d) or enough records (%d)", cuts, acks)
	}
}

// TestProcessCrash: a killed process (no power loss) loses nothing
// acknowledged in any mode, and the log opens.
func TestProcessCrash(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := faultfs.New()
			o := opts(fsys.Process(), mode)
			o.SegmentBytes = 512
			l, _ := open(t, o, 0)
			var (
				mu    sync.Mutex
				acked = map[uint64]string{}
				wg    sync.WaitGroup
				n     atomic.Int64
			)
			for g := range 8 {
				wg.Go(func() {
					for i := 0; ; i++ {
						p := fmt.Sprintf("g%d-%d", g, i)
						seq, err := l.Append([]byte(p))
						if err != nil {
							return
						}
						mu.Lock()
						acked[seq] = p
						mu.Unlock()
						if n.Add(1) == 500 {
							fsys.Crash()
						}
					}
				})
			}
			wg.Wait()
			l.Close()
			o.FS = fsys.Process()
			checkSurvivors(t, mode.String(), reopen(t, o, 0), acked)
		})
	}
}

// checkSurvivors: sequences are 1..n without holes, no payload twice, and
// every acknowledged record is there with its sequence.
func checkSurvivors(t *testing.T, what string, got []rec, acked map[uint64]string) {
	t.Helper()
	checkSequences(t, what, got)
	for seq, p := range acked {
		if seq > uint64(len(got)) || got[seq-1].payload != p {
			t.Fatalf("%s: acknowledged record %d %q lost (%d recovered)", what, seq, p, len(got))
		}
	}
}

// checkSequences: the sequences of got are 1..n without holes and no
// payload is there twice.
func checkSequences(t *testing.T, what string, got []rec) {
	t.Helper()
	seen := map[string]bool{}
	for i, r := range got {
		if r.seq != uint64(i+1) {
			t.Fatalf("%s: record %d has sequence %d", what, i, r.seq)
		}
		if seen[r.payload] {
			t.Fatalf("%s: %q recovered twice", what, r.payload)
		}
		seen[r.payload] = true
	}
}

// TestPowerLossEveryMode: without SyncAlways a power loss may lose recent
// records, but the log must still open: sealed segments are fsynced before
// a later one exists, so no hole opens between segments.
func TestPowerLossEveryMode(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			fsys := faultfs.New()
			o := opts(fsys.Process(), mode)
			o.SegmentBytes = 200
			l, _ := open(t, o, 0)
			appendRange(t, l, 1, 40) // many rotations, few fsyncs
			fsys.PowerLoss()
			l.Close()
			o.FS = fsys.Process()
			got := reopen(t, o, 0)
			if len(got) < 30 { // everything but the active segment survives
				t.Fatalf("only %d of 40 records survived", len(got))
			}
			equalRecs(t, got, wantRecs(1, len(got)))
		})
	}
}

// holeKeep returns a PowerLossWith function that keeps every file's
// written bytes but loses one random sector of those written since the
// last fsync (zeroed, as a disk that wrote later sectors first leaves it),
// sometimes also cutting the tail at a random point after the hole.
func holeKeep(rng *rand.Rand) func(name string, synced, written []byte) []byte {
	return func(_ string, synced, written []byte) []byte {
		if len(written) <= len(synced) || !bytes.HasPrefix(written, synced) {
			return synced
		}
		s := (len(synced) + rng.IntN(len(written)-len(synced))) / 512 * 512
		data := written
		if rng.IntN(2) == 0 {
			data = written[:max(len(synced), s+rng.IntN(len(written)-s)+1)]
		}
		lo := max(s, len(synced))
		clear(data[lo:max(lo, min(s+512, len(data)))])
		return data
	}
}

// TestPowerLossHoles: under SyncEverySec and SyncNo a power loss may keep
// bytes written after the last fsync and lose earlier ones (a hole with
// valid batches after it). The folder must still open on its own, keeping
// every record written before the last fsync that returned, and nothing
// else than acknowledged records, each with its sequence.
func TestPowerLossHoles(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 10
	}
	holes := 0
	for _, mode := range []SyncMode{SyncEverySec, SyncNo} {
		for seed := range seeds {
			rng := rand.New(rand.NewPCG(uint64(seed), 26))
			fsys := faultfs.New()
			o := opts(fsys.Process(), mode)
			o.SegmentBytes = int64(4096 + rng.IntN(16384))
			l, _ := open(t, o, 0)
			acked, durable := map[uint64]string{}, uint64(0)
			for i := range 100 + rng.IntN(400) {
				p := fmt.Sprintf("s%d-%d", seed, i)
				seq, err := l.Append([]byte(p))
				must(t, err)
				acked[seq] = p
				if rng.IntN(40) == 0 { // now and then, as the timed fsync does
					must(t, l.Sync())
					durable = seq
				}
			}
			fsys.PowerLossWith(holeKeep(rng))
			l.Close()
			o.FS = fsys.Process()
			what := fmt.Sprintf("%s seed %d", mode, seed)
			rep, err := Verify(o.FS, testDir)
			if err != nil {
				t.Fatalf("%s: Verify: %v", what, err)
			}
			if rep.Torn != nil && strings.Contains(rep.Torn.Reason, "after the last fsync") {
				holes++
			}
			var c collector
			l, err = Open(o, 0, c.fn)
			if err != nil {
				t.Fatalf("%s: the folder does not open: %v", what, err)
			}
			must(t, l.Close())
			if uint64(len(c.recs)) < durable {
				t.Fatalf("%s: %d records recovered, but %d were fsynced", what, len(c.recs), durable)
			}
			for i, r := range c.recs {
				if r.seq != uint64(i+1) || acked[r.seq] != r.payload {
					t.Fatalf("%s: recovered %v, acknowledged %q", what, r, acked[r.seq])
				}
			}
		}
	}
	t.Logf("%d of %d power losses left a hole before valid batches", holes, 2*seeds)
	if holes == 0 {
		t.Fatal("the test no longer makes holes before valid batches")
	}
}

// TestHoleInSyncedBytesIsCorrupt: damage that a later batch states was
// fsynced is not a torn tail, even in the last segment under SyncEverySec:
// Open refuses it and changes nothing.
func TestHoleInSyncedBytesIsCorrupt(t *testing.T) {
	fsys := faultfs.New()
	o := opts(fsys.Process(), SyncEverySec)
	l, _ := open(t, o, 0)
	appendRange(t, l, 1, 10)
	must(t, l.Sync())
	appendRange(t, l, 11, 12) // its commit states that records 1 to 10 are fsynced
	must(t, l.Close())
	files := folder(t, fsys, testDir)
	data := []byte(files[seg1])
	data[headerLen+frameHeaderLen] ^= 0xff // in the first record
	writeFiles(t, fsys, testDir, map[string][]byte{seg1: data})
	_, err := Open(o, 0, nil)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != headerLen {
		t.Fatalf("err = %v, want a CorruptError at offset %d", err, headerLen)
	}
	if got := folder(t, fsys, testDir)[seg1]; got != string(data) {
		t.Fatal("Open changed the segment it refused")
	}
}
