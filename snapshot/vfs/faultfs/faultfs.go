package faultfs

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// ErrStale is returned by a file handle opened before a PowerLoss or Crash.
var ErrStale = errors.New("faultfs: file handle from before a crash")

// FS is the in-memory filesystem. The zero value is not usable; call New.
type FS struct {
	mu       sync.Mutex
	root     *node
	gen      uint64 // bumped by PowerLoss and Crash; older handles are stale
	faults   []*fault
	budget   int64 // bytes that may still be written; <0: unlimited
	short    int   // next Write writes only this many bytes; <0: off
	syncHook func(name string)
	counts   Counts
}

// Counts says how often each operation was called (failed calls included).
type Counts struct {
	Writes, Syncs, SyncDirs, Renames, Removes, Truncates int
}

var _ vfs.FS = (*FS)(nil)

// node is a file or a folder.
type node struct {
	dir bool
	// files
	data      []byte // what reads see
	synced    []byte // what survives a power loss
	version   uint64 // bumped by every change of data
	syncedVer uint64 // version that synced reflects
	dirtyFrom int    // data and synced agree on [0, dirtyFrom)
	modTime   time.Time
	// folders
	entries map[string]*node // current listing
	durable map[string]*node // listing as of the last SyncDir
}

func newDir() *node {
	return &node{dir: true, entries: map[string]*node{}, durable: map[string]*node{}}
}

// New returns an empty filesystem holding only the root folder "/".
func New() *FS {
	return &FS{root: newDir(), budget: -1, short: -1}
}

// clean turns name into a slash path relative to the root.
func clean(name string) string {
	p := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, "\\", "/")), "/")
	return p
}

// split returns the parent path and the base name of a cleaned path.
func split(p string) (string, string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// lookup finds the node at cleaned path p ("" is the root).
func (f *FS) lookup(p string) (*node, bool) {
	n := f.root
	if p == "" {
		return n, true
	}
	for _, part := range strings.Split(p, "/") {
		if !n.dir {
			return nil, false
		}
		c, ok := n.entries[part]
		if !ok {
			return nil, false
		}
		n = c
	}
	return n, true
}

// parent finds the folder that holds cleaned path p.
func (f *FS) parent(op, name, p string) (*node, string, error) {
	dp, base := split(p)
	if base == "" {
		return nil, "", pathErr(op, name, syscall.EINVAL)
	}
	d, ok := f.lookup(dp)
	if !ok {
		return nil, "", pathErr(op, name, fs.ErrNotExist)
	}
	if !d.dir {
		return nil, "", pathErr(op, name, syscall.ENOTDIR)
	}
	return d, base, nil
}

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// openFile opens or creates a file. It understands O_RDONLY, O_WRONLY,
// O_RDWR, O_CREATE, O_EXCL, O_TRUNC and O_APPEND.
func (f *FS) openFile(gen uint64, name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return nil, pathErr("open", name, err)
	}
	if err := f.fire(OpOpen, name); err != nil {
		return nil, pathErr("open", name, err)
	}
	d, base, err := f.parent("open", name, clean(name))
	if err != nil {
		return nil, err
	}
	n, ok := d.entries[base]
	switch {
	case ok && flag&syscall.O_CREAT != 0 && flag&syscall.O_EXCL != 0:
		return nil, pathErr("open", name, fs.ErrExist)
	case ok && n.dir:
		return nil, pathErr("open", name, syscall.EISDIR)
	case !ok && flag&syscall.O_CREAT == 0:
		return nil, pathErr("open", name, fs.ErrNotExist)
	case !ok:
		n = &node{modTime: time.Now()}
		d.entries[base] = n
	}
	h := newHandle(f, n, name, flag)
	if flag&syscall.O_TRUNC != 0 && h.canWrite {
		n.setLen(0)
	}
	return h, nil
}

// rename moves a file or folder, replacing a file at newpath.
func (f *FS) rename(gen uint64, oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return pathErr("rename", oldpath, err)
	}
	f.counts.Renames++
	if err := f.fire(OpRename, oldpath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	od, obase, err := f.parent("rename", oldpath, clean(oldpath))
	if err != nil {
		return err
	}
	nd, nbase, err := f.parent("rename", newpath, clean(newpath))
	if err != nil {
		return err
	}
	n, ok := od.entries[obase]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrNotExist}
	}
	if t, ok := nd.entries[nbase]; ok && t.dir && t != n {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EEXIST}
	}
	delete(od.entries, obase)
	nd.entries[nbase] = n
	return nil
}

// remove removes a file or an empty folder.
func (f *FS) remove(gen uint64, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return pathErr("remove", name, err)
	}
	f.counts.Removes++
	if err := f.fire(OpRemove, name); err != nil {
		return pathErr("remove", name, err)
	}
	d, base, err := f.parent("remove", name, clean(name))
	if err != nil {
		return err
	}
	n, ok := d.entries[base]
	if !ok {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if n.dir && len(n.entries) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	delete(d.entries, base)
	return nil
}

// readDir lists a folder, sorted by name.
func (f *FS) readDir(gen uint64, dir string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return nil, pathErr("readdir", dir, err)
	}
	d, ok := f.lookup(clean(dir))
	if !ok {
		return nil, pathErr("readdir", dir, fs.ErrNotExist)
	}
	if !d.dir {
		return nil, pathErr("readdir", dir, syscall.ENOTDIR)
	}
	names := slices.Sorted(maps.Keys(d.entries))
	out := make([]fs.DirEntry, 0, len(names))
	for _, name := range names {
		out = append(out, fs.FileInfoToDirEntry(d.entries[name].info(name)))
	}
	return out, nil
}

// mkdirAll creates a folder and any missing parents. Each new folder is an
// entry of its parent, durable only once the parent is synced.
func (f *FS) mkdirAll(gen uint64, dir string, perm fs.FileMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return pathErr("mkdir", dir, err)
	}
	p := clean(dir)
	if p == "" {
		return nil
	}
	n := f.root
	for _, part := range strings.Split(p, "/") {
		c, ok := n.entries[part]
		if !ok {
			c = newDir()
			c.modTime = time.Now()
			n.entries[part] = c
		}
		if !c.dir {
			return pathErr("mkdir", dir, syscall.ENOTDIR)
		}
		n = c
	}
	return nil
}

// stat describes a file or folder.
func (f *FS) stat(gen uint64, name string) (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return nil, pathErr("stat", name, err)
	}
	p := clean(name)
	n, ok := f.lookup(p)
	if !ok {
		return nil, pathErr("stat", name, fs.ErrNotExist)
	}
	_, base := split(p)
	if base == "" {
		base = "/"
	}
	return n.info(base), nil
}

// syncDir makes the current listing of dir durable.
func (f *FS) syncDir(gen uint64, dir string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.alive(gen); err != nil {
		return fmt.Errorf("%w: %s: %w", vfs.ErrSyncDir, dir, err)
	}
	f.counts.SyncDirs++
	if err := f.fire(OpSyncDir, dir); err != nil {
		return fmt.Errorf("%w: %s: %w", vfs.ErrSyncDir, dir, err)
	}
	d, ok := f.lookup(clean(dir))
	if !ok {
		return fmt.Errorf("%w: %s: %w", vfs.ErrSyncDir, dir, fs.ErrNotExist)
	}
	if !d.dir {
		return fmt.Errorf("%w: %s: %w", vfs.ErrSyncDir, dir, syscall.ENOTDIR)
	}
	d.durable = maps.Clone(d.entries)
	return nil
}

// PowerLoss forgets everything that was not made durable: unsynced bytes
// and unsynced folder changes. Every open handle becomes stale.
func (f *FS) PowerLoss() { f.PowerLossWith(nil) }

// PowerLossWith is PowerLoss where keep decides, for every file that
// survives, its content after the crash from what was synced and what was
// written (both copies the callee may keep). keep may return a prefix of
// written beyond synced (a torn append), zero out parts of it, and so on.
// A nil keep keeps synced.
func (f *FS) PowerLossWith(keep func(name string, synced, written []byte) []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.root.restore("/", keep)
}

// restore rolls folder n back to its durable listing, recursively.
func (n *node) restore(dirPath string, keep func(name string, synced, written []byte) []byte) {
	n.entries = maps.Clone(n.durable)
	for name, c := range n.entries {
		p := path.Join(dirPath, name)
		if c.dir {
			c.restore(p, keep)
			continue
		}
		data := c.synced
		if keep != nil {
			data = keep(p, slices.Clone(c.synced), slices.Clone(c.data))
		}
		c.data = slices.Clone(data)
		c.synced = slices.Clone(data)
		c.version++
		c.syncedVer = c.version
		c.dirtyFrom = len(data)
	}
}

// Crash is the process dying without a power loss: every open handle
// becomes stale, every written byte stays.
func (f *FS) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
}

// Counts returns how often each operation was called.
func (f *FS) Counts() Counts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// SyncedContent returns the durable content of a file as a power loss would
// leave it (ignoring whether its folder entry is durable).
func (f *FS) SyncedContent(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.lookup(clean(name))
	if !ok || n.dir {
		return nil, pathErr("open", name, fs.ErrNotExist)
	}
	return slices.Clone(n.synced), nil
}

// setLen truncates or zero-extends a file's written content.
func (n *node) setLen(size int) {
	if size <= len(n.data) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-len(n.data))...)
	}
	n.dirtyFrom = min(n.dirtyFrom, size)
	n.version++
	n.modTime = time.Now()
}

// write copies p at off, zero-filling any hole.
func (n *node) write(off int, p []byte) {
	if end := off + len(p); end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[off:], p)
	n.dirtyFrom = min(n.dirtyFrom, off)
	n.version++
	n.modTime = time.Now()
}

// info describes n under the given base name.
func (n *node) info(name string) fs.FileInfo {
	if n.dir {
		return fileInfo{name: name, mode: fs.ModeDir | 0o755, mod: n.modTime}
	}
	return fileInfo{name: name, size: int64(len(n.data)), mode: 0o644, mod: n.modTime}
}

type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
	mod  time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.mod }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }
