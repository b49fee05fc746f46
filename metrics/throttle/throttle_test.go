package throttle

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestWarnOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), 10*time.Second, func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		key     string
		want    bool
	}{
		{0, "a", true}, {time.Second, "a", false}, {time.Second, "b", true}, {time.Second, "a", false},
		{8 * time.Second, "a", true}, {0, "a", false},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := l.Warn(s.key, "disk trouble", "n", i); got != s.want {
			t.Fatalf("step %d: logged %v, want %v", i, got, s.want)
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], "suppressed=2") {
		t.Fatalf("lines:\n%s", buf.String())
	}
}
