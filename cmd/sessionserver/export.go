package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/sessionserver/sessionserver/actors"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/snapshot/datadir"
)

const exportUsage = `Usage:
  sessionserver export -app APP [-user U] [-from F] [-to T] [-tz Z] [-format ndjson|csv] [-data-dir DIR]

Writes the export of one app to stdout, as POST /api/export does (the same
NDJSON version 1, or CSV), from the data folder of a stopped server: its
newest snapshot that verifies and the log after it, read without changing
anything. A folder a running server holds is refused: ask that server's
POST /api/export instead.

Flags:
`

// runExport implements `sessionserver export`: exit 0 with the export on
// stdout; 2 for a usage error or a folder in use; 1 when the folder
// cannot be read.
func runExport(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	cfg := DefaultConfig()
	bs := cfg.bindingsNamed("data-dir")
	fs := newFlagSet("sessionserver export", bs)
	var app, user, from, to, tz, format string
	fs.StringVar(&app, "app", "", "the `app` to export; required")
	fs.StringVar(&user, "user", "", "only this `user`'s sessions and page tracks")
	fs.StringVar(&from, "from", "", "sessions started and page tracks from this `date` (YYYY-MM-DD in -tz, or RFC 3339)")
	fs.StringVar(&to, "to", "", "up to this `date`, included")
	fs.StringVar(&tz, "tz", "", "the IANA `zone` of -from and -to dates; default UTC")
	fs.StringVar(&format, "format", "ndjson", "`ndjson` or csv")
	err := parseFlags(fs, bs, args, lookup, stderr, exportUsage)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver export: %v\n", err)
		return 2
	}
	req := map[string]string{"app": app, "format": format}
	for k, v := range map[string]string{"user": user, "from": from, "to": to, "tz": tz} {
		if v != "" {
			req[k] = v
		}
	}
	raw, _ := json.Marshal(req)
	exp, err := sshttp.ParseExport(raw, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver export: %v\n", err)
		return 2
	}
	if pid, held, err := datadir.Holder(cfg.DataDir); err != nil {
		fmt.Fprintf(stderr, "sessionserver export: %v\n", err)
		return 1
	} else if held {
		fmt.Fprintf(stderr, "sessionserver export: %s is held by a running server%s; stop it, or use its POST /api/export\n", cfg.DataDir, pidNote(pid))
		return 2
	}
	state, _, err := datadir.ReadState(nil, cfg.DataDir)
	if err != nil {
		fmt.Fprintf(stderr, "sessionserver export: %v\n", err)
		return 1
	}
	eng := actors.New(actors.Config{State: state}) // in memory only: nothing is written
	defer eng.Close()
	if err := exp.Write(stdout, eng); err != nil {
		fmt.Fprintf(stderr, "sessionserver export: %v\n", err)
		return 1
	}
	return 0
}
