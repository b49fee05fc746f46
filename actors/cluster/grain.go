package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/cluster/clusterpb"
	"github.com/sessionserver/sessionserver/actors/event"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/snapshot/jetlog"
)

// ErrActivating: the app's grain is still reading the app back.
var ErrActivating = errors.New("cluster: the app is being activated on this member")

// activationTimeout bounds an activation: reading the snapshot (a
// stream leader may be elected meanwhile) and the subject after it.
const activationTimeout = 2 * time.Minute

// activationWait is how long a request that reaches a grain still
// activating waits for it before its 503.
const activationWait = 5 * time.Second

// fencedMsg tells a grain that another member has claimed its app.
type fencedMsg struct{}

// appGrain is an app's placement on this member (see the package doc).
type appGrain struct {
	m    *Member
	app  string
	self *actor.PID
	root *actor.RootContext
	log  *jetlog.AppLog

	mu     sync.Mutex // activation against deactivation
	gone   bool
	writer *jetlog.Writer
	owned  *ownedWriter
	stop   chan struct{}

	ready atomic.Bool
	// activated is closed once activation ended, ready or failed.
	activated chan struct{}
	// proof is when ownership was last proven (an acknowledged publish, a
	// check of the subject), as time since the member's epoch.
	proof   atomic.Int64
	leaseMu sync.Mutex
}

func (g *appGrain) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *cluster.ClusterInit:
		g.app = msg.Identity.Identity
		g.self = ctx.Self()
		g.root = ctx.ActorSystem().Root
		g.log = g.m.cfg.Store.App(g.app)
		g.stop = make(chan struct{})
		g.activated = make(chan struct{})
		g.m.register(g)
		go g.activate()
	case *clusterpb.Request:
		sender := ctx.Sender()
		if sender == nil {
			return
		}
		// Answered beside the grain: an app's requests run at once, as
		// they do on a single node, each waiting for its own publish.
		go func() { g.root.Send(sender, g.serve(msg)) }()
	case *fencedMsg:
		g.m.log.Info("app's grain stops here: another member claimed the app, or its writer stopped", "app", g.app)
		ctx.Stop(ctx.Self())
	case *actor.Stopping:
		g.deactivate()
	}
}

// activate reads the app back (snapshot, then the subject), claims it and
// hands it to the engine; a failure stops the grain, and the next
// request activates it again.
func (g *appGrain) activate() {
	began := time.Now()
	defer close(g.activated)
	ctx, cancel := context.WithTimeout(context.Background(), activationTimeout)
	go func() {
		select {
		case <-g.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	defer cancel()
	app, claim, prior, replayed, err := g.load(ctx)
	if err != nil {
		g.m.log.Error("app not activated", "app", g.app, "err", err)
		g.root.Stop(g.self)
		return
	}
	if prior > 0 {
		// Another member may have owned the app until the claim, and it
		// serves reads for a lease after its last proof, which came
		// before the claim: this member answers nothing before that lease
		// has run out, so that no read anywhere misses its writes.
		t := time.NewTimer(lease)
		select {
		case <-t.C:
		case <-g.stop:
			t.Stop()
			return
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone {
		return
	}
	g.writer = g.log.Writer(claim, g.m.cfg.AppendTimeout)
	g.owned = &ownedWriter{w: g.writer, g: g}
	g.m.cfg.Engine.Adopt(g.app, app)
	g.m.cfg.Journal.own(g.app, g.owned)
	g.prove(time.Now())
	g.ready.Store(true)
	go g.watch(g.writer)
	if every := g.m.cfg.SnapshotEvery; every > 0 {
		go g.snapshots(every, claim)
	}
	g.m.log.Info("app activated", "app", g.app, "sessions", app.Sessions(), "replayed_batches", replayed, "claim_seq", claim, "took", time.Since(began))
}

// load returns the app's state as its log holds it, the sequence of this
// member's claim on it and of the subject's last message before it.
//
// The log a snapshot covers is purged once a newer snapshot is recorded
// (jetlog.Store.PutSnapshot), so after each replay load checks that the
// snapshot it started from is still the recorded one; if not, the log
// after it may have been purged under the replay, and load starts again
// from the newer snapshot.
//
// The first attempt reads the snapshot its hint in the bucket names
// (jetlog.Store.GetSnapshotHint), so that reading it overlaps the log's
// stream electing a leader after a member died; the check after the
// replay tells whether the hint was current. Any failure of that attempt
// is followed by one from the record on the log's stream.
func (g *appGrain) load(ctx context.Context) (app *analytics.App, claim, prior uint64, replayed int, err error) {
	hint := true
	for {
		app, claim, prior, replayed, err = g.loadFrom(ctx, hint)
		switch {
		case err == nil || ctx.Err() != nil:
			return app, claim, prior, replayed, err
		case hint:
			g.m.log.Info("app activation from the snapshot hint failed: reading the recorded snapshot", "app", g.app, "err", err)
			hint = false
		case errors.Is(err, jetlog.ErrSuperseded):
			g.m.log.Info("app snapshot replaced during activation: reading the newer one", "app", g.app)
		default:
			return app, claim, prior, replayed, err
		}
	}
}

// loadFrom is one attempt of load, from the snapshot recorded when it
// begins (or hinted, with hint); an error wrapping jetlog.ErrSuperseded
// if that was not, or is no longer, the recorded one.
func (g *appGrain) loadFrom(ctx context.Context, hint bool) (app *analytics.App, claim, prior uint64, replayed int, err error) {
	st, base, err := g.readSnapshot(ctx, hint)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	after := base
	for {
		last, err := g.log.Replay(ctx, after, 0, func(_ uint64, recs []event.Record) error {
			replayed++
			for i := range recs {
				if err := st.Apply(&recs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err := g.sameSnapshot(ctx, base); err != nil {
			return nil, 0, 0, 0, err
		}
		if err != nil {
			return nil, 0, 0, 0, fmt.Errorf("replay of %q after %d: %w", g.app, after, err)
		}
		claim, err = g.log.Claim(ctx, last, g.m.cfg.Member)
		if errors.Is(err, jetlog.ErrFenced) {
			after = max(after, last) // another member wrote meanwhile: read it too
			continue
		}
		if err != nil {
			return nil, 0, 0, 0, fmt.Errorf("claim of %q: %w", g.app, err)
		}
		if app = st.Apps[g.app]; app == nil {
			app = analytics.NewApp()
		}
		return app, claim, last, replayed, nil
	}
}

// sameSnapshot returns nil if the app's recorded snapshot still covers
// base, and an error wrapping jetlog.ErrSuperseded if a newer one was
// recorded.
func (g *appGrain) sameSnapshot(ctx context.Context, base uint64) error {
	now, err := g.m.cfg.Store.SnapshotSeq(ctx, g.app)
	switch {
	case err != nil:
		return fmt.Errorf("snapshot of %q: %w", g.app, err)
	case now != base:
		return fmt.Errorf("snapshot of %q: %w: at %d, read at %d", g.app, jetlog.ErrSuperseded, now, base)
	}
	return nil
}

// readSnapshot returns the app's newest snapshot and the sequence it
// covers; an empty state at 0 when it has none.
func (g *appGrain) readSnapshot(ctx context.Context, hint bool) (*analytics.State, uint64, error) {
	get := g.m.cfg.Store.GetSnapshot
	if hint {
		get = g.m.cfg.Store.GetSnapshotHint
	}
	seq, rc, err := get(ctx, g.app)
	if errors.Is(err, jetlog.ErrNoSnapshot) {
		return analytics.NewState(), 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("snapshot of %q: %w", g.app, err)
	}
	defer rc.Close()
	zr, err := zstd.NewReader(rc, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, 0, fmt.Errorf("snapshot of %q: %w", g.app, err)
	}
	defer zr.Close()
	st, err := analytics.ReadState(zr)
	if err != nil {
		return nil, 0, fmt.Errorf("snapshot of %q at %d: %w", g.app, seq, err)
	}
	return st, seq, nil
}

// watch stops the grain once its writer has stopped: fenced, or without
// a definite answer for a batch (which may or may not be in the log). The
// next request activates the app again, from the log.
func (g *appGrain) watch(w *jetlog.Writer) {
	select {
	case <-w.Done():
		g.ready.Store(false)
		if !errors.Is(w.Err(), jetlog.ErrFenced) && !errors.Is(w.Err(), jetlog.ErrClosed) {
			g.m.log.Warn("app's log writer stopped; the app is read back from the log", "app", g.app, "err", w.Err())
		}
		g.root.Send(g.self, &fencedMsg{})
	case <-g.stop:
	}
}

// deactivate refuses the app's writes from now on and drops the app from
// the engine: another member takes it from the log.
func (g *appGrain) deactivate() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gone {
		return
	}
	g.gone = true
	g.ready.Store(false)
	close(g.stop)
	g.m.unregister(g)
	if g.writer == nil {
		return
	}
	g.m.cfg.Journal.release(g.app, g.owned)
	g.writer.Close()
	if _, err := g.m.cfg.Engine.Drop(g.app); err != nil {
		g.m.log.Warn("app not dropped cleanly", "app", g.app, "err", err)
	}
	g.m.log.Info("app left this member", "app", g.app, "last_seq", g.writer.Last())
}

// prove records that the app was still this member's at t: the time a
// publish that was then acknowledged, or a check that then succeeded, was
// sent (not answered: an answer can arrive late, after a freeze).
func (g *appGrain) prove(t time.Time) {
	at := int64(t.Sub(g.m.epoch))
	for {
		old := g.proof.Load()
		if at <= old || g.proof.CompareAndSwap(old, at) {
			return
		}
	}
}

// checkLease returns nil while the grain may serve: within lease of its
// last proof of ownership, or after checking that the app's subject ends
// with this member's own message. Another member's message fences it.
func (g *appGrain) checkLease() error {
	if !g.ready.Load() {
		return ErrActivating
	}
	fresh := func() bool { return time.Since(g.m.epoch)-time.Duration(g.proof.Load()) < lease }
	if fresh() {
		return nil
	}
	g.leaseMu.Lock()
	defer g.leaseMu.Unlock()
	if fresh() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.m.cfg.RequestTimeout)
	defer cancel()
	mine := g.writer.Last()
	sent := time.Now()
	last, err := g.log.Last(ctx)
	if err != nil {
		return fmt.Errorf("cluster: ownership of %q not checked: %w", g.app, err)
	}
	if last > mine {
		// Another member's claim or write, or one of ours whose
		// acknowledgement is on its way: either way the grain starts
		// again from the log.
		g.ready.Store(false)
		g.root.Send(g.self, &fencedMsg{})
		return fmt.Errorf("%w: the subject of %q is at %d, this member at %d", jetlog.ErrFenced, g.app, last, mine)
	}
	g.prove(sent)
	return nil
}

// serve answers a request forwarded to this member, as its own front end
// would: the server's handler checks the grain (Member.Forward) and then
// asks the engine.
func (g *appGrain) serve(req *clusterpb.Request) *clusterpb.Response {
	// The request that activated the grain waits for it, a while.
	t := time.NewTimer(activationWait)
	select {
	case <-g.activated:
	case <-t.C:
	}
	t.Stop()
	var r fasthttp.Request
	r.Header.SetMethod(req.Method)
	r.SetRequestURI(req.Uri)
	for _, h := range req.Headers {
		r.Header.Add(h.Name, h.Value)
	}
	r.SetBody(req.Body)
	var ctx fasthttp.RequestCtx
	ctx.Init(&r, remoteAddr(req.Remote), nil)
	if srv := g.m.server.Load(); srv != nil {
		srv.HandleForwarded(&ctx)
	} else {
		sshttp.WriteError(&ctx, sshttp.Moving("app", ErrActivating))
	}
	return response(&ctx.Response, g.m.cfg.Member)
}

// snapshots writes the app's snapshot every period while its log grows.
func (g *appGrain) snapshots(period time.Duration, from uint64) {
	t := time.NewTicker(period)
	defer t.Stop()
	done := from
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		through := g.writer.Last()
		if through <= done {
			continue
		}
		began := time.Now()
		size, marked, err := g.snapshot(through)
		if err != nil {
			g.m.log.Warn("app snapshot not written", "app", g.app, "through", through, "err", err)
			continue
		}
		g.m.log.Info("app snapshot written", "app", g.app, "through", through, "bytes", size, "took", time.Since(began))
		done = max(through, marked)
	}
}

// snapshot builds the app's state through seq beside the live one (the
// previous snapshot and the subject after it) and stores it, which
// compacts the log under it. If through is still the subject's last
// message, a marker (jetlog.Writer.Mark) is appended first, so that the
// compaction can purge that batch too (the writer expects the subject's
// last message to stay); marked is the marker's sequence, which needs no
// snapshot of its own.
func (g *appGrain) snapshot(through uint64) (size int, marked uint64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, after, err := g.readSnapshot(ctx, false)
	if err != nil {
		return 0, 0, err
	}
	if after >= through {
		return 0, 0, nil
	}
	if _, err := g.log.Replay(ctx, after, through, func(_ uint64, recs []event.Record) error {
		for i := range recs {
			if err := st.Apply(&recs[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	// The log after the snapshot read is purged once a newer one is
	// recorded: build on it only if it is still the recorded one.
	if err := g.sameSnapshot(ctx, after); err != nil {
		return 0, 0, err
	}
	one := analytics.NewState()
	if a := st.Apps[g.app]; a != nil {
		one.Apps[g.app] = a
	}
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return 0, 0, err
	}
	if err := analytics.WriteState(zw, one); err != nil {
		return 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, err
	}
	if g.writer.Last() == through {
		if marked, err = g.writer.Mark(g.m.cfg.Member); err != nil {
			return 0, 0, err
		}
	}
	size = buf.Len()
	return size, marked, g.m.cfg.Store.PutSnapshot(ctx, g.app, through, &buf)
}

// ownedWriter is the journal's writer of an owned app: each acknowledged
// publish proves the ownership again.
type ownedWriter struct {
	w *jetlog.Writer
	g *appGrain
}

func (o *ownedWriter) Append(rec *event.Record) error {
	sent := time.Now()
	if err := o.w.Append(rec); err != nil {
		return err
	}
	o.g.prove(sent)
	return nil
}

func (o *ownedWriter) AppendBatch(recs []event.Record) error {
	sent := time.Now()
	if err := o.w.AppendBatch(recs); err != nil {
		return err
	}
	o.g.prove(sent)
	return nil
}

func remoteAddr(s string) net.Addr {
	if ap, err := net.ResolveTCPAddr("tcp", s); err == nil {
		return ap
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}
