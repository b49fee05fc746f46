package analytics

import (
	"iter"
	"math"
	"slices"
	"sort"

	"github.com/sessionserver/sessionserver/actors/session"
)

// chunkMax is the most sessions one chunk of a sessionList holds.
const chunkMax = 512

// sessionList is sessions in (Start, ID) order, in chunks of at most
// chunkMax. Sessions mostly come in start order and are appended; one that
// starts before others (a client sending an old "time", or a log replayed
// in that order) moves at most one chunk and, when that chunk splits, the
// chunk index, instead of the whole list: 200,000 starts in reverse time
// order took 9.5 s as one slice (TestListReverseOrderIsNotQuadratic).
type sessionList struct {
	chunks [][]*session.Session // each one non-empty
	n      int
}

// Len is the number of sessions.
func (l *sessionList) Len() int { return l.n }

// last returns the last session, or nil.
func (l *sessionList) last() *session.Session {
	if len(l.chunks) == 0 {
		return nil
	}
	c := l.chunks[len(l.chunks)-1]
	return c[len(c)-1]
}

// add puts s at its place; s is not in the list yet.
func (l *sessionList) add(s *session.Session) {
	l.n++
	if last := l.last(); last == nil || sessionOrder(last, s) < 0 {
		l.push(s)
		return
	}
	k := sort.Search(len(l.chunks), func(k int) bool {
		c := l.chunks[k]
		return sessionOrder(c[len(c)-1], s) > 0
	})
	c := l.chunks[k]
	if len(c) == chunkMax {
		// Split in halves; the right one gets an array of its own, so
		// that the left one can grow in place.
		right := make([]*session.Session, chunkMax/2, chunkMax)
		copy(right, c[chunkMax/2:])
		clear(c[chunkMax/2:])
		l.chunks[k] = c[:chunkMax/2]
		l.chunks = slices.Insert(l.chunks, k+1, right)
		if sessionOrder(right[0], s) < 0 {
			k++
		}
		c = l.chunks[k]
	}
	i, _ := slices.BinarySearchFunc(c, s, sessionOrder)
	l.chunks[k] = slices.Insert(c, i, s)
}

// push appends s, which comes after every session in the list.
func (l *sessionList) push(s *session.Session) {
	k := len(l.chunks) - 1
	switch {
	case k < 0:
		l.chunks = append(l.chunks, []*session.Session{s})
	case len(l.chunks[k]) == chunkMax:
		// The list is long: the next chunk takes its full size at once
		// rather than growing through every smaller one.
		c := make([]*session.Session, 1, chunkMax)
		c[0] = s
		l.chunks = append(l.chunks, c)
	default:
		l.chunks[k] = append(l.chunks[k], s)
	}
}

// all yields every session in order.
func (l *sessionList) all() iter.Seq[*session.Session] { return inChunks(l.chunks) }

// inChunks yields the elements of chunks in order.
func inChunks[T any](chunks [][]T) iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, c := range chunks {
			for _, v := range c {
				if !yield(v) {
					return
				}
			}
		}
	}
}

// from yields, in order, the sessions from the first one for which
// past(s) holds, until one that starts at or after end. past must be
// false for the sessions of a prefix of the list and true for the rest.
func (l *sessionList) from(past func(s *session.Session) bool, end int64) iter.Seq[*session.Session] {
	return func(yield func(*session.Session) bool) {
		k := sort.Search(len(l.chunks), func(k int) bool {
			c := l.chunks[k]
			return past(c[len(c)-1])
		})
		if k == len(l.chunks) {
			return
		}
		i := sort.Search(len(l.chunks[k]), func(i int) bool { return past(l.chunks[k][i]) })
		for ; k < len(l.chunks); k, i = k+1, 0 {
			for _, s := range l.chunks[k][i:] {
				if s.Start >= end || !yield(s) {
					return
				}
			}
		}
	}
}

// trackChunk is how many page tracks one chunk of a trackList holds.
const trackChunk = 4096

// deadUser is the user of a track that was removed (retention, erasure):
// it stays in its slot, so that the positions of the others never move,
// until every track of its chunk is gone and the chunk is freed.
const deadUser = math.MaxUint32

// trackList is an app's page tracks in the order they were applied, in
// chunks of trackChunk: a growing app never copies all of them into a
// twice larger array (at 10M tracks that would be 240 MB copied into 480 MB
// while the aggregator waits), and its memory grows a chunk at a time.
// A track's position never changes: removed tracks are marked dead in
// place, a chunk whose tracks are all dead is freed (but the last one),
// and the freed chunks at the front leave the list of chunks, so that an
// app under retention holds the chunks of what it keeps, not of
// everything it ever had.
type trackList struct {
	chunks [][]track
	live   []int32 // live tracks by chunk, beside chunks
	first  int     // chunk number of chunks[0]
	n      int     // positions given out
	dead   int     // tracks removed
}

// Len is the number of positions given out: the live tracks and the
// removed ones.
func (l *trackList) Len() int { return l.n }

// Live is the number of tracks not removed.
func (l *trackList) Live() int { return l.n - l.dead }

// at returns the track at position i, which is live or dead in a chunk
// not freed (every index drops a position when its track is removed).
func (l *trackList) at(i uint32) track {
	return l.chunks[int(i/trackChunk)-l.first][i%trackChunk]
}

// get returns the track at position i and whether it is live.
func (l *trackList) get(i uint32) (track, bool) {
	k := int(i/trackChunk) - l.first
	if int(i) >= l.n || k < 0 || l.chunks[k] == nil {
		return track{}, false
	}
	t := l.chunks[k][i%trackChunk]
	return t, t.user != deadUser
}

// kill marks the live track at position i removed and returns it.
func (l *trackList) kill(i uint32) track {
	k := int(i/trackChunk) - l.first
	p := &l.chunks[k][i%trackChunk]
	t := *p
	p.user = deadUser
	l.live[k]--
	l.dead++
	return t
}

// free drops the chunks left without a live track, but the last one
// (new tracks go there).
func (l *trackList) free() {
	last := len(l.chunks) - 1
	for k := range last {
		if l.live[k] == 0 {
			l.chunks[k] = nil
		}
	}
	drop := 0
	for drop < last && l.chunks[drop] == nil {
		drop++
	}
	if drop > 0 {
		l.chunks = slices.Clone(l.chunks[drop:])
		l.live = slices.Clone(l.live[drop:])
		l.first += drop
	}
}

// push appends t.
func (l *trackList) push(t track) {
	switch {
	case l.n == 0:
		// The first chunk grows as tracks come: an app with a few
		// tracks stays small.
		l.chunks = append(l.chunks, nil)
		l.live = append(l.live, 0)
	case l.n%trackChunk == 0:
		l.chunks = append(l.chunks, make([]track, 0, trackChunk))
		l.live = append(l.live, 0)
	}
	k := len(l.chunks) - 1
	l.chunks[k] = append(l.chunks[k], t)
	l.live[k]++
	l.n++
}

// all yields every live track in order.
func (l *trackList) all() iter.Seq[track] {
	return func(yield func(track) bool) {
		for _, c := range l.chunks {
			for _, t := range c {
				if t.user != deadUser && !yield(t) {
					return
				}
			}
		}
	}
}
