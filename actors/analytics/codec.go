package analytics

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// The binary form of a State, as a snapshot stores it (the snapshot file
// compresses and checksums it). Counters are not stored: they are rebuilt
// from the sessions, so they can never disagree with them.
//
//	state   := uvarint version(2) | uvarint nApps | app*
//	app     := string name | settings | uvarint nUsers | string* | uvarint nPages | string*
//	           | uvarint nSessions | session* (in start order) | uvarint nTracks | track*
//	session := 16-byte id | uvarint user | varint start-prevStart | byte status<<1|timedOut
//	           | uvarint nMarks | uvarint mark-prevEvent ... | varint lastSeen-lastEvent
//	track   := varint at-prevAt | uvarint spentMs | uvarint page | uvarint user
//	string  := uvarint n | n bytes
//	settings:= uvarint retention (0: the server's; else 1 + retention ms)
//	           | byte public (event.Visibility)
//
// Version 1 had no settings; it is still read.
//
// An ended session with one pause costs about 25 bytes before compression.

// ErrCodec: the bytes are not a valid State.
var ErrCodec = errors.New("analytics: malformed state")

// codecVersion is the version written; version 1 (no settings) is
// still read.
const codecVersion = 2

// Limits checked on decode, before allocating.
const (
	maxCount   = 1 << 34
	maxMarks   = 1 << 24
	maxNameLen = event.MaxPage
)

// WriteState writes s to w.
func WriteState(w io.Writer, s *State) error {
	e := &encoder{w: bufio.NewWriterSize(w, 1<<16), version: codecVersion}
	e.uvarint(codecVersion)
	e.uvarint(uint64(len(s.Apps)))
	for _, name := range s.Names() {
		e.string(name)
		s.Apps[name].encode(e)
	}
	if e.err != nil {
		return e.err
	}
	return e.w.Flush()
}

type encoder struct {
	version uint64
	w       *bufio.Writer
	buf     [binary.MaxVarintLen64]byte
	err     error
}

func (e *encoder) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) uvarint(v uint64) { e.write(binary.AppendUvarint(e.buf[:0], v)) }
func (e *encoder) varint(v int64)   { e.write(binary.AppendVarint(e.buf[:0], v)) }
func (e *encoder) string(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

func (a *App) encode(e *encoder) {
	if e.version >= 2 {
		a.settings.encode(e)
	}
	// Only the names in use are written, under dense ids: a removed
	// user's or page's name is in no snapshot.
	users := denseIDs(e, &a.userNames)
	pages := denseIDs(e, &a.pageNames)
	e.uvarint(uint64(a.Sessions()))
	var prev int64
	if a.sessionData != nil {
		for s := range a.all.all() {
			a.encodeSession(e, s, prev, users)
			prev = s.Start
		}
	}
	e.uvarint(uint64(a.tracks.Live()))
	prev = 0
	for t := range a.tracks.all() {
		e.varint(t.at - prev)
		prev = t.at
		e.uvarint(uint64(t.ms))
		e.uvarint(uint64(pages[t.page]))
		e.uvarint(uint64(users[t.user]))
	}
}

// denseIDs writes the names of x in use and returns the id each has in
// the snapshot, by its id in x.
func denseIDs(e *encoder, x *names) []uint32 {
	ids := make([]uint32, x.len())
	e.uvarint(uint64(x.live()))
	var next uint32
	for id, n := range x.list {
		if n == "" && slices.Contains(x.free, uint32(id)) {
			continue
		}
		ids[id] = next
		next++
		e.string(n)
	}
	return ids
}

func (a *App) encodeSession(e *encoder, s *session.Session, prevStart int64, users []uint32) {
	e.write(s.ID[:])
	e.uvarint(uint64(users[a.userNamed(s.User).id]))
	e.varint(s.Start - prevStart)
	flags := byte(s.Status) << 1
	if s.TimedOut {
		flags |= 1
	}
	e.write([]byte{flags})
	e.uvarint(uint64(len(s.Marks)))
	last := s.Start
	for _, m := range s.Marks {
		e.uvarint(uint64(m - last))
		last = m
	}
	e.varint(s.LastSeen - last)
}

// minSessionBytes is the smallest encoded session (id, user, start,
// flags, mark count, last seen).
const minSessionBytes = 21

// ReadState reads a State written by WriteState. A reader with a Len
// method (bytes.Reader, the snapshot store's) lets it size its tables for
// the sessions that can fit, and no more.
func ReadState(r io.Reader) (*State, error) {
	d := &stateDecoder{r: bufio.NewReaderSize(r, 1<<16), maxSessions: 1 << 20}
	if lr, ok := r.(interface{ Len() int }); ok {
		d.maxSessions = uint64(lr.Len()) / minSessionBytes
	}
	d.version = d.uvarint()
	if (d.version < 1 || d.version > codecVersion) && d.err == nil {
		return nil, fmt.Errorf("%w: version %d", ErrCodec, d.version)
	}
	s := NewState()
	n := d.count(maxCount)
	for i := uint64(0); i < n && d.err == nil; i++ {
		name := d.string()
		if _, dup := s.Apps[name]; dup {
			d.fail("duplicate app")
		}
		s.Apps[name] = d.app()
	}
	if d.err != nil {
		return nil, d.err
	}
	return s, nil
}

type stateDecoder struct {
	version uint64
	// maxSessions bounds how many sessions the tables are sized for.
	maxSessions uint64
	r           *bufio.Reader
	err         error
	scratch     [16]byte
	marks       []int64
	// Sessions and their event times are carved out of slabs: millions of
	// small objects become thousands of large ones (less memory, less GC).
	slab  []session.Session
	arena []int64
}

const slabLen = 1024

// newSession returns a zeroed session from the current slab.
func (d *stateDecoder) newSession() *session.Session {
	if len(d.slab) == 0 {
		d.slab = make([]session.Session, slabLen)
	}
	s := &d.slab[0]
	d.slab = d.slab[1:]
	return s
}

// marksFor returns an empty slice with room for n event times from the
// arena (capacity exactly n: a later append copies, never overwrites).
func (d *stateDecoder) marksFor(n int) []int64 {
	if n == 0 {
		return nil
	}
	if cap(d.arena)-len(d.arena) < n {
		d.arena = make([]int64, 0, max(8*slabLen, n))
	}
	l := len(d.arena)
	d.arena = d.arena[:l+n]
	return d.arena[l : l : l+n]
}

func (d *stateDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCodec, what)
	}
}

func (d *stateDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail("bad varint: " + err.Error())
		return 0
	}
	return v
}

func (d *stateDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail("bad varint: " + err.Error())
		return 0
	}
	return v
}

func (d *stateDecoder) count(limit uint64) uint64 {
	n := d.uvarint()
	if n > limit {
		d.fail("count out of range")
		return 0
	}
	return n
}

func (d *stateDecoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("short data")
		return nil
	}
	return b
}

// fill reads exactly len(p) bytes into p.
func (d *stateDecoder) fill(p []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.r, p); err != nil {
		d.fail("short data")
	}
}

func (d *stateDecoder) string() string { return string(d.bytes(int(d.count(maxNameLen)))) }

func (d *stateDecoder) app() *App {
	a := NewApp()
	if d.version >= 2 {
		a.settings = d.settings()
	}
	for i, n := uint64(0), d.count(maxCount); i < n && d.err == nil; i++ {
		name := d.string()
		if a.userNamed(name) != nil {
			d.fail("duplicate user")
		}
		a.user(name)
	}
	for i, n := uint64(0), d.count(maxCount); i < n && d.err == nil; i++ {
		name := d.string()
		if _, dup := a.pageNames.id(name); dup {
			d.fail("duplicate page")
		}
		a.pageID(name)
	}
	var prev int64
	n := d.count(maxCount)
	a.presize(int(min(n, d.maxSessions)))
	for i := uint64(0); i < n && d.err == nil; i++ {
		prev = d.session(a, prev)
	}
	prev = 0
	for i, n := uint64(0), d.count(maxCount); i < n && d.err == nil; i++ {
		prev += d.varint()
		ms, page, user := d.uvarint(), d.uvarint(), d.uvarint()
		if d.err != nil {
			break
		}
		if ms > event.MaxSpentMs || page >= uint64(a.pageNames.len()) || user >= uint64(a.userNames.len()) {
			d.fail("track out of range")
			break
		}
		a.addTrack(track{at: prev, ms: int64(ms), page: uint32(page), user: uint32(user)})
	}
	return a
}

func (d *stateDecoder) session(a *App, prevStart int64) int64 {
	var id uuid.UUID
	d.fill(id[:])
	user := d.uvarint()
	start := prevStart + d.varint()
	d.fill(d.scratch[:1])
	flags := d.scratch[0]
	nMarks := d.count(maxMarks)
	if d.err != nil {
		return start
	}
	if user >= uint64(a.userNames.len()) {
		d.fail("session user out of range")
		return start
	}
	marks := d.marks[:0]
	last := start
	for i := uint64(0); i < nMarks && d.err == nil; i++ {
		last += int64(d.uvarint())
		marks = append(marks, last)
	}
	d.marks = marks
	lastSeen := last + d.varint()
	if d.err != nil {
		return start
	}
	s := d.newSession()
	*s = session.Session{ID: id, User: a.userNames.list[user], Start: start, Status: session.Active,
		Marks: d.marksFor(len(marks)), LastSeen: lastSeen}
	d.restore(a, s, marks, flags)
	return start
}

// restore replays a decoded session through the state machine, so that a
// snapshot can only ever hold sessions the rules allow.
func (d *stateDecoder) restore(a *App, s *session.Session, marks []int64, flags byte) {
	status, timedOut := session.Status(flags>>1), flags&1 == 1
	for i, at := range marks {
		kind := event.Pause
		if i%2 == 1 {
			kind = event.Resume
		}
		if i == len(marks)-1 && status == session.Ended {
			kind = event.End
			if timedOut {
				kind = event.Timeout
			}
		}
		if _, err := s.Apply(kind, at); err != nil {
			d.fail("session events out of order")
			return
		}
	}
	if s.Status != status || s.TimedOut != timedOut {
		d.fail("session status does not match its events")
		return
	}
	sd := a.withSessions()
	if last := sd.all.last(); last != nil && sessionOrder(last, s) >= 0 {
		d.fail("sessions out of order")
		return
	}
	n := len(sd.sessions)
	if sd.sessions[s.ID] = s; len(sd.sessions) == n {
		d.fail("duplicate session") // the whole state is refused
		return
	}
	a.index(s)
}
