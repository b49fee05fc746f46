package faultfs

import "syscall"

// Op names an operation that Fail can make fail.
type Op int

// The operations that can be made to fail.
const (
	OpOpen     Op = iota // FS.OpenFile
	OpWrite              // File.Write: nothing is written
	OpSync               // File.Sync: nothing more becomes durable
	OpSyncDir            // FS.SyncDir: the listing stays as it was
	OpRename             // FS.Rename: nothing moves
	OpRemove             // FS.Remove: nothing is removed
	OpTruncate           // File.Truncate: the size stays
)

// fault is one armed failure.
type fault struct {
	op    Op
	times int // calls still to fail; <0: every call
	err   error
	match func(name string) bool
}

// Fail makes the next times calls of op fail with err (times < 0: every call
// until Heal). Later arms of the same op queue behind earlier ones.
func (f *FS) Fail(op Op, times int, err error) {
	f.FailMatch(op, times, err, nil)
}

// FailMatch is Fail limited to the calls whose file or folder name makes
// match return true (a nil match matches every name).
func (f *FS) FailMatch(op Op, times int, err error, match func(name string) bool) {
	if times == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{op: op, times: times, err: err, match: match})
}

// SetDiskFull lets only n more bytes be written; the write that crosses the
// limit writes what fits and returns ENOSPC, and every later write returns
// ENOSPC until ClearDiskFull or Heal. Truncating does not give space back.
func (f *FS) SetDiskFull(n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budget = max(n, 0)
}

// ClearDiskFull makes space unlimited again.
func (f *FS) ClearDiskFull() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.budget = -1
}

// ShortWrite makes the next Write write only n bytes (at most) and return
// io.ErrShortWrite.
func (f *FS) ShortWrite(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.short = max(n, 0)
}

// SetSyncHook installs fn, called inside every File.Sync (with the file's
// name) before anything is made durable and without the FS lock held: a test
// blocks in it to make an fsync slow. A nil fn removes the hook.
func (f *FS) SetSyncHook(fn func(name string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncHook = fn
}

// Heal disarms every injected failure, the disk-full limit and any pending
// short write. The sync hook stays.
func (f *FS) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
	f.budget = -1
	f.short = -1
}

// fire returns the error of the first armed fault for op and name, consuming
// one of its times. The caller holds f.mu.
func (f *FS) fire(op Op, name string) error {
	for i, ft := range f.faults {
		if ft.op != op || (ft.match != nil && !ft.match(name)) {
			continue
		}
		if ft.times > 0 {
			ft.times--
			if ft.times == 0 {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
			}
		}
		return ft.err
	}
	return nil
}

// allow says how many of n bytes a Write may write and the error it then
// returns. The caller holds f.mu.
func (f *FS) allow(n int) (int, error) {
	if f.short >= 0 {
		s := f.short
		f.short = -1
		if s < n {
			return f.allowBudget(s, errShort)
		}
	}
	return f.allowBudget(n, nil)
}

func (f *FS) allowBudget(n int, err error) (int, error) {
	if f.budget < 0 {
		return n, err
	}
	if int64(n) > f.budget {
		n = int(f.budget)
		err = syscall.ENOSPC
	}
	f.budget -= int64(n)
	return n, err
}
