package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// runBinary runs the built binary with args and returns its exit code and
// output.
func runBinary(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// segments lists the log segments of dataDir, oldest first.
func segments(t *testing.T, dataDir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dataDir, "wal", "*.wal"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// startsThenKill runs the server on dir with -fsync fsync and no snapshot
// timer, starts n sessions, kills it (no final snapshot: everything is in
// the log) and returns the last log segment and its bytes.
func startsThenKill(t *testing.T, dir string, n int, fsync string) (string, []byte) {
	t.Helper()
	p := startProc(t, dir, "-snapshot-interval", "0", "-fsync", fsync)
	c := newClient(t, p.addr)
	for range n {
		if code, _, err := c.post("/api/sessions/start", map[string]any{"app": "v", "user": "ann"}); err != nil || code != 200 {
			t.Fatalf("start: %d %v", code, err)
		}
	}
	p.kill()
	segs := segments(t, dir)
	if len(segs) == 0 {
		t.Fatal("no log segment")
	}
	seg := segs[len(segs)-1]
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	return seg, data
}

// TestVerifyAndRepair: verify reports a healthy folder (exit 0), damage in
// the middle of the log (exit 1, file named, nothing changed) and a broken
// snapshot; repair cuts the log so that the server starts again. The log is
// written with -fsync always, so that each batch states that the ones
// before it were fsynced: damage there is corruption, not the unsynced
// end a power loss leaves (which a start cuts on its own).
func TestVerifyAndRepair(t *testing.T) {
	dir := t.TempDir()
	seg, data := startsThenKill(t, dir, 40, "always")
	if code, out := runBinary(t, "verify", "-data-dir", dir); code != 0 || !strings.Contains(out, "ok: a start would recover") {
		t.Fatalf("verify of a healthy folder: exit %d\n%s", code, out)
	}
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)/3] ^= 0xff // a flipped byte with valid records after it
	if err := os.WriteFile(seg, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runBinary(t, "verify", "-data-dir", dir)
	if code != 1 || !strings.Contains(out, "DAMAGED") || !strings.Contains(out, filepath.Base(seg)) {
		t.Fatalf("verify of a damaged log: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(seg); !bytes.Equal(after, damaged) {
		t.Fatal("verify changed the log")
	}
	// A start refuses, naming the file, and deletes nothing.
	start := exec.Command(binary(t), "-addr", "127.0.0.1:0", "-data-dir", dir, "-jwt-secret", testSecret)
	startOut, _ := start.CombinedOutput()
	if start.ProcessState.ExitCode() == 0 || !strings.Contains(string(startOut), filepath.Base(seg)) ||
		!strings.Contains(string(startOut), "sessionserver repair -data-dir "+dir) {
		t.Fatalf("start on a damaged log: exit %d\n%s", start.ProcessState.ExitCode(), startOut)
	}
	if code, out := runBinary(t, "repair", "-data-dir", dir); code != 0 || !strings.Contains(out, "repair:") {
		t.Fatalf("repair: exit %d\n%s", code, out)
	}
	if broken, _ := filepath.Glob(filepath.Join(dir, "wal", "*.broken")); len(broken) == 0 {
		t.Fatal("repair kept no .broken copy")
	}
	p2 := startProc(t, dir) // healthy: recovered what the repair kept
	if code, _, err := newClient(t, p2.addr).post("/api/sessions/stats", map[string]any{"app": "v"}); err != nil || code != 200 {
		t.Fatalf("stats after repair: %d %v", code, err)
	}
	if err := p2.stop(t); err != nil {
		t.Fatalf("SIGTERM after repair: %v", err)
	}
	// A broken newest snapshot is reported, and the older one is used.
	snaps, _ := filepath.Glob(filepath.Join(dir, "snap", "*.snap"))
	if len(snaps) == 0 {
		t.Fatal("no snapshot after SIGTERM")
	}
	sort.Strings(snaps)
	newest := snaps[len(snaps)-1]
	if err := os.WriteFile(newest, []byte("not a snapshot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runBinary(t, "verify", "-data-dir", dir); !strings.Contains(out, "BROKEN") {
		t.Fatalf("verify of a broken snapshot: exit %d\n%s", code, out)
	}
}

// TestUnsyncedHoleIsCut: a power loss may keep later bytes of the log and
// lose earlier ones that were never fsynced (-fsync everysec or no). Such a
// hole, with valid batches after it, is cut at the start with a warning and
// a .broken copy, as a torn tail is: the server starts on its own. Here the
// server runs with -fsync no, so nothing after the segment's header was
// ever fsynced, and a zeroed sector in the middle of the log is the hole.
func TestUnsyncedHoleIsCut(t *testing.T) {
	dir := t.TempDir()
	seg, data := startsThenKill(t, dir, 60, "no")
	at := len(data) / 2 / 512 * 512
	clear(data[at : at+512])
	if err := os.WriteFile(seg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runBinary(t, "verify", "-data-dir", dir)
	if code != 0 || !strings.Contains(out, "after the last fsync") {
		t.Fatalf("verify of a log with an unsynced hole: exit %d\n%s", code, out)
	}
	p2 := startProc(t, dir, "-snapshot-interval", "0")
	if !strings.Contains(p2.logs.String(), "cut a torn tail") {
		t.Fatalf("no warning about the cut\n%s", p2.logs.String())
	}
	if broken, _ := filepath.Glob(filepath.Join(dir, "wal", "*.broken")); len(broken) != 1 {
		t.Fatalf(".broken copies: %v", broken)
	}
	c2 := newClient(t, p2.addr)
	code, body, err := c2.post("/api/sessions/stats", map[string]any{"app": "v"})
	if err != nil || code != 200 {
		t.Fatalf("stats: %d %v", code, err)
	}
	if n, _ := body["total_sessions"].(float64); n <= 0 || n >= 60 {
		t.Fatalf("%v sessions after the cut, want some of the 60 but not all\n%v", body["total_sessions"], body)
	}
	if code, _, err := c2.post("/api/sessions/start", map[string]any{"app": "v", "user": "ann"}); err != nil || code != 200 {
		t.Fatalf("start after the cut: %d %v", code, err)
	}
	if err := p2.stop(t); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}
