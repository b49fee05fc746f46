package faultfs

import (
	"io/fs"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// anyGen marks a call that is not tied to a process incarnation.
const anyGen = ^uint64(0)

// alive refuses a call from a process that a crash ended. The caller holds f.mu.
func (f *FS) alive(gen uint64) error {
	if gen != anyGen && gen != f.gen {
		return ErrStale
	}
	return nil
}

// Process returns a view of the filesystem for the running process: once a
// PowerLoss or Crash happens, every call through the view (and through the
// files it opened) fails with ErrStale, as that process is dead. Use one
// view per incarnation so a crashed run cannot touch the state that the
// next run recovers (a rename or create still in flight, say).
func (f *FS) Process() vfs.FS {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &process{fs: f, gen: f.gen}
}

// process is a view of an FS bound to one incarnation.
type process struct {
	fs  *FS
	gen uint64
}

// OpenFile opens or creates a file. It understands O_RDONLY, O_WRONLY,
// O_RDWR, O_CREATE, O_EXCL, O_TRUNC and O_APPEND.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	return f.openFile(anyGen, name, flag, perm)
}

// Rename moves a file or folder, replacing a file at newpath.
func (f *FS) Rename(oldpath, newpath string) error { return f.rename(anyGen, oldpath, newpath) }

// Remove removes a file or an empty folder.
func (f *FS) Remove(name string) error { return f.remove(anyGen, name) }

// ReadDir lists a folder, sorted by name.
func (f *FS) ReadDir(dir string) ([]fs.DirEntry, error) { return f.readDir(anyGen, dir) }

// MkdirAll creates a folder and any missing parents. Each new folder is an
// entry of its parent, durable only once the parent is synced.
func (f *FS) MkdirAll(dir string, perm fs.FileMode) error { return f.mkdirAll(anyGen, dir, perm) }

// Stat describes a file or folder.
func (f *FS) Stat(name string) (fs.FileInfo, error) { return f.stat(anyGen, name) }

// SyncDir makes the current listing of dir durable.
func (f *FS) SyncDir(dir string) error { return f.syncDir(anyGen, dir) }

// OpenFile is FS.OpenFile for this incarnation.
func (p *process) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	return p.fs.openFile(p.gen, name, flag, perm)
}

// Rename is FS.Rename for this incarnation.
func (p *process) Rename(oldpath, newpath string) error { return p.fs.rename(p.gen, oldpath, newpath) }

// Remove is FS.Remove for this incarnation.
func (p *process) Remove(name string) error { return p.fs.remove(p.gen, name) }

// ReadDir is FS.ReadDir for this incarnation.
func (p *process) ReadDir(dir string) ([]fs.DirEntry, error) { return p.fs.readDir(p.gen, dir) }

// MkdirAll is FS.MkdirAll for this incarnation.
func (p *process) MkdirAll(dir string, perm fs.FileMode) error {
	return p.fs.mkdirAll(p.gen, dir, perm)
}

// Stat is FS.Stat for this incarnation.
func (p *process) Stat(name string) (fs.FileInfo, error) { return p.fs.stat(p.gen, name) }

// SyncDir is FS.SyncDir for this incarnation.
func (p *process) SyncDir(dir string) error { return p.fs.syncDir(p.gen, dir) }
