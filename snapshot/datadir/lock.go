package datadir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockName is the file in the data folder whose lock says a server has it.
const LockName = "LOCK"

// ErrLocked: another process holds the data folder (a running server, or
// a repair).
var ErrLocked = errors.New("datadir: data folder in use")

// Lock is the exclusive hold of a data folder, as etcd, Prometheus and
// pebble take theirs: flock(2) on <dir>/LOCK, which also holds the pid of
// its holder for the message a second process prints. The kernel drops
// the lock when the holder's process ends in any way (kill -9 included),
// so there is never a stale lock to remove by hand; the pid left in the
// file after that means nothing, since only a held lock is reported.
//
// A server holds it from before it opens the log until its final snapshot
// is written; repair holds it while it cuts the log; verify only looks
// (Holder) and works beside a running server.
type Lock struct {
	f   *os.File
	dir string
}

// Acquire takes the data folder dir (creating it if needed) or returns an
// error wrapping ErrLocked that names the folder and the holder's pid.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("datadir: %w", err)
	}
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("datadir: lock: %w", err)
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		pid := readPid(f)
		_ = f.Close()
		return nil, lockedError(dir, pid, err)
	}
	if err := writePid(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("datadir: lock: %w", err)
	}
	return &Lock{f: f, dir: dir}, nil
}

// Release gives the folder up. A nil Lock releases nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	if err != nil {
		return fmt.Errorf("datadir: unlock %s: %w", l.dir, err)
	}
	return nil
}

// Holder reports whether a process holds dir's lock now, and its pid (0
// when unknown). It takes nothing: it tries a shared lock and lets it go
// at once, so it never keeps a server from starting.
func Holder(dir string) (pid int, held bool, err error) {
	f, err := os.Open(filepath.Join(dir, LockName))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("datadir: lock: %w", err)
	}
	defer f.Close()
	if err := flock(f, syscall.LOCK_SH); err != nil {
		if errors.Is(err, ErrLocked) {
			return readPid(f), true, nil
		}
		return 0, false, err
	}
	return 0, false, nil
}

// flock tries how on f without waiting; a lock held elsewhere is ErrLocked.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrLocked
		}
		return fmt.Errorf("datadir: flock %s: %w", f.Name(), err)
	}
}

func lockedError(dir string, pid int, err error) error {
	if !errors.Is(err, ErrLocked) {
		return err
	}
	holder := "another process"
	if pid > 0 {
		holder += " (pid " + strconv.Itoa(pid) + ")"
	}
	return fmt.Errorf("%w: %s is held by %s; stop it first, or give this one another -data-dir", ErrLocked, dir, holder)
}

func writePid(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

func readPid(f *os.File) int {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
