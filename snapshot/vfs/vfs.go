// Package vfs is the small filesystem seam under the append log and the
// snapshots. Production code uses OS; tests substitute a filesystem that
// fails on demand (disk full, short writes, fsync errors) or that forgets
// what was never synced (a power loss), see package faultfs.
//
//	fsys := vfs.OS{}
//	f, err := fsys.OpenFile(filepath.Join(dir, "x"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
//	// write, f.Sync(), f.Close()
//	err = fsys.Rename(tmp, final)
//	err = fsys.SyncDir(dir) // make the rename durable
package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrSyncDir is returned when a folder cannot be synced.
var ErrSyncDir = errors.New("vfs: sync of folder failed")

// File is an open file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Seeker
	io.Closer
	Name() string
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
}

// FS is what the log and the snapshots need of a filesystem.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	ReadDir(dir string) ([]fs.DirEntry, error)
	MkdirAll(dir string, perm fs.FileMode) error
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes the creations, renames and removals in dir durable.
	SyncDir(dir string) error
}

// OS is the operating system's filesystem.
type OS struct{}

// OpenFile opens a file with os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Rename renames with os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove removes with os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// ReadDir lists a folder, sorted by name.
func (OS) ReadDir(dir string) ([]fs.DirEntry, error) { return os.ReadDir(dir) }

// MkdirAll creates a folder and its parents.
func (OS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }

// Stat describes a file.
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// SyncDir opens dir and fsyncs it.
func (OS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSyncDir, dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSyncDir, dir, err)
	}
	return nil
}

// ReadFile reads a whole file through fsys.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
