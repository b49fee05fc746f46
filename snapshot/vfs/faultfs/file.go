package faultfs

import (
	"io"
	"io/fs"
	"os"
	"slices"
	"syscall"
)

var errShort = io.ErrShortWrite

// handle is an open file.
type handle struct {
	fs       *FS
	n        *node
	name     string
	gen      uint64
	canRead  bool
	canWrite bool
	append   bool
	off      int64
	closed   bool
}

func newHandle(f *FS, n *node, name string, flag int) *handle {
	acc := flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR)
	return &handle{
		fs: f, n: n, name: name, gen: f.gen,
		canRead:  acc == os.O_RDONLY || acc == os.O_RDWR,
		canWrite: acc == os.O_WRONLY || acc == os.O_RDWR,
		append:   flag&os.O_APPEND != 0,
	}
}

// check says whether the handle may still be used. The caller holds h.fs.mu.
func (h *handle) check(op string) error {
	if h.closed {
		return pathErr(op, h.name, os.ErrClosed)
	}
	if h.gen != h.fs.gen {
		return pathErr(op, h.name, ErrStale)
	}
	return nil
}

// Name returns the name the file was opened with.
func (h *handle) Name() string { return h.name }

// Read reads from the current offset.
func (h *handle) Read(p []byte) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	n, err := h.readAt(p, h.off)
	h.off += int64(n)
	return n, err
}

// ReadAt reads at off without moving the offset.
func (h *handle) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	n, err := h.readAt(p, off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func (h *handle) readAt(p []byte, off int64) (int, error) {
	if err := h.check("read"); err != nil {
		return 0, err
	}
	if !h.canRead {
		return 0, pathErr("read", h.name, syscall.EBADF)
	}
	if off < 0 {
		return 0, pathErr("read", h.name, syscall.EINVAL)
	}
	if off >= int64(len(h.n.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	return copy(p, h.n.data[off:]), nil
}

// Write writes at the offset (at the end with O_APPEND), subject to the
// armed write faults, the disk-full limit and short writes.
func (h *handle) Write(p []byte) (int, error) {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Writes++
	if err := h.check("write"); err != nil {
		return 0, err
	}
	if !h.canWrite {
		return 0, pathErr("write", h.name, syscall.EBADF)
	}
	if err := f.fire(OpWrite, h.name); err != nil {
		return 0, pathErr("write", h.name, err)
	}
	if h.append {
		h.off = int64(len(h.n.data))
	}
	n, err := f.allow(len(p))
	h.n.write(int(h.off), p[:n])
	h.off += int64(n)
	if err != nil {
		return n, pathErr("write", h.name, err)
	}
	return n, nil
}

// Seek sets the offset for the next Read or Write.
func (h *handle) Seek(offset int64, whence int) (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("seek"); err != nil {
		return 0, err
	}
	switch whence {
	case io.SeekCurrent:
		offset += h.off
	case io.SeekEnd:
		offset += int64(len(h.n.data))
	}
	if offset < 0 {
		return 0, pathErr("seek", h.name, syscall.EINVAL)
	}
	h.off = offset
	return offset, nil
}

// Close closes the handle; a second Close returns an error.
func (h *handle) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return pathErr("close", h.name, os.ErrClosed)
	}
	h.closed = true
	return nil
}

// Truncate changes the file's size.
func (h *handle) Truncate(size int64) error {
	f := h.fs
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Truncates++
	if err := h.check("truncate"); err != nil {
		return err
	}
	if !h.canWrite {
		return pathErr("truncate", h.name, syscall.EBADF)
	}
	if size < 0 {
		return pathErr("truncate", h.name, syscall.EINVAL)
	}
	if err := f.fire(OpTruncate, h.name); err != nil {
		return pathErr("truncate", h.name, err)
	}
	h.n.setLen(int(size))
	return nil
}

// Stat describes the open file.
func (h *handle) Stat() (fs.FileInfo, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check("stat"); err != nil {
		return nil, err
	}
	_, base := split(clean(h.name))
	return h.n.info(base), nil
}

// Sync makes the content written so far durable. It captures the content
// when called, runs the sync hook without the lock, then commits: what is
// written while the hook blocks is not covered. A crash during the hook
// makes the Sync fail with ErrStale and leaves nothing more durable.
func (h *handle) Sync() error {
	f := h.fs
	f.mu.Lock()
	f.counts.Syncs++
	if err := h.check("sync"); err != nil {
		f.mu.Unlock()
		return err
	}
	n := h.n
	end := len(n.data)
	from := min(n.dirtyFrom, end)
	tail := slices.Clone(n.data[from:end])
	ver, hook := n.version, f.syncHook
	f.mu.Unlock()

	if hook != nil {
		hook(h.name)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if err := h.check("sync"); err != nil {
		return err
	}
	if err := f.fire(OpSync, h.name); err != nil {
		return pathErr("sync", h.name, err)
	}
	n.commit(from, tail, ver)
	return nil
}

// commit makes synced equal to the content captured at version ver: the
// unchanged prefix [0, from) plus tail.
func (n *node) commit(from int, tail []byte, ver uint64) {
	if ver < n.syncedVer {
		return // a later Sync already committed newer content
	}
	n.synced = append(n.synced[:from], tail...)
	n.syncedVer = ver
	if n.version == ver {
		n.dirtyFrom = len(n.synced)
	}
}
