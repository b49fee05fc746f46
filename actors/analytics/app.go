package analytics

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// Errors of App.Apply.
var (
	// ErrUnknownSession: a transition names a session the app does not have.
	ErrUnknownSession = errors.New("analytics: unknown session")
	// ErrDuplicateSession: a start names a session the app already has.
	ErrDuplicateSession = errors.New("analytics: duplicate session")
)

// PageTotal is the visit count and time spent on one page.
type PageTotal struct {
	Visits int64
	Ms     int64
}

// PageStat is a page with its totals.
type PageStat struct {
	Page string
	PageTotal
}

type track struct {
	at   int64
	ms   int64
	page uint32
	user uint32
}

type user struct {
	id       uint32
	sessions sessionList
	pages    pageTotals
	tracks   []uint32 // positions in App.tracks
	// agg are the user's own counters, kept like the app's once the user
	// has more than userSessions sessions (before, its reads look at its
	// sessions); byTime indexes its page tracks by time once it has more
	// than userTracks. Either stays once made.
	agg    *Aggregate
	byTime *pageIndex
}

// userSessions is the most sessions a user's reads look at one by one
// (about 40 µs for the start-based figures, 100 µs for the active time
// per day, BenchmarkUserReads): with one more, the user gets counters of
// its own, which read in microseconds at any history length. Counters
// cost a user with some 30 sessions a day about 230 bytes a session
// (their days are dense), so they are kept for the users whose history
// needs them; the other users cost what they did (BenchmarkMemoryPerSession).
// userTracks is the same for a user's page tracks by time.
const (
	userSessions = 1024
	userTracks   = 1024
)

// App is everything one app's aggregator knows: a copy of every session
// (open and ended), the live counters, the per-user index and the page
// totals. It is applied records in journal order and answers every
// analytics query. Not safe for concurrent use: the app's actor owns it.
//
// An app costs little until it has much: the session part comes with the
// first session (an app made by page tracks has none), the index of page
// totals by time with the smallTracks+1-th track, and names, page totals
// and buckets sit in short lists until they are many. An App with one
// page track holds about 400 bytes (BenchmarkSmallMemory/app; 3.4 KB
// when everything was made up front).
type App struct {
	*sessionData         // nil until the first session
	users        []*user // by id
	userNames    names
	pageNames    names
	pages        []PageTotal // app totals by page id
	tracks       trackList
	byTime       pageIndex // page totals by day and bucket, past smallTracks tracks
	settings     Settings
	// expireAfter is where the retention sweep goes on in start order
	// (nil: from the first session), so that the old sessions it keeps
	// (open, or ended after the cutoff) are looked at once a round.
	expireAfter *Cursor
}

// sessionData is what an App keeps of its sessions.
type sessionData struct {
	agg      *Aggregate
	sessions map[uuid.UUID]*session.Session
	live     map[uuid.UUID]*session.Session
	all      sessionList
	idle     idleQueue // the live sessions by last seen
}

// smallTracks is the most page tracks an App reads one by one for a range
// of time: the index by time is built when one more comes.
const smallTracks = 64

// NewApp returns an empty App.
func NewApp() *App { return &App{} }

// withSessions returns the session part, making it.
func (a *App) withSessions() *sessionData {
	if a.sessionData == nil {
		a.sessionData = &sessionData{
			agg:      NewAggregate(),
			sessions: make(map[uuid.UUID]*session.Session),
			live:     make(map[uuid.UUID]*session.Session),
		}
	}
	return a.sessionData
}

// presize makes room for n sessions (a snapshot says how many).
func (a *App) presize(n int) {
	if n > 0 {
		a.withSessions().sessions = make(map[uuid.UUID]*session.Session, n)
	}
}

// names interns strings as dense ids: a list searched in order while it
// is short (a map holding one name takes 256 bytes), with a map beside it
// once it has more than smallNames.
type names struct {
	list []string // by id
	ids  map[string]uint32
	free []uint32 // ids of removed names ("" in list), given out again first
}

// smallNames is the most names looked up by going through the list.
const smallNames = 8

// id returns the id of name.
func (x *names) id(name string) (uint32, bool) {
	if x.ids != nil {
		id, ok := x.ids[name]
		return id, ok
	}
	for i, n := range x.list {
		if n == name && !slices.Contains(x.free, uint32(i)) {
			return uint32(i), true
		}
	}
	return 0, false
}

// remove frees id, whose name is there; add gives it out again.
func (x *names) remove(id uint32) {
	if x.ids != nil {
		delete(x.ids, x.list[id])
	}
	x.list[id] = ""
	x.free = append(x.free, id)
}

// live is the number of names not removed.
func (x *names) live() int { return len(x.list) - len(x.free) }

// add adds name, which is not there yet (a copy of it: the caller's may
// point into a request), and returns its id.
func (x *names) add(name string) uint32 {
	name = strings.Clone(name)
	if k := len(x.free); k > 0 {
		id := x.free[k-1]
		x.free = x.free[:k-1]
		x.list[id] = name
		if x.ids != nil {
			x.ids[name] = id
		}
		return id
	}
	id := uint32(len(x.list))
	x.list = append(x.list, name)
	switch {
	case x.ids != nil:
		x.ids[name] = id
	case len(x.list) > smallNames:
		x.ids = make(map[string]uint32, 2*len(x.list))
		for i, n := range x.list {
			if !slices.Contains(x.free, uint32(i)) {
				x.ids[n] = uint32(i)
			}
		}
	}
	return id
}

// len is the number of ids given out (removed names included).
func (x *names) len() int { return len(x.list) }

// userNamed returns the user called name, or nil.
func (a *App) userNamed(name string) *user {
	if id, ok := a.userNames.id(name); ok {
		return a.users[id]
	}
	return nil
}

func sessionOrder(a, b *session.Session) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	return bytes.Compare(a.ID[:], b.ID[:])
}

// user returns the user called name, adding it.
func (a *App) user(name string) *user {
	u := a.userNamed(name)
	if u == nil {
		u = &user{id: a.userNames.add(name)}
		if int(u.id) == len(a.users) {
			a.users = append(a.users, u)
		} else { // the id of a removed user
			a.users[u.id] = u
		}
	}
	return u
}

// Apply applies one record. The caller has checked the transition against
// the session's own state machine; an error here means the records are not
// in a consistent order.
func (a *App) Apply(rec *event.Record) error {
	switch rec.Kind {
	case event.Start:
		return a.start(rec)
	case event.Pause, event.Resume, event.End, event.Timeout:
		return a.transition(rec)
	case event.PageTrack:
		a.track(rec)
		return nil
	case event.Settings:
		a.settings = SettingsOf(rec)
		return nil
	case event.EraseUser:
		a.EraseUser(rec.User)
		return nil
	case event.ImportSession:
		_, err := a.ImportSession(rec)
		return err
	case event.ImportTrack:
		a.ImportTrack(rec)
		return nil
	}
	return fmt.Errorf("analytics: record kind %d: %w", rec.Kind, session.ErrKind)
}

func (a *App) start(rec *event.Record) error {
	sd := a.withSessions()
	if _, dup := sd.sessions[rec.Session]; dup {
		return fmt.Errorf("%w: %s", ErrDuplicateSession, rec.Session)
	}
	s := session.New(rec.Session, rec.User, rec.At)
	s.LastSeen = rec.Logged
	sd.sessions[s.ID] = s
	a.index(s)
	return nil
}

// index adds a session, already in a.sessions, to the sorted lists and
// what it has done so far to the counters (a new session, or one read back
// from a snapshot).
func (a *App) index(s *session.Session) {
	sd := a.withSessions()
	u := a.user(s.User)
	s.User = a.userNames.list[u.id]
	sd.all.add(s)
	u.sessions.add(s)
	a.agg.addSession(s)
	switch {
	case u.agg != nil:
		u.agg.addSession(s)
	case u.sessions.Len() > userSessions:
		u.agg = NewAggregate()
		for x := range u.sessions.all() {
			u.agg.addSession(x)
		}
	}
	if s.Status != session.Ended {
		a.live[s.ID] = s
		a.idle.push(s.LastSeen, s.ID)
	}
}

func (a *App) transition(rec *event.Record) error {
	s, _ := a.Session(rec.Session)
	if s == nil {
		return fmt.Errorf("%w: %s", ErrUnknownSession, rec.Session)
	}
	iv, err := s.Apply(rec.Kind, rec.At)
	if err != nil {
		return fmt.Errorf("analytics: session %s: %w", rec.Session, err)
	}
	s.LastSeen = rec.Logged
	ua := a.userNamed(s.User).agg
	if iv.OK {
		a.agg.AddInterval(s.Start, iv.From, iv.To)
		if ua != nil {
			ua.AddInterval(s.Start, iv.From, iv.To)
		}
	}
	if s.Status == session.Ended {
		active := s.ActiveMs()
		a.agg.AddEnd(s.Start, active)
		if ua != nil {
			ua.AddEnd(s.Start, active)
		}
		delete(a.live, s.ID)
		a.ended()
	}
	return nil
}

func (a *App) track(rec *event.Record) {
	u := a.user(rec.User)
	a.addTrack(track{at: rec.At, ms: rec.SpentMs, page: a.pageID(rec.Page), user: u.id})
}

// pageID interns a page name.
func (a *App) pageID(page string) uint32 {
	id, ok := a.pageNames.id(page)
	if !ok {
		if id = a.pageNames.add(page); int(id) == len(a.pages) {
			a.pages = append(a.pages, PageTotal{})
		} // else the id of a removed page, whose totals are zero
	}
	return id
}

func (a *App) addTrack(t track) {
	a.pages[t.page].Visits++
	a.pages[t.page].Ms += t.ms
	u := a.users[t.user]
	u.pages.add(t.page, PageTotal{Visits: 1, Ms: t.ms})
	i := uint32(a.tracks.Len())
	u.tracks = append(u.tracks, i)
	a.tracks.push(t)
	switch {
	case u.byTime != nil:
		u.byTime.add(t, i, &a.tracks)
	case len(u.tracks) > userTracks:
		u.byTime = &pageIndex{lean: true}
		for _, j := range u.tracks {
			u.byTime.add(a.tracks.at(j), j, &a.tracks)
		}
	}
	switch n := a.tracks.Len(); {
	case n == smallTracks+1: // the app is no longer small: index it all
		for j := range uint32(n) {
			if t, ok := a.tracks.get(j); ok {
				a.byTime.add(t, j, &a.tracks)
			}
		}
	case n > smallTracks+1:
		a.byTime.add(t, i, &a.tracks)
	}
}

// Sessions is the number of sessions the app has.
func (a *App) Sessions() int {
	if a.sessionData == nil {
		return 0
	}
	return a.all.Len()
}

// TrackRow is one page track as an export gives it.
type TrackRow struct {
	User, Page string
	At, Ms     int64
}

// Tracks returns the page tracks of q (one user's, or every user's) in the
// order they were tracked, looking at the tracks from position from on
// and at no more than scan of them, so that a caller can walk an app of
// any size in slices that each hold the aggregator briefly. next is where
// to go on from, -1 at the end.
func (a *App) Tracks(q Query, from, scan int) (rows []TrackRow, next int) {
	n, pos := a.tracks.Len(), func(i int) uint32 { return uint32(i) }
	if q.User != "" {
		u := a.userNamed(q.User)
		if u == nil {
			return nil, -1
		}
		n, pos = len(u.tracks), func(i int) uint32 { return u.tracks[i] }
	}
	end := min(n, from+max(scan, 1))
	for i := max(from, 0); i < end; i++ {
		if t, ok := a.tracks.get(pos(i)); ok && q.Range.Contains(t.at) {
			rows = append(rows, TrackRow{User: a.userNames.list[t.user], Page: a.pageNames.list[t.page], At: t.at, Ms: t.ms})
		}
	}
	if end >= n {
		return rows, -1
	}
	return rows, end
}

// PageTracks is the number of page tracks the app has.
func (a *App) PageTracks() int { return a.tracks.Live() }

// Session returns the app's copy of a session (do not modify it).
func (a *App) Session(id uuid.UUID) (*session.Session, bool) {
	if a.sessionData == nil {
		return nil, false
	}
	s, ok := a.sessions[id]
	return s, ok
}

// Live calls fn for every session that is not ended.
func (a *App) Live(fn func(s *session.Session)) {
	if a.sessionData == nil {
		return
	}
	for _, s := range a.live {
		fn(s)
	}
}

// Query selects what an analytics read looks at: one user ("" for every
// user of the app) and a range of start times (sessions) or timestamps
// (page tracks).
type Query struct {
	User  string
	Range Range
}

// selected yields the sessions of q in start order, after the cursor when
// there is one (none for a user the app has never seen).
func (a *App) selected(q Query, after *Cursor) iter.Seq[*session.Session] {
	var list *sessionList
	switch {
	case q.User != "":
		if u := a.userNamed(q.User); u != nil {
			list = &u.sessions
		}
	case a.sessionData != nil:
		list = &a.all
	}
	if list == nil {
		return func(func(*session.Session) bool) {}
	}
	if !q.Range.Bounded() && after == nil {
		return list.all()
	}
	from := q.Range.From
	past := func(s *session.Session) bool { return s.Start >= from }
	if after != nil {
		key := &session.Session{Start: after.Start, ID: after.ID}
		past = func(s *session.Session) bool { return s.Start >= from && sessionOrder(s, key) > 0 }
	}
	return list.from(past, q.Range.To)
}

// Starts answers the start-based figures (heatmap, most-active, stats,
// summary) of q: for all users from the live buckets (and the sessions of
// the buckets the range cuts), for one user by looking at each of that
// user's selected sessions.
func (a *App) Starts(q Query) Starts {
	if agg, list := a.counters(q); agg != nil {
		if in, ok := q.Range.inner(); ok {
			if st, ok := agg.Starts(in); ok {
				st.merge(exactStarts(edges(list, q.Range, in), q.Range.Loc))
				return st
			}
		}
	}
	return exactStarts(a.selected(q, nil), q.Range.Loc)
}

// counters returns the counters that answer q and the sessions they
// count: the app's for every user, a user's own once it has them; nil
// when q's sessions are to be looked at one by one.
func (a *App) counters(q Query) (*Aggregate, *sessionList) {
	if a.sessionData == nil {
		return nil, nil
	}
	if q.User == "" {
		return a.agg, &a.all
	}
	if u := a.userNamed(q.User); u != nil && u.agg != nil {
		return u.agg, &u.sessions
	}
	return nil, nil
}

// edges yields the sessions of list in r outside in, its bucket-aligned
// part: those of the buckets r cuts at either end.
func edges(list *sessionList, r, in Range) iter.Seq[*session.Session] {
	return func(yield func(*session.Session) bool) {
		for s := range list.from(func(s *session.Session) bool { return s.Start >= r.From }, in.From) {
			if !yield(s) {
				return
			}
		}
		for s := range list.from(func(s *session.Session) bool { return s.Start >= in.To }, r.To) {
			if !yield(s) {
				return
			}
		}
	}
}

// exactStarts places each session by its own start time.
func exactStarts(list iter.Seq[*session.Session], loc *time.Location) Starts {
	var st Starts
	zc := newZoneClock(loc)
	for s := range list {
		slot := zc.slot(s.Start)
		st.Sessions++
		st.Grid[slot.Weekday][slot.Hour]++
		st.Daily = appendDay(st.Daily, DayCount{Day: slot.Day, Count: 1})
		active := s.ActiveMs()
		st.ActiveMs += active
		if s.Status == session.Ended {
			addEnded(&st.Ended, &st.EndedMs, &st.ShortestMs, &st.LongestMs, 1, active, active, active)
		}
	}
	return st
}

// DailyActive answers the active time per local day of the sessions of q,
// intervals split at local midnight.
func (a *App) DailyActive(q Query) []DayCount {
	if agg, list := a.counters(q); agg != nil {
		if !q.Range.Bounded() {
			// All the active time there is, by the bucket it happened in:
			// 4.5 µs at 1M sessions where StartedActive over every start
			// bucket takes 35 µs (BenchmarkStarts .../daily).
			if days, ok := agg.DailyActive(q.Range); ok {
				return days
			}
		} else if in, ok := q.Range.inner(); ok {
			if days, ok := agg.StartedActive(in); ok {
				for _, d := range exactDaily(edges(list, q.Range, in), q.Range.Loc) {
					days = appendDay(days, d)
				}
				return days
			}
		}
	}
	return exactDaily(a.selected(q, nil), q.Range.Loc)
}

// exactDaily splits each session's intervals at local midnights.
func exactDaily(list iter.Seq[*session.Session], loc *time.Location) []DayCount {
	var out []DayCount
	zc := newZoneClock(loc)
	for s := range list {
		s.EachInterval(func(from, to int64) { out = splitDays(out, zc, from, to) })
	}
	return slices.DeleteFunc(out, func(d DayCount) bool { return d.Count == 0 })
}

// Pages answers the page totals of q (tracks selected by their timestamp),
// sorted by page.
func (a *App) Pages(q Query) []PageStat {
	var out []PageStat
	switch {
	case q.Range.Bounded():
		a.rangePages(q).each(func(id uint32, pt PageTotal) {
			out = append(out, PageStat{Page: a.pageNames.list[id], PageTotal: pt})
		})
	case q.User == "":
		out = make([]PageStat, 0, a.pageNames.live())
		for id, pt := range a.pages {
			if pt.Visits > 0 { // a removed page has none
				out = append(out, PageStat{Page: a.pageNames.list[id], PageTotal: pt})
			}
		}
	default:
		out = []PageStat{}
		if u := a.userNamed(q.User); u != nil {
			out = make([]PageStat, 0, u.pages.len())
			u.pages.each(func(id uint32, pt PageTotal) {
				out = append(out, PageStat{Page: a.pageNames.list[id], PageTotal: pt})
			})
		}
	}
	return sortPages(out)
}

// rangePages returns the page totals of the tracks of q, whose range is
// bounded: for all users from the index by time (each track of an app
// that has at most smallTracks), for one user from that user's tracks.
func (a *App) rangePages(q Query) *pageSums {
	sums := newPageSums(a.pageNames.len())
	if q.User == "" {
		if a.tracks.Len() <= smallTracks {
			for t := range a.tracks.all() {
				if q.Range.Contains(t.at) {
					sums.add(t.page, PageTotal{Visits: 1, Ms: t.ms})
				}
			}
			return sums
		}
		a.byTime.sum(&a.tracks, q.Range.From, q.Range.To, sums.add)
		return sums
	}
	if u := a.userNamed(q.User); u != nil {
		if u.byTime != nil {
			u.byTime.sum(&a.tracks, q.Range.From, q.Range.To, sums.add)
			return sums
		}
		for _, i := range u.tracks {
			if t := a.tracks.at(i); q.Range.Contains(t.at) {
				sums.add(t.page, PageTotal{Visits: 1, Ms: t.ms})
			}
		}
	}
	return sums
}

func sortPages(out []PageStat) []PageStat {
	slices.SortFunc(out, func(x, y PageStat) int { return strings.Compare(x.Page, y.Page) })
	return out
}

// Cursor is a position in start order: the last session of a page.
type Cursor struct {
	Start int64
	ID    uuid.UUID
}

// Timeline returns up to limit sessions of q after the cursor (nil: from
// the first), as copies, and the cursor of the next page (nil on the last).
func (a *App) Timeline(q Query, after *Cursor, limit int) ([]*session.Session, *Cursor) {
	var out []*session.Session
	var next *Cursor
	for s := range a.selected(q, after) {
		if len(out) == limit {
			last := out[limit-1]
			next = &Cursor{Start: last.Start, ID: last.ID}
			break
		}
		out = append(out, s.Clone())
	}
	if out == nil {
		out = []*session.Session{}
	}
	return out, next
}
