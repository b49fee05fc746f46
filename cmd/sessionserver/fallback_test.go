package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests in this file are issue 10's finding 2 on the real binary: a
// flipped byte in the newest snapshot made the folder unbootable, since
// the log after the older snapshot had been dropped.

// track sends page tracks /p<from> ... /p<to-1> and fails on any refusal.
func track(t *testing.T, c *client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		code, _, err := c.post("/api/pages/track", map[string]any{"app": "fb", "user": "u", "page": fmt.Sprintf("/p%d", i), "timespent": 1})
		if err != nil || code != 200 {
			t.Fatalf("track %d: %d %v", i, code, err)
		}
	}
}

// snapshots lists the snapshot files of dataDir, oldest first.
func snapshots(t *testing.T, dataDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "snap", "*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files) // names sort by sequence
	return files
}

// flip flips one byte in the middle of the file at path.
func flip(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantPages checks that the server holds exactly /p0 ... /p<n-1>, once each.
func wantPages(t *testing.T, p *proc, n int) {
	t.Helper()
	visits := newClient(t, p.addr).pageVisits(t, "fb")
	for i := range n {
		if page := fmt.Sprintf("/p%d", i); visits[page] != 1 {
			t.Errorf("acknowledged track %s has %v visits, want 1", page, visits[page])
		}
	}
	if len(visits) != n {
		t.Errorf("%d pages, want %d", len(visits), n)
	}
}

// twoStops leaves dataDir with two snapshots, each written by a SIGTERM,
// covering 50 and 100 page tracks.
func twoStops(t *testing.T, dir string) {
	t.Helper()
	for i := range 2 {
		p := startProc(t, dir, "-snapshot-interval", "0")
		track(t, newClient(t, p.addr), 50*i, 50*(i+1))
		if err := p.stop(t); err != nil {
			t.Fatalf("SIGTERM: %v\n%s", err, p.logs.String())
		}
	}
	if n := len(snapshots(t, dir)); n != 2 {
		t.Fatalf("%d snapshots, want 2", n)
	}
}

func TestBrokenNewestSnapshotAfterSigterm(t *testing.T) {
	dir := t.TempDir()
	twoStops(t, dir)
	snaps := snapshots(t, dir)
	flip(t, snaps[1])
	code, out := runBinary(t, "verify", "-data-dir", dir)
	if code != 0 || !strings.Contains(out, "recovery: snapshot "+filepath.Base(snaps[0])) || !strings.Contains(out, "nothing is lost") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	p := startProc(t, dir)
	wantPages(t, p, 100)
	if err := p.stop(t); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.logs.String())
	}
	p = startProc(t, dir) // and the folder goes on working
	wantPages(t, p, 100)
}

func TestBrokenNewestSnapshotAfterKill9(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, "-snapshot-interval", "0")
	track(t, newClient(t, p.addr), 0, 50)
	if err := p.stop(t); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.logs.String())
	}
	first := snapshots(t, dir)[0]
	p = startProc(t, dir, "-snapshot-interval", "1s")
	c := newClient(t, p.addr)
	track(t, c, 50, 100)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if s := snapshots(t, dir); s[len(s)-1] != first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no timed snapshot in 30 s\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	track(t, c, 100, 120)
	p.kill()
	snaps := snapshots(t, dir)
	flip(t, snaps[len(snaps)-1])
	p = startProc(t, dir)
	wantPages(t, p, 120)
	if !strings.Contains(p.logs.String(), "broken snapshot set aside") {
		t.Errorf("the start did not say it set the broken snapshot aside:\n%s", p.logs.String())
	}
}

func TestEverySnapshotBrokenRefused(t *testing.T) {
	dir := t.TempDir()
	twoStops(t, dir)
	snaps := snapshots(t, dir)
	for _, s := range snaps {
		flip(t, s)
	}
	code, out := runBinary(t, "verify", "-data-dir", dir)
	if code != 1 || !strings.Contains(out, "none verifies and the log starts at 51") {
		t.Errorf("verify: exit %d\n%s", code, out)
	}
	for range 2 { // the same refusal each time: nothing was renamed
		code, out = runBinary(t, "-addr", "127.0.0.1:0", "-data-dir", dir, "-jwt-secret", testSecret)
		if code == 0 || !strings.Contains(out, "restore a snapshot that verifies") || !strings.Contains(out, filepath.Base(snaps[0])) {
			t.Fatalf("start with both snapshots broken: exit %d\n%s", code, out)
		}
		if got := snapshots(t, dir); !slices.Equal(got, snaps) {
			t.Fatalf("snapshots %v after the refusal, want %v", got, snaps)
		}
	}
}
