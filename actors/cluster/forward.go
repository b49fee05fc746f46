package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors/cluster/clusterpb"
	sshttp "github.com/sessionserver/sessionserver/http"
)

// HeaderServedBy names, on each answer about an app, the member that owns
// the app and answered it.
const HeaderServedBy = "Sessionserver-Member"

// errNoOwner: the cluster placed the app nowhere (no member alive yet).
var errNoOwner = errors.New("cluster: no member to place the app on")

// Forward implements http.Placement: a request for an app this member
// holds, ready and within its lease, is served here; one for an app
// owned elsewhere (or not active anywhere yet) is sent to the app's
// grain, once, and its answer written out.
func (m *Member) Forward(ctx *fasthttp.RequestCtx, app string, forwarded bool) (bool, error) {
	if g := m.grain(app); g != nil && g.ready.Load() {
		if err := g.checkLease(); err != nil {
			return true, sshttp.Moving("app", err)
		}
		ctx.Response.Header.Set(HeaderServedBy, m.cfg.Member)
		return false, nil
	}
	if forwarded {
		// Sent here as the owner, and not (or no longer) the owner: the
		// sender's view of the cluster is behind; it learns on retry.
		return true, sshttp.Moving("app", ErrNotOwner)
	}
	if m.closed.Load() {
		return true, sshttp.Moving("app", ErrNotOwner)
	}
	pid, err := m.lookup(app)
	if err != nil {
		return true, sshttp.Moving("app", err)
	}
	res, err := m.ask(pid, request(ctx, m.cfg.Member))
	if err != nil {
		m.cluster.PidCache.Remove(app, kindApp)
		if errors.Is(err, actor.ErrTimeout) || errors.Is(err, remote.ErrTimeout) {
			return true, sshttp.Unanswered("app", err)
		}
		return true, sshttp.Moving("app", err)
	}
	resp, ok := res.(*clusterpb.Response)
	if !ok || resp.Status == 0 {
		return true, sshttp.Moving("app", errors.New("cluster: the owner's answer is not a response"))
	}
	writeResponse(ctx, resp)
	return true, nil
}

// hopByHop are the headers that belong to one connection, not to the
// request or answer that crosses members.
func hopByHop(name []byte) bool {
	switch string(name) {
	case fasthttp.HeaderContentLength, fasthttp.HeaderConnection, fasthttp.HeaderTransferEncoding,
		fasthttp.HeaderDate, fasthttp.HeaderServer, "Keep-Alive":
		return true
	}
	return false
}

// request is ctx's request, its body read, as it crosses to the owner.
func request(ctx *fasthttp.RequestCtx, member string) *clusterpb.Request {
	req := &clusterpb.Request{
		Method: string(ctx.Method()),
		Uri:    string(ctx.RequestURI()),
		Body:   ctx.PostBody(),
		Remote: ctx.RemoteAddr().String(),
		Member: member,
	}
	for k, v := range ctx.Request.Header.All() {
		if !hopByHop(k) {
			req.Headers = append(req.Headers, &clusterpb.Header{Name: string(k), Value: string(v)})
		}
	}
	return req
}

// response is the owner's answer as it crosses back.
func response(r *fasthttp.Response, member string) *clusterpb.Response {
	out := &clusterpb.Response{Status: int32(r.StatusCode()), Body: r.Body(), Member: member}
	for k, v := range r.Header.All() {
		if !hopByHop(k) {
			out.Headers = append(out.Headers, &clusterpb.Header{Name: string(k), Value: string(v)})
		}
	}
	return out
}

// writeResponse writes the owner's answer as this member's.
func writeResponse(ctx *fasthttp.RequestCtx, resp *clusterpb.Response) {
	ctx.SetStatusCode(int(resp.Status))
	for _, h := range resp.Headers {
		ctx.Response.Header.Set(h.Name, h.Value)
	}
	ctx.SetBody(resp.Body)
}

// lookup is app's grain, activated if need be. proto.actor's disthash
// lookup asks the member the app hashes to and waits up to 5 s (fixed in
// this version) for its answer; a member killed before the others noticed
// takes that question with it. So the wait ends as soon as that member has
// left the member list: the client's retry then goes to the app's next
// owner, instead of waiting out the 5 s.
func (m *Member) lookup(app string) (*actor.PID, error) {
	owner := m.ownerAddress(app)
	if owner == "" {
		return nil, errNoOwner
	}
	pid, err := untilLeft(m, owner, func() (*actor.PID, error) {
		if pid := m.cluster.Get(app, kindApp); pid != nil {
			return pid, nil
		}
		return nil, errNoOwner
	})
	if errors.Is(err, errOwnerLeft) {
		return nil, fmt.Errorf("%w: %w", errNoOwner, err)
	}
	return pid, err
}

// ownerAddress is the address of the member app hashes to in the current
// member list, as disthash computes it, or "" with no member.
func (m *Member) ownerAddress(app string) string {
	rdv := cluster.NewRendezvous()
	rdv.UpdateMembers(m.cluster.MemberList.Members().Members())
	return rdv.GetByClusterIdentity(cluster.NewClusterIdentity(app, kindApp))
}

// errOwnerLeft: the member the request was sent to left the cluster
// before it answered.
var errOwnerLeft = errors.New("cluster: the app's owner left the cluster before answering")

// ask sends req to the grain pid and waits for its answer, up to
// RequestTimeout, or until pid's member leaves the cluster (a member
// killed takes its requests with it: waiting out the timeout would only
// delay the client's retry to the app's next owner).
func (m *Member) ask(pid *actor.PID, req *clusterpb.Request) (any, error) {
	f := m.system.Root.RequestFuture(pid, req, m.cfg.RequestTimeout)
	res, err := untilLeft(m, pid.Address, f.Result)
	if errors.Is(err, errOwnerLeft) {
		return nil, fmt.Errorf("%w: %w", actor.ErrTimeout, err)
	}
	return res, err
}

// untilLeft returns what fn returns, or errOwnerLeft as soon as the
// member at address has left the member list while fn still waits on it
// (fn then ends by itself, on its own timeout). On this member's own
// address fn is simply called.
func untilLeft[T any](m *Member, address string, fn func() (T, error)) (T, error) {
	if address == m.system.Address() {
		return fn()
	}
	type answer struct {
		v   T
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := fn()
		done <- answer{v, err}
	}()
	tick := time.NewTicker(leftCheck)
	defer tick.Stop()
	for {
		select {
		case a := <-done:
			return a.v, a.err
		case <-tick.C:
			if !m.hasMember(address) {
				var zero T
				return zero, errOwnerLeft
			}
		}
	}
}

// leftCheck is how often a request waiting on another member checks that
// the member is still in the cluster.
const leftCheck = 200 * time.Millisecond

// hasMember reports whether the member at address (host:port) is in the
// cluster's current topology.
func (m *Member) hasMember(address string) bool {
	for _, mem := range m.cluster.MemberList.Members().Members() {
		if mem.Address() == address {
			return true
		}
	}
	return false
}
