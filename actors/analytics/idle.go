package analytics

import (
	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/session"
)

// idleQueue finds the live sessions not seen since a cutoff without
// looking at every live session: a min-heap by last-seen time with one
// entry per live session. It is updated lazily: an entry keeps the time its
// session was last seen when the entry was made, and is looked at again
// when that time falls behind the cutoff; entries of sessions ended since
// are dropped then, or all at once when they outnumber the live sessions.
// Looking through every live session cost the aggregator of an app with
// 1M of them tens of milliseconds at every sweep (once a minute by default).
type idleQueue struct {
	h []idleEntry
}

type idleEntry struct {
	seen int64
	id   uuid.UUID
}

func (q *idleQueue) less(i, j int) bool { return q.h[i].seen < q.h[j].seen }

func (q *idleQueue) push(seen int64, id uuid.UUID) {
	q.h = append(q.h, idleEntry{seen, id})
	for i := len(q.h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.h[i], q.h[parent] = q.h[parent], q.h[i]
		i = parent
	}
}

func (q *idleQueue) pop() idleEntry {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h = q.h[:last]
	q.down(0)
	return top
}

func (q *idleQueue) down(i int) {
	for {
		small, l, r := i, 2*i+1, 2*i+2
		if l < len(q.h) && q.less(l, small) {
			small = l
		}
		if r < len(q.h) && q.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		q.h[i], q.h[small] = q.h[small], q.h[i]
		i = small
	}
}

// rebuild makes the queue hold exactly the live sessions.
func (q *idleQueue) rebuild(live map[uuid.UUID]*session.Session) {
	q.h = q.h[:0]
	for id, s := range live {
		q.h = append(q.h, idleEntry{s.LastSeen, id})
	}
	for i := len(q.h)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

// Idle calls fn for every live session last seen at or before cutoff, each
// once; a later call finds it again while it stays live and unseen.
func (a *App) Idle(cutoff int64, fn func(s *session.Session)) {
	if a.sessionData == nil {
		return
	}
	var again []idleEntry
	for len(a.idle.h) > 0 && a.idle.h[0].seen <= cutoff {
		e := a.idle.pop()
		switch s := a.live[e.id]; {
		case s == nil: // ended since
		case s.LastSeen != e.seen: // seen since: queued again at that time
			a.idle.push(s.LastSeen, e.id)
		default:
			fn(s)
			again = append(again, e)
		}
	}
	for _, e := range again {
		a.idle.push(e.seen, e.id)
	}
}

// ended drops the queue's entries of ended sessions once they outnumber
// the live ones, so that the queue stays within twice the live sessions.
func (a *App) ended() {
	if len(a.idle.h) > 2*len(a.live)+64 {
		a.idle.rebuild(a.live)
	}
}
