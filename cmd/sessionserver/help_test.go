package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestHelp is issue 10's finding 8: -h names every command, help and
// help <command> work, every command's help has one style, and a bool
// flag given a separate value gets the way to write it.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		code      int
		out, want string // want: in stdout ("out") or stderr ("err")
	}{
		{[]string{"-h"}, 0, "err", "sessionserver repair [-data-dir DIR]"},
		{[]string{"-h"}, 0, "err", "sessionserver verify [-data-dir DIR]"},
		{[]string{"-h"}, 0, "err", "sessionserver token -sub USER"},
		{[]string{"-h"}, 0, "err", "sessionserver help [command]"},
		{[]string{"help"}, 0, "out", "sessionserver repair [-data-dir DIR]"},
		{[]string{"help", "verify"}, 0, "out", "Usage:\n  sessionserver verify"},
		{[]string{"help", "repair"}, 0, "out", "Usage:\n  sessionserver repair"},
		{[]string{"help", "token"}, 0, "out", "Usage:\n  sessionserver token"},
		{[]string{"verify", "-h"}, 0, "err", "Usage:\n  sessionserver verify"},
		{[]string{"repair", "-h"}, 0, "err", "(env SESSION_DATA_DIR)"},
		{[]string{"help", "nope"}, 2, "err", `unknown command "nope"`},
		{[]string{"help", "-h"}, 0, "out", "sessionserver help [command]"},
		{[]string{"help", "checkpoint"}, 0, "out", "checkpoint is internal"},
		{[]string{"help", "repair"}, 0, "out", "folder to repair (env SESSION_DATA_DIR)"},
		{[]string{"help", "token", "verify"}, 2, "err", "one command at most"},
		{[]string{"verify", "stray"}, 2, "err", `unexpected argument "stray"`},
		{[]string{"-public-endpoints", "false"}, 2, "err", "write -public-endpoints=false"},
		{[]string{"-addr", "127.0.0.1:0", "-public-endpoints", "true"}, 2, "err", "write -public-endpoints=true"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, func(string) (string, bool) { return "", false }, &stdout, &stderr)
		got := map[string]string{"out": stdout.String(), "err": stderr.String()}[tc.out]
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%q: exit %d, want %d; std%s lacks %q:\n%s", tc.args, code, tc.code, tc.out, tc.want, got)
		}
		if tc.code == 2 && strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
			t.Errorf("%q: the error is not one line:\n%s", tc.args, stderr.String())
		}
	}
}

// TestHelpBinary: the real binary's help.
func TestHelpBinary(t *testing.T) {
	code, out := runBinary(t, "help")
	if code != 0 || !strings.Contains(out, "sessionserver verify") || !strings.Contains(out, "-data-dir") {
		t.Fatalf("help: exit %d\n%s", code, out)
	}
	if code, out := runBinary(t, "-public-endpoints", "false"); code != 2 || !strings.Contains(out, "-public-endpoints=false") {
		t.Fatalf("-public-endpoints false: exit %d\n%s", code, out)
	}
}
