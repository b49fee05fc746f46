package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/sessionserver/sessionserver/snapshot/datadir"
)

// errBuilder: the snapshot child process failed.
var errBuilder = errors.New("checkpoint child failed")

// runCheckpoint implements the internal `sessionserver checkpoint
// -data-dir DIR -through SEQ`: build the snapshot for SEQ from the newest
// snapshot and the sealed log, in a process of its own (the server starts
// it; see childBuilder).
func runCheckpoint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sessionserver checkpoint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./data", "data folder")
	through := fs.Uint64("through", 0, "last log sequence the snapshot covers")
	retention := fs.Duration("retention", 0, "the server's -retention: what the snapshot keeps")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	given := false // 0 is valid: a server that never logged a record
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "through" })
	if !given || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "sessionserver checkpoint: -through SEQ is required")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	info, err := datadir.Build(nil, *dataDir, *through, logger, datadir.Retention{Default: *retention})
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver checkpoint: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %d\n", info.Path, info.Size)
	return 0
}

// childBuilder returns a datadir.Builder that runs `sessionserver
// checkpoint` as a child process on one core at a lower priority, so that
// building a snapshot of millions of sessions never takes the server's
// memory, garbage collector or CPU from the requests. The child dies with
// the server (Pdeathsig).
func childBuilder(dataDir string, retention time.Duration, logger *slog.Logger) (func(uint64) error, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("checkpoint child: %w", err)
	}
	return func(through uint64) error {
		// Pdeathsig follows the thread that started the child: keep this
		// goroutine on it until the child is done.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(exe, "checkpoint", "-data-dir", dataDir, "-through", strconv.FormatUint(through, 10),
			"-retention", retention.String())
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
		cmd.Stderr = os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("%w: %w", errBuilder, err)
		}
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, 10); err != nil {
			logger.Debug("checkpoint child keeps normal priority", "err", err)
		}
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%w: %w", errBuilder, err)
		}
		return nil
	}, nil
}
