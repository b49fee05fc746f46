package snapshot

import (
	"errors"
	"io"
	"io/fs"
	"strings"
	"sync"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// newPowerFS is a faultfs with a durable /data folder.
func newPowerFS(t *testing.T) *faultfs.FS {
	t.Helper()
	fsys := faultfs.New()
	if err := fsys.MkdirAll("/data", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := fsys.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	return fsys
}

// DURABILITY.md case 22: with a power loss right after Save returns, the
// snapshot is there (file fsynced, folder fsynced after the rename), and so
// is the pruning's effect on what Load picks.
func TestPowerLossAfterSave(t *testing.T) {
	for _, keep := range []int{1, 2} {
		fsys := newPowerFS(t)
		st := &Store{Dir: "/data", FS: fsys, Keep: keep}
		save(t, st, 1, []byte("first"))
		second := save(t, st, 2, realisticBytes(200<<10, 13))
		fsys.PowerLoss()
		after := &Store{Dir: "/data", FS: fsys, Keep: keep}
		seq, got, info, found, err := load(after)
		if err != nil || !found || seq != 2 || info != second || string(got) != string(realisticBytes(200<<10, 13)) {
			t.Fatalf("Keep=%d, after power loss: seq %d, %d bytes, %+v, %v, %v", keep, seq, len(got), info, found, err)
		}
		if list, _ := after.List(); len(list) != keep {
			t.Errorf("Keep=%d: %d snapshots after power loss", keep, len(list))
		}
	}
}

// A power loss at each step of a Save (DURABILITY.md case 17, for the
// snapshot half): after the restart Load finds the old snapshot or the new
// one, whole, never an error, never a leftover; and the new one once the
// folder fsync has happened.
func TestPowerLossDuringSave(t *testing.T) {
	tests := []struct {
		cutBefore string // the operation the power goes before
		nth       int    // which occurrence of it, from 1
		wantSeq   uint64
	}{
		{"open", 1, 1},    // before the temp file exists
		{"write", 2, 1},   // in the middle of the body
		{"sync", 1, 1},    // before the temp file's fsync
		{"rename", 1, 1},  // temp file durable, not renamed
		{"syncdir", 1, 1}, // renamed, rename not durable
		{"remove", 1, 2},  // durable; pruning not begun
		{"syncdir", 2, 2}, // pruned, pruning not durable
	}
	payload := realisticBytes(4<<20, 14) // about four 256 KiB writes
	for _, tt := range tests {
		t.Run(tt.cutBefore, func(t *testing.T) {
			fsys := newPowerFS(t)
			st := &Store{Dir: "/data", FS: fsys, Keep: 1}
			save(t, st, 1, []byte("old state"))
			cut := &powerCut{FS: fsys, op: tt.cutBefore, nth: tt.nth}
			st.FS = cut
			_, err := st.Save(2, func(w io.Writer) error { return writeChunks(w, payload, 64<<10) })
			if !cut.fired() {
				t.Fatalf("power never cut (Save err %v)", err)
			}
			if err == nil && tt.wantSeq == 1 {
				t.Fatalf("Save acknowledged a snapshot a power loss took away")
			}
			after := &Store{Dir: "/data", FS: fsys}
			seq, got, _, found, err := load(after)
			want := map[uint64]string{1: "old state", 2: string(payload)}[tt.wantSeq]
			if err != nil || !found || seq != tt.wantSeq || string(got) != want {
				t.Fatalf("after restart: seq %d, %d bytes, %v, %v; want seq %d", seq, len(got), found, err, tt.wantSeq)
			}
			entries, err := fsys.ReadDir("/data")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), tmpExt) {
					t.Errorf("leftover %s after Load", e.Name())
				}
			}
		})
	}
}

// powerCut passes calls to a faultfs until the nth call of op, which it
// replaces by a power loss; from then on every call fails, as the process
// that made it is gone.
type powerCut struct {
	*faultfs.FS
	op  string
	nth int

	mu   sync.Mutex
	seen int
	dead bool
}

var errPowerLost = errors.New("power lost")

func (p *powerCut) at(op string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		return errPowerLost
	}
	if op == p.op {
		if p.seen++; p.seen == p.nth {
			p.dead = true
			p.FS.PowerLoss()
			return errPowerLost
		}
	}
	return nil
}

func (p *powerCut) fired() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead
}

func (p *powerCut) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	if err := p.at("open"); err != nil {
		return nil, err
	}
	f, err := p.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &cutFile{File: f, p: p}, nil
}

func (p *powerCut) Rename(o, n string) error {
	if err := p.at("rename"); err != nil {
		return err
	}
	return p.FS.Rename(o, n)
}

func (p *powerCut) Remove(name string) error {
	if err := p.at("remove"); err != nil {
		return err
	}
	return p.FS.Remove(name)
}

func (p *powerCut) SyncDir(dir string) error {
	if err := p.at("syncdir"); err != nil {
		return err
	}
	return p.FS.SyncDir(dir)
}

type cutFile struct {
	vfs.File
	p *powerCut
}

func (f *cutFile) Write(b []byte) (int, error) {
	if err := f.p.at("write"); err != nil {
		return 0, err
	}
	return f.File.Write(b)
}

func (f *cutFile) Sync() error {
	if err := f.p.at("sync"); err != nil {
		return err
	}
	return f.File.Sync()
}
