package datadir

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/wal"
)

// TestLock: a folder held by one Open refuses a second (ErrLocked, the
// folder and this pid named), Holder sees the holder without taking
// anything, and Close gives the folder up.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	if _, held, err := Holder(dir); held || err != nil {
		t.Fatalf("fresh folder: held %v, %v", held, err)
	}
	d, _, _, err := Open(Options{Dir: dir, Sync: wal.SyncNo})
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = Open(Options{Dir: dir, Sync: wal.SyncNo})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second Open: %v", err)
	}
	if _, err := Acquire(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("Acquire of a held folder: %v", err)
	}
	if pid, held, err := Holder(dir); !held || pid != os.Getpid() || err != nil {
		t.Fatalf("Holder: %d %v %v", pid, held, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, held, err := Holder(dir); held || err != nil {
		t.Fatalf("after Close: held %v, %v", held, err)
	}
	d, _, _, err = Open(Options{Dir: dir, Sync: wal.SyncNo})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}
