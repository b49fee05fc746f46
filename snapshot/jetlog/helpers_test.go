package jetlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// testLog returns a logger of warnings into the test's output that goes
// quiet once the test is over (the nats client may still call it then).
func testLog(t testing.TB) *slog.Logger {
	w := &quietWriter{w: t.Output()}
	t.Cleanup(w.stop) // registered first, so it runs last
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type quietWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (q *quietWriter) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done {
		return len(p), nil
	}
	return q.w.Write(p)
}

func (q *quietWriter) stop() {
	q.mu.Lock()
	q.done = true
	q.mu.Unlock()
}

// startNode starts an embedded server, shut down when the test ends.
func startNode(t testing.TB, cfg NodeConfig) *Node {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	n, err := StartNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

// connect connects a Store, closed when the test ends.
func connect(t testing.TB, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cfg.Logger == nil {
		cfg.Logger = testLog(t)
	}
	s, err := Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// single starts one server and connects to it.
func single(t testing.TB) (*Node, *Store) {
	t.Helper()
	n := startNode(t, NodeConfig{Name: "solo", Logger: testLog(t)})
	return n, connect(t, Config{URL: n.ClientURL()})
}

// freePorts returns n ports free a moment ago on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// eventually polls fn until it returns nil, failing the test with its
// last error after d.
func eventually(t testing.TB, d time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond) // the poll interval, not a wait for state
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recs returns n page tracks of app numbered from first (in At).
func recs(app string, first, n int) []event.Record {
	out := make([]event.Record, n)
	for i := range out {
		k := first + i
		out[i] = event.Record{Kind: event.PageTrack, App: app, User: fmt.Sprintf("user-%d", k%97),
			Page: "/page/" + fmt.Sprint(k%13), SpentMs: int64(k % 5000), At: int64(k), Logged: 1_700_000_000_000 + int64(k)}
	}
	return out
}

// replayAll replays the whole subject and returns its records and the
// sequences of their batches.
func replayAll(t testing.TB, l *AppLog) ([]event.Record, []uint64) {
	t.Helper()
	var all []event.Record
	var seqs []uint64
	_, err := l.Replay(testCtx(t), 0, 0, func(seq uint64, rs []event.Record) error {
		all = append(all, rs...)
		seqs = append(seqs, seq)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, seqs
}
