package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/snapshot"
)

// filesHolding lists the files of the data folder dir whose bytes hold
// needle, snapshots read decompressed too (a compressed file would hide
// it from a plain grep).
func filesHolding(t *testing.T, dir, needle string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(raw, []byte(needle)) {
			out = append(out, path)
			return nil
		}
		if strings.HasSuffix(path, ".snap") && snapshotHolds(t, path, raw, needle) {
			out = append(out, path+" (decompressed)")
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// snapshotHolds reads the snapshot file alone (copied into a folder of
// its own) and reports whether its state holds needle. A file removed
// meanwhile holds nothing.
func snapshotHolds(t *testing.T, path string, raw []byte, needle string) bool {
	t.Helper()
	tmp := t.TempDir()
	if err := os.WriteFile(filepath.Join(tmp, filepath.Base(path)), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var state []byte
	_, found, err := (&snapshot.Store{Dir: tmp, ReadOnly: true}).Load(func(_ uint64, r io.Reader) error {
		var err error
		state, err = io.ReadAll(r)
		return err
	})
	if err != nil || !found {
		t.Fatalf("snapshot %s unreadable: %v", path, err)
	}
	return bytes.Contains(state, []byte(needle))
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the deadline")
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// snapshotsWritten counts the "snapshot written" lines of a server's log.
func snapshotsWritten(p *proc) int { return strings.Count(p.logs.String(), "snapshot written") }

// TestErasureLeavesNoFile: after a user is erased (and after an app is
// deleted), the next snapshot leaves no file of the data folder holding
// the user's id — no log segment, no older snapshot — while everything
// else stays, also across a restart, and also when the server was killed
// before that snapshot.
func TestErasureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "-snapshot-interval", "1s")
	c := newClient(t, p.addr)
	const victim, other, doomedUser = "erase-me-6c1f0b2a", "keeper-51d2", "only-in-doomed-77ae"
	must := func(code int, data map[string]any, err error) map[string]any {
		t.Helper()
		if err != nil || code != 200 {
			t.Fatalf("%d %v %v", code, data, err)
		}
		return data
	}
	write := func(app, user string, n int) {
		for i := range n {
			id := must(c.post("/api/sessions/start", map[string]any{"app": app, "user": user}))["session_id"]
			if i%2 == 0 {
				must(c.post("/api/sessions/end", map[string]any{"app": app, "user": user, "session_id": id}))
			}
			must(c.post("/api/pages/track", map[string]any{"app": app, "user": user, "page": "/p", "timespent": 2}))
		}
	}
	write("shop", victim, 6)
	write("shop", other, 4)
	write("doomed", doomedUser, 3)
	// Two snapshots, both holding the victim, and log after them.
	for range 2 {
		want := snapshotsWritten(p) + 1
		write("shop", other, 1)
		eventually(t, 30*time.Second, func() bool { return snapshotsWritten(p) >= want })
	}
	write("shop", victim, 2)
	if files := filesHolding(t, dir, victim); len(files) < 2 {
		t.Fatalf("before the erasure the id is in %v: the grep sees too little", files)
	}
	before := c.allSessions(t, "shop")
	data := must(c.post("/api/users/delete", map[string]any{"app": "shop", "user": victim}))
	if data["sessions"] != 8.0 || data["page_tracks"] != 8.0 {
		t.Fatalf("erasure answered %v, want 8 sessions and 8 page tracks", data)
	}
	must(c.post("/api/apps/delete", map[string]any{"app": "doomed"}))
	erased := time.Now()
	eventually(t, 30*time.Second, func() bool {
		return len(filesHolding(t, dir, victim)) == 0 && len(filesHolding(t, dir, doomedUser)) == 0
	})
	t.Logf("no file holds the erased ids %s after the erasure (-snapshot-interval 1s)", time.Since(erased).Round(time.Millisecond))
	kept := 0
	for id, s := range before {
		if s["user"] == other {
			kept++
			if _, ok := c.allSessions(t, "shop")[id]; !ok {
				t.Fatalf("session %s of %s lost", id, other)
			}
		}
	}
	if got := len(c.allSessions(t, "shop")); got != kept {
		t.Fatalf("%d sessions after the erasure, want the %d of %s", got, kept, other)
	}
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}

	// A restart brings back what was kept, not what was erased; then an
	// erasure the server is killed after, before any snapshot.
	p = startProc(t, dir, "-snapshot-interval", "1s")
	c = newClient(t, p.addr)
	if got := len(c.allSessions(t, "shop")); got != kept {
		t.Fatalf("after a restart %d sessions, want %d", got, kept)
	}
	const second = "killed-before-snapshot-9e01"
	write("shop", second, 3)
	want := snapshotsWritten(p) + 1
	eventually(t, 30*time.Second, func() bool { return snapshotsWritten(p) >= want })
	must(c.post("/api/users/delete", map[string]any{"app": "shop", "user": second}))
	p.kill()
	if len(filesHolding(t, dir, second)) == 0 {
		t.Fatal("the killed server left no copy of the id: this case tests nothing")
	}
	p = startProc(t, dir, "-snapshot-interval", "1s")
	c = newClient(t, p.addr)
	write("shop", other, 1) // the next snapshot is due once there is something new
	eventually(t, 30*time.Second, func() bool { return len(filesHolding(t, dir, second)) == 0 })
	if got := len(c.allSessions(t, "shop")); got != kept+1 {
		t.Fatalf("after the kill and restart %d sessions, want %d", got, kept+1)
	}
}
