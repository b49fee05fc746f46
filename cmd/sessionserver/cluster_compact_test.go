package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sessionserver/sessionserver/snapshot/jetlog"
)

// jetStreamHolds returns the places of JetStream (the app's subject in
// the stream, its snapshot records, the bucket's objects, decompressed)
// whose bytes contain needle, and how many snapshot records the app has.
func jetStreamHolds(ctx context.Context, js jetstream.JetStream, app string, needle []byte) (found []string, records uint64, err error) {
	stream, err := js.Stream(ctx, jetlog.DefaultStream)
	if err != nil {
		return nil, 0, err
	}
	token := jetlog.AppToken(app)
	logSubject, snapSubject := "sessions.app."+token, "sessions.snap."+token
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter("sessions.>"))
	if err != nil {
		return nil, 0, err
	}
	records = info.State.Subjects[snapSubject]
	for seq := uint64(1); ; {
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(logSubject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("reading %s from %d: %w", logSubject, seq, err)
		}
		if bytes.Contains(m.Data, needle) {
			found = append(found, fmt.Sprintf("log message %d", m.Sequence))
		}
		seq = m.Sequence + 1
	}
	obs, err := js.ObjectStore(ctx, jetlog.DefaultBucket)
	if err != nil {
		return nil, 0, err
	}
	list, err := obs.List(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, 0, err
	}
	for _, o := range list {
		data, err := obs.GetBytes(ctx, o.Name)
		if err != nil {
			return nil, 0, err
		}
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, 0, err
		}
		plain, err := io.ReadAll(zr)
		zr.Close()
		if err != nil {
			return nil, 0, err
		}
		if bytes.Contains(plain, needle) {
			found = append(found, "snapshot object "+o.Name)
		}
	}
	return found, records, nil
}

// TestClusterErasureCompacts: a user erased and an app deleted leave
// JetStream (the app's subject and every snapshot object) at the app's
// next snapshot, and the app, moved to another member afterwards, comes
// back from the compacted log with what it should hold.
func TestClusterErasureCompacts(t *testing.T) {
	tc := startCluster(t, 3, "-snapshot-interval", "1s")
	const app, gone = "erase-app", "gone-user-7f3a"
	c := newClient(t, tc.members[0].p.addr)
	for i := range 20 {
		for _, user := range []string{gone, "kept"} {
			if code, body, err := c.post("/api/pages/track", map[string]any{"app": app, "user": user, "page": fmt.Sprintf("/p/%d", i), "timespent": 3}); err != nil || code != 200 {
				t.Fatalf("track: %d %v %v", code, body, err)
			}
			if code, body, err := c.post("/api/pages/track", map[string]any{"app": "drop-app", "user": user, "page": "/drop-page-9c1e", "timespent": 3}); err != nil || code != 200 {
				t.Fatalf("track: %d %v %v", code, body, err)
			}
		}
	}
	nc, err := nats.Connect("nats://" + argOf(tc.members[0].args, "-nats-addr"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Before: the log holds the user (the snapshot may too).
	if found, _, err := jetStreamHolds(ctx, js, app, []byte(gone)); err != nil || len(found) == 0 {
		t.Fatalf("before the erasure JetStream should hold the user: %v %v", found, err)
	}
	if code, body, err := c.post("/api/users/delete", map[string]any{"app": app, "user": gone}); err != nil || code != 200 {
		t.Fatalf("erase: %d %v %v", code, body, err)
	}
	if code, body, err := c.post("/api/apps/delete", map[string]any{"app": "drop-app"}); err != nil || code != 200 {
		t.Fatalf("delete app: %d %v %v", code, body, err)
	}
	began := time.Now()
	var last []string
	clusterWait(t, func() bool {
		a, records, err := jetStreamHolds(ctx, js, app, []byte(gone))
		if err != nil {
			last = []string{err.Error()}
			return false
		}
		d, _, err := jetStreamHolds(ctx, js, "drop-app", []byte("/drop-page-9c1e"))
		if err != nil {
			last = []string{err.Error()}
			return false
		}
		last = append(a, d...)
		return len(last) == 0 && records == 1
	}, func() string { return fmt.Sprintf("still holding: %v\n%s", last, tc.logs()) })
	t.Logf("the erased user and the deleted app left JetStream %v after their erasure", time.Since(began).Round(time.Millisecond))

	// The app moves: its new owner reads the compacted log.
	via := newClient(t, tc.members[0].p.addr)
	owner := tc.index(tc.owner(via, app))
	tc.members[owner].p.kill()
	survivor := newClient(t, tc.members[(owner+1)%3].p.addr)
	var answer string
	clusterWait(t, func() bool {
		code, body, err := survivor.post("/api/pages/stats", map[string]any{"app": app})
		answer = fmt.Sprint(code, body, err)
		return err == nil && code == 200 && statsVisits(body) == 20
	}, func() string { return "the last answer: " + answer })
	if code, body, err := survivor.post("/api/pages/stats", map[string]any{"app": app, "user": gone}); err != nil || code != 200 || statsVisits(body) != 0 {
		t.Fatalf("the erased user after the move: %d %v %v", code, body, err)
	}
}

// statsVisits sums the visits of a /api/pages/stats answer's data.
func statsVisits(body map[string]any) int {
	n := 0
	pages, _ := body["page_stats"].(map[string]any)
	for _, p := range pages {
		if m, ok := p.(map[string]any); ok {
			if v, ok := m["visits"].(float64); ok {
				n += int(v)
			}
		}
	}
	return n
}
