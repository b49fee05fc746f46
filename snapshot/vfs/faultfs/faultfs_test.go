package faultfs_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/vfs/faultfs"
)

// newFS returns a filesystem with a durable folder /d.
func newFS(t *testing.T) *faultfs.FS {
	t.Helper()
	f := faultfs.New()
	must(t, f.MkdirAll("/d", 0o755))
	must(t, f.SyncDir("/"))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeFile creates name with data; sync says whether to fsync the file.
func writeFile(t *testing.T, f *faultfs.FS, name, data string, sync bool) {
	t.Helper()
	h, err := f.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	must(t, err)
	_, err = io.WriteString(h, data)
	must(t, err)
	if sync {
		must(t, h.Sync())
	}
	must(t, h.Close())
}

// content reads a file, or returns "<absent>".
func content(t *testing.T, f *faultfs.FS, name string) string {
	t.Helper()
	b, err := vfs.ReadFile(f, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "<absent>"
	}
	must(t, err)
	return string(b)
}

func TestPowerLoss(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, f *faultfs.FS)
		want  map[string]string // file -> content after the power loss
	}{
		{"written, not synced, folder not synced", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", false)
		}, map[string]string{"/d/a": "<absent>"}},
		{"file synced, folder not synced", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", true)
		}, map[string]string{"/d/a": "<absent>"}},
		{"folder synced, file not synced", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", false)
			must(t, f.SyncDir("/d"))
		}, map[string]string{"/d/a": ""}},
		{"both synced", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", true)
			must(t, f.SyncDir("/d"))
		}, map[string]string{"/d/a": "hello"}},
		{"append after sync is lost", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", true)
			must(t, f.SyncDir("/d"))
			h, err := f.OpenFile("/d/a", os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = h.Write([]byte(" world"))
			must(t, err)
		}, map[string]string{"/d/a": "hello"}},
		{"truncate not synced is undone", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", true)
			must(t, f.SyncDir("/d"))
			h, err := f.OpenFile("/d/a", os.O_WRONLY, 0)
			must(t, err)
			must(t, h.Truncate(2))
		}, map[string]string{"/d/a": "hello"}},
		{"truncate synced stays", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "hello", true)
			must(t, f.SyncDir("/d"))
			h, err := f.OpenFile("/d/a", os.O_RDWR, 0)
			must(t, err)
			must(t, h.Truncate(2))
			_, err = h.Seek(0, io.SeekEnd)
			must(t, err)
			_, err = h.Write([]byte("y!"))
			must(t, err)
			must(t, h.Sync())
		}, map[string]string{"/d/a": "hey!"}},
		{"rename not synced is undone", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a.tmp", "new", true)
			writeFile(t, f, "/d/a", "old", true)
			must(t, f.SyncDir("/d"))
			must(t, f.Rename("/d/a.tmp", "/d/a"))
		}, map[string]string{"/d/a": "old", "/d/a.tmp": "new"}},
		{"rename synced stays", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a.tmp", "new", true)
			writeFile(t, f, "/d/a", "old", true)
			must(t, f.SyncDir("/d"))
			must(t, f.Rename("/d/a.tmp", "/d/a"))
			must(t, f.SyncDir("/d"))
		}, map[string]string{"/d/a": "new", "/d/a.tmp": "<absent>"}},
		{"remove not synced is undone", func(t *testing.T, f *faultfs.FS) {
			writeFile(t, f, "/d/a", "x", true)
			must(t, f.SyncDir("/d"))
			must(t, f.Remove("/d/a"))
		}, map[string]string{"/d/a": "x"}},
		{"new folder needs its parent synced", func(t *testing.T, f *faultfs.FS) {
			must(t, f.MkdirAll("/d/sub", 0o755))
			writeFile(t, f, "/d/sub/a", "x", true)
			must(t, f.SyncDir("/d/sub"))
		}, map[string]string{"/d/sub/a": "<absent>"}},
		{"new folder with parent synced", func(t *testing.T, f *faultfs.FS) {
			must(t, f.MkdirAll("/d/sub", 0o755))
			must(t, f.SyncDir("/d"))
			writeFile(t, f, "/d/sub/a", "x", true)
			must(t, f.SyncDir("/d/sub"))
		}, map[string]string{"/d/sub/a": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFS(t)
			tt.setup(t, f)
			f.PowerLoss()
			for name, want := range tt.want {
				if got := content(t, f, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestPowerLossWithTornTail(t *testing.T) {
	f := newFS(t)
	writeFile(t, f, "/d/a", "12345", true)
	must(t, f.SyncDir("/d"))
	h, err := f.OpenFile("/d/a", os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = h.Write([]byte("67890"))
	must(t, err)
	f.PowerLossWith(func(name string, synced, written []byte) []byte {
		if name != "/d/a" || string(synced) != "12345" || string(written) != "1234567890" {
			t.Errorf("keep(%q, %q, %q)", name, synced, written)
		}
		return written[:7]
	})
	if got := content(t, f, "/d/a"); got != "1234567" {
		t.Fatalf("content = %q", got)
	}
	if got, _ := f.SyncedContent("/d/a"); string(got) != "1234567" {
		t.Fatalf("synced = %q", got)
	}
}

func TestStaleHandles(t *testing.T) {
	for _, crash := range []struct {
		name     string
		do       func(*faultfs.FS)
		wantData string
	}{
		{"power loss", (*faultfs.FS).PowerLoss, ""},
		{"crash", (*faultfs.FS).Crash, "abc"},
	} {
		t.Run(crash.name, func(t *testing.T) {
			f := newFS(t)
			h, err := f.OpenFile("/d/a", os.O_CREATE|os.O_RDWR, 0o600)
			must(t, err)
			must(t, f.SyncDir("/d"))
			_, err = h.Write([]byte("abc"))
			must(t, err)
			crash.do(f)
			if _, err := h.Write([]byte("x")); !errors.Is(err, faultfs.ErrStale) {
				t.Errorf("write after crash: %v", err)
			}
			if err := h.Sync(); !errors.Is(err, faultfs.ErrStale) {
				t.Errorf("sync after crash: %v", err)
			}
			if got := content(t, f, "/d/a"); got != crash.wantData {
				t.Errorf("content = %q, want %q", got, crash.wantData)
			}
		})
	}
}

func TestOpenFlags(t *testing.T) {
	f := newFS(t)
	writeFile(t, f, "/d/a", "hello", false)
	tests := []struct {
		name    string
		file    string
		flag    int
		wantErr error
	}{
		{"excl on existing", "/d/a", os.O_CREATE | os.O_EXCL | os.O_WRONLY, fs.ErrExist},
		{"missing without create", "/d/b", os.O_RDONLY, fs.ErrNotExist},
		{"missing folder", "/nope/b", os.O_CREATE | os.O_WRONLY, fs.ErrNotExist},
		{"folder", "/d", os.O_RDONLY, syscall.EISDIR},
		{"read existing", "/d/a", os.O_RDONLY, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := f.OpenFile(tt.file, tt.flag, 0o600)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if h != nil {
				must(t, h.Close())
			}
		})
	}
	h, err := f.OpenFile("/d/a", os.O_RDONLY, 0)
	must(t, err)
	if _, err := h.Write([]byte("x")); !errors.Is(err, syscall.EBADF) {
		t.Errorf("write on read-only handle: %v", err)
	}
	buf := make([]byte, 10)
	if n, err := h.ReadAt(buf, 3); n != 2 || err != io.EOF {
		t.Errorf("ReadAt = %d, %v", n, err)
	}
	must(t, h.Close())
	if err := h.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
	writeFile(t, f, "/d/a", "x", false) // O_TRUNC
	if got := content(t, f, "/d/a"); got != "x" {
		t.Errorf("after O_TRUNC: %q", got)
	}
}

func TestDirOps(t *testing.T) {
	f := newFS(t)
	for _, n := range []string{"c", "a", "b"} {
		writeFile(t, f, "/d/"+n, n+n, false)
	}
	must(t, f.MkdirAll("/d/sub/deeper", 0o755))
	ents, err := f.ReadDir("/d")
	must(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, fmt.Sprintf("%s:%v", e.Name(), e.IsDir()))
	}
	if got := strings.Join(names, ","); got != "a:false,b:false,c:false,sub:true" {
		t.Errorf("ReadDir = %s", got)
	}
	st, err := f.Stat("/d/b")
	must(t, err)
	if st.Size() != 2 || st.Name() != "b" || st.IsDir() {
		t.Errorf("Stat = %v %v %v", st.Name(), st.Size(), st.IsDir())
	}
	if err := f.Remove("/d/sub"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("remove non-empty folder: %v", err)
	}
	if err := f.Rename("/d/a", "/d/sub"); err == nil {
		t.Error("rename over a folder succeeded")
	}
	if _, err := f.Stat("d/a"); err != nil {
		t.Errorf("relative path: %v", err)
	}
	if err := f.Remove("/d/zz"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("remove missing: %v", err)
	}
}

func TestDiskFullAndShortWrite(t *testing.T) {
	tests := []struct {
		name    string
		arm     func(*faultfs.FS)
		writes  []string
		wantN   []int
		wantErr []error
		want    string
	}{
		{"disk full partial", func(f *faultfs.FS) { f.SetDiskFull(5) },
			[]string{"abc", "defg", "h"}, []int{3, 2, 0},
			[]error{nil, syscall.ENOSPC, syscall.ENOSPC}, "abcde"},
		{"disk full then cleared", func(f *faultfs.FS) { f.SetDiskFull(0) },
			[]string{"abc"}, []int{0}, []error{syscall.ENOSPC}, ""},
		{"short write once", func(f *faultfs.FS) { f.ShortWrite(2) },
			[]string{"abcd", "ef"}, []int{2, 2}, []error{io.ErrShortWrite, nil}, "abef"},
		{"write failure writes nothing", func(f *faultfs.FS) { f.Fail(faultfs.OpWrite, 1, syscall.EIO) },
			[]string{"abc", "d"}, []int{0, 1}, []error{syscall.EIO, nil}, "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFS(t)
			h, err := f.OpenFile("/d/a", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			must(t, err)
			tt.arm(f)
			for i, w := range tt.writes {
				n, err := h.Write([]byte(w))
				if n != tt.wantN[i] || !errors.Is(err, tt.wantErr[i]) || (err == nil) != (tt.wantErr[i] == nil) {
					t.Errorf("write %d = %d, %v; want %d, %v", i, n, err, tt.wantN[i], tt.wantErr[i])
				}
			}
			if got := content(t, f, "/d/a"); got != tt.want {
				t.Errorf("content = %q, want %q", got, tt.want)
			}
			f.ClearDiskFull()
			if _, err := h.Write([]byte("!")); err != nil {
				t.Errorf("write after clearing: %v", err)
			}
		})
	}
}

func TestFailOps(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		op   faultfs.Op
		call func(f *faultfs.FS, h vfs.File) error
	}{
		{"sync", faultfs.OpSync, func(f *faultfs.FS, h vfs.File) error { return h.Sync() }},
		{"syncdir", faultfs.OpSyncDir, func(f *faultfs.FS, h vfs.File) error { return f.SyncDir("/d") }},
		{"rename", faultfs.OpRename, func(f *faultfs.FS, h vfs.File) error { return f.Rename("/d/a", "/d/b") }},
		{"remove", faultfs.OpRemove, func(f *faultfs.FS, h vfs.File) error { return f.Remove("/d/a") }},
		{"truncate", faultfs.OpTruncate, func(f *faultfs.FS, h vfs.File) error { return h.Truncate(0) }},
		{"open", faultfs.OpOpen, func(f *faultfs.FS, h vfs.File) error {
			g, err := f.OpenFile("/d/a", os.O_RDONLY, 0)
			if err == nil {
				g.Close()
			}
			return err
		}},
	}
	for _, tt := range tests {
		for _, times := range []int{1, 2, -1} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, times), func(t *testing.T) {
				f := newFS(t)
				writeFile(t, f, "/d/x", "x", false)
				h, err := f.OpenFile("/d/a", os.O_CREATE|os.O_RDWR, 0o600)
				must(t, err)
				f.FailMatch(tt.op, times, errBoom, func(name string) bool { return name != "/d/x" })
				for i := range 3 {
					writeFile(t, f, "/d/x", "x", false)
					if _, err := f.Stat("/d/a"); err != nil {
						writeFile(t, f, "/d/a", "", false)
					}
					err := tt.call(f, h)
					wantFail := times < 0 || i < times
					if errors.Is(err, errBoom) != wantFail {
						t.Fatalf("call %d: err = %v, want failure %v", i, err, wantFail)
					}
				}
				f.Heal()
				if err := tt.call(f, h); errors.Is(err, errBoom) {
					t.Fatalf("after Heal: %v", err)
				}
			})
		}
	}
}

func TestSyncDirErrorWrapsSentinel(t *testing.T) {
	f := newFS(t)
	f.FailMatch(faultfs.OpSyncDir, 1, syscall.EIO, func(name string) bool { return name == "/d" })
	if err := f.SyncDir("/"); err != nil {
		t.Fatalf("unmatched folder failed: %v", err)
	}
	err := f.SyncDir("/d")
	if !errors.Is(err, vfs.ErrSyncDir) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("err = %v", err)
	}
}

func TestFailedSyncKeepsNothing(t *testing.T) {
	f := newFS(t)
	h, err := f.OpenFile("/d/a", os.O_CREATE|os.O_WRONLY, 0o600)
	must(t, err)
	must(t, f.SyncDir("/d"))
	_, err = h.Write([]byte("abc"))
	must(t, err)
	f.Fail(faultfs.OpSync, 1, syscall.EIO)
	if err := h.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v", err)
	}
	if got, _ := f.SyncedContent("/d/a"); len(got) != 0 {
		t.Fatalf("synced after failed sync = %q", got)
	}
}

// TestSyncHook checks that a Sync blocked in the hook has made nothing
// durable yet, and covers only what was written before it was called.
func TestSyncHook(t *testing.T) {
	f := newFS(t)
	h, err := f.OpenFile("/d/a", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	must(t, err)
	must(t, f.SyncDir("/d"))
	_, err = h.Write([]byte("one"))
	must(t, err)
	entered, release := make(chan string), make(chan struct{})
	f.SetSyncHook(func(name string) {
		entered <- name
		<-release
	})
	done := make(chan error)
	go func() { done <- h.Sync() }()
	if name := <-entered; name != "/d/a" {
		t.Errorf("hook name = %q", name)
	}
	if got, _ := f.SyncedContent("/d/a"); len(got) != 0 {
		t.Errorf("durable before the hook returned: %q", got)
	}
	_, err = h.Write([]byte("two"))
	must(t, err)
	close(release)
	must(t, <-done)
	f.SetSyncHook(nil)
	if got, _ := f.SyncedContent("/d/a"); string(got) != "one" {
		t.Errorf("synced = %q, want %q", got, "one")
	}
	must(t, h.Sync())
	if got, _ := f.SyncedContent("/d/a"); string(got) != "onetwo" {
		t.Errorf("synced = %q, want %q", got, "onetwo")
	}
}

func TestPowerLossDuringSync(t *testing.T) {
	f := newFS(t)
	h, err := f.OpenFile("/d/a", os.O_CREATE|os.O_WRONLY, 0o600)
	must(t, err)
	must(t, f.SyncDir("/d"))
	_, err = h.Write([]byte("abc"))
	must(t, err)
	f.SetSyncHook(func(string) { f.PowerLoss() })
	if err := h.Sync(); !errors.Is(err, faultfs.ErrStale) {
		t.Fatalf("sync across a power loss: %v", err)
	}
	if got := content(t, f, "/d/a"); got != "" {
		t.Fatalf("content = %q", got)
	}
}

func TestCounts(t *testing.T) {
	f := newFS(t)
	writeFile(t, f, "/d/a", "x", true)
	must(t, f.SyncDir("/d"))
	must(t, f.Rename("/d/a", "/d/b"))
	must(t, f.Remove("/d/b"))
	c := f.Counts()
	want := faultfs.Counts{Writes: 1, Syncs: 1, SyncDirs: 2, Renames: 1, Removes: 1}
	if c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
}

// TestConcurrent hammers one FS from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	f := newFS(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("/d/f%d", g)
			h, err := f.OpenFile(name, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range 200 {
				if _, err := h.Write([]byte{byte(i)}); err != nil {
					t.Error(err)
				}
				if i%10 == 0 {
					_ = h.Sync()
					_ = f.SyncDir("/d")
					_, _ = f.ReadDir("/d")
				}
			}
		})
	}
	wg.Wait()
	for g := range 8 {
		b, err := vfs.ReadFile(f, fmt.Sprintf("/d/f%d", g))
		must(t, err)
		if len(b) != 200 || !bytes.Equal(b[:3], []byte{0, 1, 2}) {
			t.Errorf("file %d: %d bytes", g, len(b))
		}
	}
}

func TestProcessView(t *testing.T) {
	f := newFS(t)
	p := f.Process()
	h, err := p.OpenFile("/d/a", os.O_CREATE|os.O_WRONLY, 0o600)
	must(t, err)
	must(t, p.SyncDir("/d"))
	f.Crash()
	if _, err := h.Write([]byte("x")); !errors.Is(err, faultfs.ErrStale) {
		t.Errorf("handle of a dead process: %v", err)
	}
	calls := map[string]error{
		"open":    func() error { _, err := p.OpenFile("/d/b", os.O_CREATE|os.O_WRONLY, 0o600); return err }(),
		"rename":  p.Rename("/d/a", "/d/c"),
		"remove":  p.Remove("/d/a"),
		"mkdir":   p.MkdirAll("/d/e", 0o755),
		"syncdir": p.SyncDir("/d"),
		"stat":    func() error { _, err := p.Stat("/d/a"); return err }(),
		"readdir": func() error { _, err := p.ReadDir("/d"); return err }(),
	}
	for name, err := range calls {
		if !errors.Is(err, faultfs.ErrStale) {
			t.Errorf("%s through a dead process view: %v", name, err)
		}
	}
	if got := content(t, f, "/d/a"); got != "" {
		t.Errorf("dead process changed the file: %q", got)
	}
	p2 := f.Process()
	if _, err := p2.Stat("/d/a"); err != nil {
		t.Errorf("new process view: %v", err)
	}
}
