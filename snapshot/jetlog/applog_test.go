package jetlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sessionserver/sessionserver/actors/event"
)

// Batches appended come back from Replay in order, whole or by range,
// and Last follows the subject (not the stream).
func TestAppendReplayLast(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l, other := s.App("shop"), s.App("blog")
	if last, err := l.Last(ctx); err != nil || last != 0 {
		t.Fatalf("Last of a new app = %d, %v", last, err)
	}
	var want []event.Record
	var seqs []uint64
	last := uint64(0)
	for i := range 4 {
		batch := recs("shop", i*10, 10)
		seq, err := l.Append(ctx, last, batch)
		if err != nil {
			t.Fatal(err)
		}
		// Another app's messages interleave in the stream.
		if _, err := other.Append(ctx, uint64(max(0, i*2)), recs("blog", i, 1)); err != nil {
			t.Fatal(err)
		}
		want, seqs, last = append(want, batch...), append(seqs, seq), seq
	}
	if got, err := l.Last(ctx); err != nil || got != last {
		t.Fatalf("Last = %d, %v; want %d", got, err, last)
	}
	got, gotSeqs := replayAll(t, l)
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotSeqs, seqs) {
		t.Fatalf("replayed %d records at %v, want %d at %v", len(got), gotSeqs, len(want), seqs)
	}
	// (seqs[0], seqs[2]]: the second and third batches.
	var n int
	end, err := l.Replay(ctx, seqs[0], seqs[2], func(seq uint64, rs []event.Record) error {
		if rs[0].At != int64(10*(n+1)) {
			t.Errorf("batch at %d starts with %d", seq, rs[0].At)
		}
		n++
		return nil
	})
	if err != nil || n != 2 || end != seqs[2] {
		t.Fatalf("range replay: %d batches, end %d, %v", n, end, err)
	}
	// Nothing after the last: no call, after returned.
	end, err = l.Replay(ctx, last, 0, func(uint64, []event.Record) error { t.Fatal("called"); return nil })
	if err != nil || end != last {
		t.Fatalf("empty replay: end %d, %v", end, err)
	}
	// fn's error stops the replay.
	stop := errors.New("stop")
	end, err = l.Replay(ctx, 0, 0, func(uint64, []event.Record) error { return stop })
	if !errors.Is(err, stop) || end != 0 {
		t.Fatalf("stopped replay: end %d, %v", end, err)
	}
}

// An Append expecting a sequence that is no longer the subject's last is
// fenced and stores nothing.
func TestStaleAppendFenced(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	a, b := s.App("shop"), s.App("shop")
	seq, err := a.Append(ctx, 0, recs("shop", 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctx, 0, recs("shop", 100, 3)); !errors.Is(err, ErrFenced) {
		t.Fatalf("stale append: %v, want ErrFenced", err)
	}
	if _, err := a.Append(ctx, seq, recs("shop", 3, 3)); err != nil {
		t.Fatalf("append after the last: %v", err)
	}
	if got, _ := replayAll(t, a); len(got) != 6 || got[5].At != 5 {
		t.Fatalf("replayed %d records", len(got))
	}
	if _, err := a.Append(ctx, seq, nil); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty append: %v", err)
	}
}

// A claim by B fences A's writer; a claim with a stale sequence returns
// the new last one, and claims are not replayed as records.
func TestClaimFencesWriter(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	seqA, err := l.Claim(ctx, 0, "member-a")
	if err != nil {
		t.Fatal(err)
	}
	w := l.Writer(seqA, 0)
	defer w.Close()
	if err := w.AppendBatch(recs("shop", 0, 5)); err != nil {
		t.Fatal(err)
	}
	// B claims with a stale sequence: told the last one.
	last, err := l.Claim(ctx, seqA, "member-b")
	if !errors.Is(err, ErrFenced) || last != w.Last() {
		t.Fatalf("stale claim: last %d, %v; want %d, ErrFenced", last, err, w.Last())
	}
	// B replays the gap and claims again.
	end, err := l.Replay(ctx, seqA, 0, func(uint64, []event.Record) error { return nil })
	if err != nil || end != last {
		t.Fatalf("gap replay: end %d, %v", end, err)
	}
	seqB, err := l.Claim(ctx, end, "member-b")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.Fenced():
		t.Fatal("fenced before writing")
	default:
	}
	rec := recs("shop", 5, 1)[0]
	if err := w.Append(&rec); !errors.Is(err, ErrFenced) {
		t.Fatalf("A after B's claim: %v, want ErrFenced", err)
	}
	select {
	case <-w.Fenced():
	default:
		t.Fatal("Fenced not closed")
	}
	if err := w.Append(&rec); !errors.Is(err, ErrFenced) {
		t.Fatalf("A again: %v", err)
	}
	<-w.Done()
	// B writes after its claim.
	if _, err := l.Append(ctx, seqB, recs("shop", 6, 1)); err != nil {
		t.Fatal(err)
	}
	got, seqs := replayAll(t, l)
	if len(got) != 6 || got[5].At != 6 || len(seqs) != 2 {
		t.Fatalf("replayed %d records in %d batches", len(got), len(seqs))
	}
	// The claim markers name their claimants.
	m, err := s.stream.GetMsg(ctx, seqB)
	if err != nil || m.Header.Get(HeaderKind) != "claim" || m.Header.Get(HeaderClaimant) != "member-b" {
		t.Fatalf("claim marker %+v, %v", m, err)
	}
}

// A message published again with its Msg-Id (its ack lost) is stored
// once and answered with the first copy's sequence, though its expected
// last sequence is stale by then (a single server checks that before the
// Msg-Id: publish finds its own message last on the subject).
func TestRepublishNotDoubled(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	m := l.message(0, EncodeBatch(nil, recs("shop", 0, 4)))
	first, err := l.publish(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.publish(ctx, m)
	if err != nil || again != first {
		t.Fatalf("re-publish: seq %d, %v; want %d", again, err, first)
	}
	// Without the expectation JetStream itself answers "duplicate".
	m.Header.Del(jetstream.ExpectedLastSubjSeqHeader)
	ack, err := s.js.PublishMsg(ctx, m)
	if err != nil || !ack.Duplicate || ack.Sequence != first {
		t.Fatalf("ack %+v, %v", ack, err)
	}
	got, seqs := replayAll(t, l)
	if len(got) != 4 || len(seqs) != 1 {
		t.Fatalf("replayed %d records in %d batches", len(got), len(seqs))
	}
	info, err := s.StreamInfo(ctx)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream holds %d messages, %v", info.State.Msgs, err)
	}
}

// App names become one safe subject token each; bad names are refused.
func TestAppNames(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	names := []string{"a", "a.b", "*", ">", "with space", "a.>", strings.Repeat("\xff", event.MaxApp), "ünï/cödé"}
	for i, name := range names {
		l := s.App(name)
		tok := strings.TrimPrefix(l.Subject(), s.prefix)
		if strings.ContainsAny(tok, ".*> \t") || tok == "" {
			t.Fatalf("%q: token %q", name, tok)
		}
		if _, err := l.Append(ctx, 0, recs(name, i, 1)); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
	}
	for i, name := range names {
		got, _ := replayAll(t, s.App(name))
		if len(got) != 1 || got[0].At != int64(i) {
			t.Fatalf("%q replayed %+v", name, got)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", event.MaxApp+1)} {
		if _, err := s.App(bad).Last(ctx); !errors.Is(err, ErrAppName) {
			t.Fatalf("%d bytes: %v", len(bad), err)
		}
		if err := s.PutSnapshot(ctx, bad, 1, strings.NewReader("x")); !errors.Is(err, ErrAppName) {
			t.Fatalf("snapshot of %d bytes: %v", len(bad), err)
		}
	}
}

// A message on the subject that is not a batch stops Replay with
// ErrMalformed.
func TestReplayMalformed(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	seq, err := l.Append(ctx, 0, recs("shop", 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.js.Publish(ctx, l.Subject(), []byte{9, 9, 9}); err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(l.Subject())
	m.Header.Set(HeaderKind, "compaction")
	if _, err := s.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	end, err := l.Replay(ctx, 0, 0, func(uint64, []event.Record) error { return nil })
	if !errors.Is(err, ErrMalformed) || end != seq {
		t.Fatalf("end %d, %v", end, err)
	}
	_, err = l.Replay(ctx, seq+1, 0, func(uint64, []event.Record) error { return nil })
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "compaction") {
		t.Fatalf("unknown kind: %v", err)
	}
}

// Snapshots round-trip with their sequence; the newest replaces the one
// before; Purge removes the app's log and snapshot.
func TestSnapshots(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	if _, _, err := s.GetSnapshot(ctx, "shop"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("no snapshot: %v", err)
	}
	big := make([]byte, 300<<10) // several chunks
	rand.Read(big)
	for i, snap := range []struct {
		seq  uint64
		data []byte
	}{{7, big}, {42, []byte("newer")}} {
		if err := s.PutSnapshot(ctx, "shop", snap.seq, bytes.NewReader(snap.data)); err != nil {
			t.Fatal(err)
		}
		seq, rc, err := s.GetSnapshot(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || seq != snap.seq || !bytes.Equal(got, snap.data) {
			t.Fatalf("snapshot %d: seq %d, %d bytes, %v", i, seq, len(got), err)
		}
	}
	if _, _, err := s.GetSnapshot(ctx, "blog"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("another app: %v", err)
	}
	// Only the newest snapshot's bytes remain in the bucket.
	st, err := s.obs.Status(ctx)
	if err != nil || st.Size() > 4<<10 {
		t.Fatalf("bucket holds %d bytes, %v", st.Size(), err)
	}

	l := s.App("shop")
	last, err := l.Append(ctx, 0, recs("shop", 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	w := l.Writer(last, 0)
	defer w.Close()
	if err := s.Purge(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetSnapshot(ctx, "shop"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("after purge: %v", err)
	}
	if got, err := l.Last(ctx); err != nil || got != 0 {
		t.Fatalf("Last after purge = %d, %v", got, err)
	}
	if err := w.AppendBatch(recs("shop", 3, 1)); !errors.Is(err, ErrFenced) {
		t.Fatalf("writer after purge: %v", err)
	}
	if err := s.Purge(ctx, "never"); err != nil {
		t.Fatalf("purge of an app with nothing: %v", err)
	}
	if _, err := l.Append(ctx, 0, recs("shop", 9, 1)); err != nil {
		t.Fatalf("append after purge: %v", err)
	}
}

// The stream is created as the issue asks, and Connect again updates it.
func TestStreamConfig(t *testing.T) {
	n, s := single(t)
	ctx := testCtx(t)
	info, err := s.StreamInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.Name != "SESSIONS" || !reflect.DeepEqual(c.Subjects, []string{"sessions.app.*", "sessions.snap.*"}) || c.Storage != jetstream.FileStorage ||
		c.Duplicates != DuplicateWindow || c.Replicas != 1 || c.DenyPurge || c.DenyDelete || c.MaxMsgs != -1 || c.MaxBytes != -1 || c.MaxAge != 0 {
		t.Fatalf("stream config %+v", c)
	}
	s2 := connect(t, Config{URL: n.ClientURL()})
	if _, err := s2.App("x").Append(ctx, 0, recs("x", 0, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := Connect(ctx, Config{URL: n.ClientURL(), Stream: "a.b"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad stream name: %v", err)
	}
	if _, err := StartNode(NodeConfig{ClusterName: "c", Dir: t.TempDir()}); !errors.Is(err, ErrConfig) {
		t.Fatalf("cluster member without a name: %v", err)
	}
}

func TestHeaderValue(t *testing.T) {
	for in, want := range map[string]string{
		"member-1":               "member-1",
		"evil\r\nX-Other: 1":     "evilX-Other: 1",
		"tab\there":              "tabhere",
		strings.Repeat("é", 200): strings.Repeat("é", 128),
	} {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// Connect retries a server that does not answer until its context ends.
func TestConnectGivesUp(t *testing.T) {
	port := freePorts(t, 1)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := Connect(ctx, Config{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), Logger: testLog(t)})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, nats.ErrNoServers) {
		t.Fatalf("err %v, want the deadline and nats.ErrNoServers", err)
	}
}
