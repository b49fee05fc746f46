package jetlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sessionserver/sessionserver/actors/event"
)

// subjectCount returns how many messages the stream holds on subject.
func subjectCount(t *testing.T, s *Store, subject string) uint64 {
	t.Helper()
	info, err := s.stream.Info(testCtx(t), jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

// objects returns the names of the bucket's objects.
func objects(t *testing.T, s *Store) []string {
	t.Helper()
	list, err := s.obs.List(testCtx(t))
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range list {
		if !strings.HasSuffix(o.Name, ".hint") {
			names = append(names, o.Name)
		}
	}
	return names
}

// readSnapshot returns the app's snapshot's sequence and bytes.
func readSnapshot(t *testing.T, s *Store, app string) (uint64, []byte) {
	t.Helper()
	return readWith(t, s.GetSnapshot, app)
}

// readWith reads the app's snapshot with get (GetSnapshot or
// GetSnapshotHint).
func readWith(t *testing.T, get func(context.Context, string) (uint64, io.ReadCloser, error), app string) (uint64, []byte) {
	t.Helper()
	seq, rc, err := get(testCtx(t), app)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return seq, data
}

// A snapshot compacts the app's log: what it covers is purged (the
// subject's last message kept, for the writer's expectation), the rest
// replays after it, the writer goes on, and one object and one record
// are left.
func TestSnapshotCompactsLog(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	other := s.App("blog")
	if _, err := other.Append(ctx, 0, recs("blog", 0, 2)); err != nil {
		t.Fatal(err)
	}
	var last uint64
	var seqs []uint64
	for i := range 6 {
		var err error
		last, err = l.Append(ctx, last, recs("shop", 10*i, 10))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, last)
	}
	// Through the fourth batch: the first four go, two stay.
	if err := s.PutSnapshot(ctx, "shop", seqs[3], bytes.NewReader([]byte("through 4"))); err != nil {
		t.Fatal(err)
	}
	if n := subjectCount(t, s, l.Subject()); n != 2 {
		t.Fatalf("after a snapshot through batch 4 of 6 the subject holds %d messages, want 2", n)
	}
	var got []uint64
	if _, err := l.Replay(ctx, seqs[3], 0, func(seq uint64, _ []event.Record) error { got = append(got, seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(seqs[4:]) {
		t.Fatalf("replay after the snapshot: %v, want %v", got, seqs[4:])
	}
	// Through the last batch: it stays, so the writer's next append
	// still finds the subject's last message where it expects it.
	if err := s.PutSnapshot(ctx, "shop", last, bytes.NewReader([]byte("through 6"))); err != nil {
		t.Fatal(err)
	}
	if n := subjectCount(t, s, l.Subject()); n != 1 {
		t.Fatalf("after a snapshot through the last batch the subject holds %d messages, want 1", n)
	}
	w := l.Writer(last, 0)
	defer w.Close()
	if err := w.AppendBatch(recs("shop", 60, 3)); err != nil {
		t.Fatalf("the writer after compaction: %v", err)
	}
	if seq, data := readSnapshot(t, s, "shop"); seq != last || string(data) != "through 6" {
		t.Fatalf("snapshot %d %q", seq, data)
	}
	if names := objects(t, s); len(names) != 1 {
		t.Fatalf("bucket objects %v, want the newest only", names)
	}
	if n := subjectCount(t, s, s.snapPrefix+l.token); n != 1 {
		t.Fatalf("%d snapshot records kept, want 1", n)
	}
	if n := subjectCount(t, s, other.Subject()); n != 1 {
		t.Fatalf("another app's subject holds %d messages, want its 1", n)
	}
	if seq, err := s.SnapshotSeq(ctx, "shop"); err != nil || seq != last {
		t.Fatalf("SnapshotSeq = %d, %v; want %d", seq, err, last)
	}
	if seq, err := s.SnapshotSeq(ctx, "blog"); err != nil || seq != 0 {
		t.Fatalf("SnapshotSeq of an app without one = %d, %v", seq, err)
	}
}

// appendEach appends n batches of one record each and returns their
// sequences.
func appendEach(t *testing.T, l *AppLog, n int) []uint64 {
	t.Helper()
	var seqs []uint64
	var last uint64
	for i := range n {
		var err error
		if last, err = l.Append(testCtx(t), last, recs(l.app, i, 1)); err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, last)
	}
	return seqs
}

// A snapshot older than the recorded one (a former owner's, late) is
// refused with ErrSuperseded: its object is deleted and nothing more of
// the log is purged.
func TestSnapshotSuperseded(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	seqs := appendEach(t, l, 4)
	if err := s.PutSnapshot(ctx, "shop", seqs[2], bytes.NewReader([]byte("new"))); err != nil {
		t.Fatal(err)
	}
	before := subjectCount(t, s, l.Subject())
	for _, seq := range []uint64{seqs[0], seqs[2]} {
		err := s.PutSnapshot(ctx, "shop", seq, bytes.NewReader([]byte("late")))
		if !errors.Is(err, ErrSuperseded) {
			t.Fatalf("a snapshot at %d after one at %d: %v", seq, seqs[2], err)
		}
	}
	if seq, data := readSnapshot(t, s, "shop"); seq != seqs[2] || string(data) != "new" {
		t.Fatalf("snapshot %d %q after late ones", seq, data)
	}
	if names := objects(t, s); len(names) != 1 {
		t.Fatalf("bucket objects %v, want the recorded one only", names)
	}
	if n := subjectCount(t, s, l.Subject()); n != before {
		t.Fatalf("the subject went from %d to %d messages", before, n)
	}
}

// Snapshots put at once from several writers leave the highest recorded,
// its object alone in the bucket, and the log purged below it only.
func TestSnapshotConcurrentPuts(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	seqs := appendEach(t, l, 12)
	last := seqs[len(seqs)-1]
	var wg sync.WaitGroup
	errs := make([]error, len(seqs))
	for i, seq := range seqs {
		wg.Go(func() {
			errs[i] = s.PutSnapshot(ctx, "shop", seq, bytes.NewReader([]byte(strconv.FormatUint(seq, 10))))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrSuperseded) {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if errs[len(errs)-1] != nil {
		t.Fatalf("the highest put: %v", errs[len(errs)-1])
	}
	seq, data := readSnapshot(t, s, "shop")
	if seq != last || string(data) != strconv.FormatUint(last, 10) {
		t.Fatalf("snapshot %d %q, want %d", seq, data, last)
	}
	if names := objects(t, s); len(names) != 1 {
		t.Fatalf("bucket objects %v, want one", names)
	}
	if n := subjectCount(t, s, l.Subject()); n != 1 {
		t.Fatalf("subject holds %d messages, want the last", n)
	}
}

// A snapshot stored before snapshot records (an object named by the
// app's token) is read, and replaced by the first recorded one.
func TestSnapshotBeforeRecords(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	meta := jetstream.ObjectMeta{Name: l.token, Headers: nats.Header{HeaderSeq: []string{"1"}}}
	if _, err := s.obs.Put(ctx, meta, bytes.NewReader([]byte("old format"))); err != nil {
		t.Fatal(err)
	}
	if seq, data := readSnapshot(t, s, "shop"); seq != 1 || string(data) != "old format" {
		t.Fatalf("snapshot %d %q", seq, data)
	}
	if seq, err := s.SnapshotSeq(ctx, "shop"); err != nil || seq != 1 {
		t.Fatalf("SnapshotSeq = %d, %v", seq, err)
	}
	if err := s.PutSnapshot(ctx, "shop", 1, bytes.NewReader(nil)); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("a recorded snapshot no newer than the old one: %v", err)
	}
	if err := s.PutSnapshot(ctx, "shop", 5, bytes.NewReader([]byte("recorded"))); err != nil {
		t.Fatal(err)
	}
	if seq, data := readSnapshot(t, s, "shop"); seq != 5 || string(data) != "recorded" {
		t.Fatalf("snapshot %d %q", seq, data)
	}
	if names := objects(t, s); len(names) != 1 || names[0] == l.token {
		t.Fatalf("bucket objects %v, want the recorded one only", names)
	}
}

// Purge removes the app's records and its recorded snapshot too.
func TestPurgeRemovesSnapshotRecords(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	last, err := l.Append(ctx, 0, recs("shop", 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSnapshot(ctx, "shop", last, bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.GetSnapshot(ctx, "shop"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("after purge: %v", err)
	}
	if names := objects(t, s); len(names) != 0 {
		t.Fatalf("bucket objects %v after purge", names)
	}
	if n := subjectCount(t, s, s.snapPrefix+l.token); n != 0 {
		t.Fatalf("%d snapshot records after purge", n)
	}
	// A first snapshot after the purge is recorded from scratch.
	last, err = l.Append(ctx, 0, recs("shop", 3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSnapshot(ctx, "shop", last, bytes.NewReader([]byte("y"))); err != nil {
		t.Fatalf("snapshot after purge: %v", err)
	}
}

// GetSnapshotHint reads the snapshot the bucket's hint names: the
// recorded one after each put; a stale hint is returned as it is (the
// caller's check against SnapshotSeq tells), and a hint whose object is
// gone, or no hint, falls back to the record.
func TestSnapshotHint(t *testing.T) {
	_, s := single(t)
	ctx := testCtx(t)
	l := s.App("shop")
	hinted := func() (uint64, string) {
		t.Helper()
		seq, data := readWith(t, s.GetSnapshotHint, "shop")
		return seq, string(data)
	}
	if _, _, err := s.GetSnapshotHint(ctx, "shop"); !errors.Is(err, ErrNoSnapshot) {
		t.Fatalf("no snapshot: %v", err)
	}
	if err := s.PutSnapshot(ctx, "shop", 5, bytes.NewReader([]byte("five"))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.obs.GetInfo(ctx, hintName(l)); err != nil {
		t.Fatalf("no hint after a put: %v", err)
	}
	if seq, data := hinted(); seq != 5 || data != "five" {
		t.Fatalf("hinted %d %q", seq, data)
	}
	// An old owner's object kept, and the hint put back to it: stale.
	stale := jetstream.ObjectMeta{Name: l.token + ".3.x", Headers: nats.Header{HeaderSeq: []string{"3"}}}
	if _, err := s.obs.Put(ctx, stale, bytes.NewReader([]byte("three"))); err != nil {
		t.Fatal(err)
	}
	hint := jetstream.ObjectMeta{Name: hintName(l), Headers: nats.Header{HeaderSeq: []string{"3"}, HeaderObject: []string{stale.Name}}}
	if _, err := s.obs.Put(ctx, hint, bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if seq, data := hinted(); seq != 3 || data != "three" {
		t.Fatalf("stale hint read %d %q", seq, data)
	}
	if seq, err := s.SnapshotSeq(ctx, "shop"); err != nil || seq != 5 {
		t.Fatalf("SnapshotSeq = %d, %v: the check that tells a stale hint", seq, err)
	}
	// The hint's object gone: the record's snapshot.
	if err := s.obs.Delete(ctx, stale.Name); err != nil {
		t.Fatal(err)
	}
	if seq, data := hinted(); seq != 5 || data != "five" {
		t.Fatalf("hint to a deleted object: %d %q", seq, data)
	}
	if err := s.Purge(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.obs.GetInfo(ctx, hintName(l)); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Fatalf("hint after purge: %v", err)
	}
}
