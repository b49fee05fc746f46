package analytics

import (
	"cmp"
	"slices"
	"sort"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/session"
)

// Removed counts what a removal took out of an app.
type Removed struct {
	Sessions, PageTracks int
	// Live are the ids of the removed sessions that were not ended (an
	// erasure removes those too; the engine stops their actors).
	Live []uuid.UUID
}

// Empty reports whether nothing was removed.
func (r Removed) Empty() bool { return r.Sessions == 0 && r.PageTracks == 0 }

// EraseUser removes every session of the user called name, open ones
// included, and every page track: from the lists, the counters and the
// names (the name is in no later snapshot).
func (a *App) EraseUser(name string) Removed {
	u := a.userNamed(name)
	if u == nil {
		return Removed{}
	}
	var r Removed
	if u.sessions.Len() > 0 {
		list := slices.Collect(u.sessions.all())
		r = a.removeSessions(list)
	}
	r.PageTracks = a.removeTracks(slices.Clone(u.tracks))
	return r
}

// ExpireStep is the budget of one step of the live retention sweep: how
// many sessions, and how many page tracks, it looks at (BenchmarkRetention
// measures how long a step holds the app).
const ExpireStep = 1000

// Expire removes the sessions that ended before cutoff (Unix ms), looking
// at up to budget of them, and up to budget of the page tracks timed
// before it, and reports whether more may remain (the caller calls again, letting other work in between
// when it is an actor). Open sessions are never removed. Sessions are
// looked at in start order from where the previous call stopped, so a
// round looks at each old session once.
func (a *App) Expire(cutoff int64, budget int) (Removed, bool) {
	budget = max(budget, 1)
	var r Removed
	more := false
	if a.sessionData != nil {
		var doomed []*session.Session
		past := func(*session.Session) bool { return true }
		if c := a.expireAfter; c != nil {
			key := &session.Session{Start: c.Start, ID: c.ID}
			past = func(s *session.Session) bool { return sessionOrder(s, key) > 0 }
		}
		looked := 0
		a.expireAfter = nil
		for s := range a.all.from(past, cutoff) {
			if looked == budget {
				more = true
				break
			}
			looked++
			a.expireAfter = &Cursor{Start: s.Start, ID: s.ID}
			if end, ok := s.End(); ok && end < cutoff {
				doomed = append(doomed, s)
			}
		}
		if !more {
			a.expireAfter = nil
		}
		r = a.removeSessions(doomed)
	}
	old, full := a.tracksBefore(cutoff, budget)
	r.PageTracks = a.removeTracks(old)
	return r, more || full
}

// tracksBefore returns the positions of up to limit live tracks timed
// before cutoff, and whether it stopped at the limit.
func (a *App) tracksBefore(cutoff int64, limit int) ([]uint32, bool) {
	var out []uint32
	if a.tracks.Len() <= smallTracks { // no index by time: few tracks
		for i := range uint32(a.tracks.Len()) {
			if t, ok := a.tracks.get(i); ok && t.at < cutoff {
				if len(out) == limit {
					return out, true
				}
				out = append(out, i)
			}
		}
		return out, false
	}
	for _, blk := range a.byTime.blocks {
		for _, d := range blk.days {
			if d.num*dayMs >= cutoff {
				return out, false
			}
			for bi := range d.buckets {
				b := &d.buckets[bi]
				if d.num*dayMs+int64(b.n)*BucketMs >= cutoff {
					break
				}
				for _, i := range b.tracks {
					if a.tracks.at(i).at < cutoff {
						if len(out) == limit {
							return out, true
						}
						out = append(out, i)
					}
				}
			}
		}
	}
	return out, false
}

// removeSessions takes sessions of the app out of its lists, its index of
// users and its counters (the app's and each user's own), and frees the
// users left with nothing.
func (a *App) removeSessions(list []*session.Session) Removed {
	var r Removed
	if len(list) == 0 {
		return r
	}
	sd := a.sessionData
	app := newAggChange()
	users := make(map[*user]*aggChange)
	for _, s := range list {
		delete(sd.sessions, s.ID)
		if _, live := sd.live[s.ID]; live {
			delete(sd.live, s.ID) // its idle queue entry is dropped when met
			r.Live = append(r.Live, s.ID)
		}
		sd.all.remove(s)
		u := a.userNamed(s.User)
		u.sessions.remove(s)
		sd.agg.removeSession(s, app)
		ch := users[u]
		if ch == nil {
			ch = newAggChange()
			users[u] = ch
		}
		if u.agg != nil {
			u.agg.removeSession(s, ch)
		}
		r.Sessions++
	}
	sd.agg.settle(&sd.all, app)
	for u, ch := range users {
		if u.agg != nil {
			u.agg.settle(&u.sessions, ch)
		}
		a.freeUser(u)
	}
	if len(sd.idle.h) > 2*len(sd.live)+64 {
		sd.idle.rebuild(sd.live)
	}
	return r
}

// aggChange notes what removals changed in an Aggregate: the days whose
// cells changed, and the start buckets that lost an ended session.
type aggChange struct{ touched, dirty map[int64]struct{} }

func newAggChange() *aggChange {
	return &aggChange{touched: make(map[int64]struct{}), dirty: make(map[int64]struct{})}
}

// removeSession takes back what addSession counted for s.
func (a *Aggregate) removeSession(s *session.Session, ch *aggChange) {
	a.cell(s.Start).starts--
	ch.touched[floorDiv(s.Start, dayMs)] = struct{}{}
	s.EachInterval(func(from, to int64) { a.removeInterval(s.Start, from, to, ch.touched) })
	if s.Status == session.Ended {
		c := a.cell(s.Start)
		c.ended--
		c.endedMs -= s.ActiveMs()
		ch.dirty[floorDiv(s.Start, BucketMs)] = struct{}{}
	}
}

// settle finishes removals from the sessions of list (those left): the
// shortest and longest of the start buckets that lost an ended session
// are counted again (a minimum cannot be taken back), and what is left
// empty is freed.
func (a *Aggregate) settle(list *sessionList, ch *aggChange) {
	for b := range ch.dirty {
		a.recountEnded(list, b)
	}
	a.prune(ch.touched)
}

// recountEnded sets the shortest and longest ended session of start
// bucket b from the sessions of list in it.
func (a *Aggregate) recountEnded(list *sessionList, b int64) {
	from := b * BucketMs
	c := a.cell(from)
	c.shortest, c.longest = 0, 0
	n := int64(0)
	for s := range list.from(func(s *session.Session) bool { return s.Start >= from }, from+BucketMs) {
		if s.Status != session.Ended {
			continue
		}
		ms := s.ActiveMs()
		if n == 0 || ms < c.shortest {
			c.shortest = ms
		}
		if n == 0 || ms > c.longest {
			c.longest = ms
		}
		n++
	}
}

// removeTracks removes the live tracks at positions from the totals, the
// index by time and their users' lists, then frees what is left empty.
// It returns how many it removed.
func (a *App) removeTracks(positions []uint32) int {
	if len(positions) == 0 {
		return 0
	}
	indexed := a.tracks.Len() > smallTracks
	users := make(map[uint32]struct{})
	pages := make(map[uint32]struct{})
	for _, i := range positions {
		t := a.tracks.kill(i)
		pt := PageTotal{Visits: 1, Ms: t.ms}
		a.pages[t.page].Visits--
		a.pages[t.page].Ms -= t.ms
		u := a.users[t.user]
		u.pages.sub(t.page, pt)
		if indexed {
			a.byTime.remove(t, i)
		}
		if u.byTime != nil {
			u.byTime.remove(t, i)
		}
		users[t.user] = struct{}{}
		pages[t.page] = struct{}{}
	}
	for id := range users {
		u := a.users[id]
		u.tracks = slices.DeleteFunc(u.tracks, func(i uint32) bool {
			_, ok := a.tracks.get(i)
			return !ok
		})
	}
	for id := range pages {
		if a.pages[id].Visits == 0 {
			a.pages[id] = PageTotal{}
			a.pageNames.remove(id)
		}
	}
	a.tracks.free()
	for id := range users {
		a.freeUser(a.users[id])
	}
	return len(positions)
}

// freeUser frees u when it has neither sessions nor page tracks (its id
// and name are given to the next new user).
func (a *App) freeUser(u *user) {
	if u == nil || a.users[u.id] != u || u.sessions.Len() > 0 || len(u.tracks) > 0 {
		return
	}
	a.users[u.id] = nil
	a.userNames.remove(u.id)
}

// remove takes s, which is in the list, out of it.
func (l *sessionList) remove(s *session.Session) {
	k := sort.Search(len(l.chunks), func(k int) bool {
		c := l.chunks[k]
		return sessionOrder(c[len(c)-1], s) >= 0
	})
	if k == len(l.chunks) {
		return
	}
	c := l.chunks[k]
	i, found := slices.BinarySearchFunc(c, s, sessionOrder)
	if !found || c[i] != s {
		return
	}
	c = slices.Delete(c, i, i+1)
	l.n--
	if len(c) == 0 {
		l.chunks = slices.Delete(l.chunks, k, k+1)
		return
	}
	l.chunks[k] = c
}

// sub takes pt off the totals of page, dropping the page at zero visits.
func (p *pageTotals) sub(page uint32, pt PageTotal) {
	if p.m != nil {
		t := p.m[page]
		t.Visits -= pt.Visits
		t.Ms -= pt.Ms
		if t.Visits <= 0 {
			delete(p.m, page)
			return
		}
		p.m[page] = t
		return
	}
	k, found := slices.BinarySearchFunc(p.list, page, func(e pageEntry, page uint32) int { return cmp.Compare(e.page, page) })
	if !found {
		return
	}
	p.list[k].Visits -= pt.Visits
	p.list[k].Ms -= pt.Ms
	if p.list[k].Visits <= 0 {
		p.list = slices.Delete(p.list, k, k+1)
	}
}

// remove takes track t, at position i, out of the index, dropping the
// buckets, days and blocks it leaves empty.
func (x *pageIndex) remove(t track, i uint32) {
	dn := floorDiv(t.at, dayMs)
	bn := floorDiv(dn, blockDays)
	k, found := slices.BinarySearchFunc(x.blocks, bn, func(b pageBlock, bn int64) int { return cmp.Compare(b.num, bn) })
	if !found {
		return
	}
	blk := &x.blocks[k]
	j, found := slices.BinarySearchFunc(blk.days, dn, func(d *pageDay, dn int64) int { return cmp.Compare(d.num, dn) })
	if !found {
		return
	}
	d := blk.days[j]
	pt := PageTotal{Visits: 1, Ms: t.ms}
	d.totals.sub(t.page, pt)
	n := uint8((t.at - dn*dayMs) / BucketMs)
	bi, found := slices.BinarySearchFunc(d.buckets, n, func(b pageBucket, n uint8) int { return cmp.Compare(b.n, n) })
	if found {
		b := &d.buckets[bi]
		if b.counted {
			b.totals.sub(t.page, pt)
		}
		if p, ok := slices.BinarySearch(b.tracks, i); ok { // positions ascend: tracks are added in order
			b.tracks = slices.Delete(b.tracks, p, p+1)
		}
		if len(b.tracks) == 0 {
			d.buckets = slices.Delete(d.buckets, bi, bi+1)
		}
	}
	if len(d.buckets) > 0 {
		return
	}
	blk.days = slices.Delete(blk.days, j, j+1)
	if len(blk.days) == 0 {
		x.blocks = slices.Delete(x.blocks, k, k+1)
	}
}

// removeInterval takes back what AddInterval added for the closed active
// interval [from, to] of the session started at start, noting the days
// whose cells it changed.
func (a *Aggregate) removeInterval(start, from, to int64, touched map[int64]struct{}) {
	if to <= from {
		return
	}
	a.cell(start).activeMs -= to - from
	if to-from > longMs {
		if i := slices.Index(a.long, span{start, from, to}); i >= 0 {
			a.long = slices.Delete(a.long, i, i+1)
		}
		return
	}
	for from < to {
		bucket := floorDiv(from, BucketMs)
		end := min((bucket+1)*BucketMs, to)
		a.cell(from).occMs -= end - from
		touched[floorDiv(from, dayMs)] = struct{}{}
		a.cell(start).subAct(bucket, end-from)
		from = end
	}
}

// subAct takes ms of active time in bucket off c.act.
func (c *cell) subAct(bucket, ms int64) {
	i, found := slices.BinarySearchFunc(c.act, bucket, func(o occ, b int64) int { return cmp.Compare(o.bucket, b) })
	if !found {
		return
	}
	if c.act[i].ms -= ms; c.act[i].ms == 0 {
		if c.act = slices.Delete(c.act, i, i+1); len(c.act) == 0 {
			c.act = nil
		}
	}
}

// empty reports whether the cell counts nothing.
func (c *cell) empty() bool {
	return c.starts == 0 && c.ended == 0 && c.activeMs == 0 && c.endedMs == 0 && c.occMs == 0 && len(c.act) == 0
}

// prune frees the empty cells of the days touched, the days left with
// none and the blocks left without a day.
func (a *Aggregate) prune(touched map[int64]struct{}) {
	a.last = nil // the cached day may be freed
	for dn := range touched {
		bn := floorDiv(dn, blockDays)
		k, found := slices.BinarySearch(a.blockNums, bn)
		if !found {
			continue
		}
		blk := a.blocks[k]
		slot := &blk[dn-bn*blockDays]
		d := *slot
		if d == nil || !d.prune() {
			continue
		}
		*slot = nil
		if slices.ContainsFunc(blk[:], func(d *day) bool { return d != nil }) {
			continue
		}
		a.blockNums = slices.Delete(a.blockNums, k, k+1)
		a.blocks = slices.Delete(a.blocks, k, k+1)
	}
}

// prune drops a sparse day's empty cells and reports whether the day
// counts nothing any more.
func (d *day) prune() bool {
	if d.dense != nil {
		for i := range d.dense {
			if !d.dense[i].empty() {
				return false
			}
		}
		return true
	}
	keep := 0
	for k := range d.cells {
		if !d.cells[k].empty() {
			d.idx[keep], d.cells[keep] = d.idx[k], d.cells[k]
			keep++
		}
	}
	clear(d.cells[keep:])
	d.idx, d.cells = d.idx[:keep], d.cells[:keep]
	return keep == 0
}
