package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sessionserver/sessionserver/snapshot"
	"github.com/sessionserver/sessionserver/snapshot/datadir"
	"github.com/sessionserver/sessionserver/snapshot/vfs"
	"github.com/sessionserver/sessionserver/snapshot/wal"
)

const verifyUsage = `Usage:
  sessionserver verify [-data-dir DIR]

Reports what a start would find in the data folder and which snapshot and
log it would use, changing nothing; exit 1 when a start would refuse. It
works beside a running server.

Flags:
`

const repairUsage = `Usage:
  sessionserver repair [-data-dir DIR]

Cuts a damaged log at its first bad record, keeping .broken copies, then
reports like verify. It refuses while a server holds the folder.

Flags:
`

// runVerify implements `sessionserver verify -data-dir DIR` (report what a
// start would find, change nothing; exit 1 when a start would refuse) and
// `sessionserver repair -data-dir DIR` (cut the log at its first damage,
// keeping .broken copies).
func runVerify(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer, repair bool) int {
	name := map[bool]string{false: "verify", true: "repair"}[repair]
	c := DefaultConfig()
	bs := []binding{{"data-dir", "SESSION_DATA_DIR", "`folder` to " + name, &value[string]{&c.DataDir, parseDataDir, ident}}}
	fs := newFlagSet("sessionserver "+name, bs)
	usage := map[bool]string{false: verifyUsage, true: repairUsage}[repair]
	if err := parseFlags(fs, bs, args, lookup, stderr, usage); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "sessionserver %s: %v\n", name, err)
		return 2
	}
	dataDir := c.DataDir
	fsys := vfs.OS{}
	if repair {
		return runRepair(fsys, dataDir, stdout, stderr)
	}
	pid, running, err := datadir.Holder(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver verify: %v\n", err)
		return 1
	}
	if running {
		fmt.Fprintf(stdout, "folder: held by a running server%s: checked read-only; a batch being written now may show as a torn tail\n", pidNote(pid))
	}
	return verifyReport(fsys, dataDir, stdout, stderr)
}

// runRepair cuts the log at its first damage while holding the folder's
// lock, so that it never runs beside a server (or another repair).
func runRepair(fsys vfs.FS, dataDir string, stdout, stderr io.Writer) int {
	if _, err := os.Stat(dataDir); err != nil {
		fmt.Fprintf(stderr, "sessionserver repair: %v\n", err)
		return 1
	}
	lock, err := datadir.Acquire(dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver repair: refused: %v\n", err)
		return 1
	}
	defer lock.Release()
	rep, err := wal.Repair(fsys, filepath.Join(dataDir, "wal"))
	for _, a := range rep.Actions {
		fmt.Fprintf(stdout, "repair: %s\n", a)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver repair: %v\n", err)
		return 1
	}
	if len(rep.Actions) == 0 {
		fmt.Fprintln(stdout, "repair: nothing to do")
	}
	return verifyReport(fsys, dataDir, stdout, stderr)
}

func pidNote(pid int) string {
	if pid <= 0 {
		return ""
	}
	return fmt.Sprintf(" (pid %d)", pid)
}

func verifyReport(fsys vfs.FS, dataDir string, stdout, stderr io.Writer) int {
	ok := true
	checks, err := snapshot.Verify(fsys, filepath.Join(dataDir, "snap"))
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver verify: snapshots: %v\n", err)
		return 1
	}
	var newest, broken uint64
	var newestName string
	valid := false
	for _, c := range checks {
		if c.OK() {
			fmt.Fprintf(stdout, "snapshot %s: ok, seq %d, %d bytes (%d uncompressed)\n", c.Name, c.Seq, c.Size, c.RawSize)
			if !valid || c.Seq > newest {
				newest, newestName, valid = c.Seq, c.Name, true
			}
			continue
		}
		broken++
		fmt.Fprintf(stdout, "snapshot %s: BROKEN: %v\n", c.Name, c.Err)
	}
	rep, err := wal.Verify(fsys, filepath.Join(dataDir, "wal"))
	fmt.Fprintf(stdout, "log: %d segments, %d records, sequences %d..%d\n", rep.Segments, rep.Records, rep.FirstSeq, rep.LastSeq)
	if rep.Torn != nil {
		fmt.Fprintf(stdout, "log: torn tail in %s at offset %d (%s): a start cuts it off, keeping a .broken copy\n", rep.Torn.File, rep.Torn.Offset, rep.Torn.Reason)
	}
	for _, g := range rep.Gaps {
		fmt.Fprintf(stdout, "log: GAP between sequences %d and %d\n", g.From, g.To)
		ok = false
	}
	if err != nil {
		fmt.Fprintf(stdout, "log: DAMAGED: %v: a start would refuse; `sessionserver repair` truncates it\n", err)
		ok = false
	}
	wholeLog := rep.Segments == 0 || rep.FirstSeq <= 1
	switch {
	case valid && rep.Segments > 0 && rep.FirstSeq > newest+1:
		fmt.Fprintf(stdout, "log: starts at %d but the newest snapshot that verifies covers only up to %d: a start would refuse (gap)\n", rep.FirstSeq, newest)
		ok = false
	case valid:
		fmt.Fprintf(stdout, "recovery: snapshot %s (seq %d), then the log after it", newestName, newest)
		if broken > 0 {
			fmt.Fprintf(stdout, "; the %d newer broken snapshot(s) are renamed .broken and nothing is lost, the log after seq %d being kept", broken, newest)
		}
		fmt.Fprintln(stdout)
	case broken > 0 && wholeLog:
		fmt.Fprintln(stdout, "recovery: no snapshot verifies; the log still starts at its first record, so a start renames them .broken and rebuilds everything from the log")
	case broken > 0:
		fmt.Fprintf(stdout, "snapshots: none verifies and the log starts at %d: records 1 to %d exist only in them; a start would refuse: restore a snapshot that verifies into %s\n",
			rep.FirstSeq, rep.FirstSeq-1, filepath.Join(dataDir, "snap"))
		ok = false
	case !wholeLog:
		fmt.Fprintf(stdout, "log: starts at %d with no snapshot: a start would refuse (gap)\n", rep.FirstSeq)
		ok = false
	default:
		fmt.Fprintln(stdout, "recovery: no snapshot; the whole log")
	}
	if !ok {
		return 1
	}
	fmt.Fprintln(stdout, "ok: a start would recover this folder")
	return 0
}
