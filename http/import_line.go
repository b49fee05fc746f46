package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/http/isotime"
)

// The parser of one line of an import: the export's NDJSON version 1
// (export.go), each line validated as the API's write routes validate
// their fields (request.go), so that what an import adds is what those
// routes could have made.

// importLine holds the raw value of every field a line of any type has:
// sub-slices of the line, valid until the next one (scanLine).
type importLine struct {
	Type       json.RawMessage
	Format     json.RawMessage
	Version    json.RawMessage
	App        json.RawMessage
	SessionID  json.RawMessage
	User       json.RawMessage
	Status     json.RawMessage
	EventsRaw  json.RawMessage // "events"; parsed into Events for a session
	Events     []importEvent
	Page       json.RawMessage
	Timespent  json.RawMessage
	Timestamp  json.RawMessage
	Sessions   json.RawMessage
	PageTracks json.RawMessage
	Message    json.RawMessage
}

type importEvent struct {
	Type      json.RawMessage
	Timestamp json.RawMessage
}

func (l *importLine) field(key []byte) *json.RawMessage {
	switch string(key) {
	case "type":
		return &l.Type
	case "format":
		return &l.Format
	case "version":
		return &l.Version
	case "app":
		return &l.App
	case "session_id":
		return &l.SessionID
	case "user":
		return &l.User
	case "status":
		return &l.Status
	case "events":
		return &l.EventsRaw
	case "page":
		return &l.Page
	case "timespent":
		return &l.Timespent
	case "timestamp":
		return &l.Timestamp
	case "sessions":
		return &l.Sessions
	case "page_tracks":
		return &l.PageTracks
	case "message":
		return &l.Message
	}
	return nil
}

func (e *importEvent) field(key []byte) *json.RawMessage {
	switch string(key) {
	case "type":
		return &e.Type
	case "timestamp":
		return &e.Timestamp
	}
	return nil
}

// scanLine reads raw, which must be one JSON object, into l, with the
// scanner of request bodies (scan.go): the whole line is checked as JSON,
// the value of each known key kept as a sub-slice of raw, no copies and
// no reflection. As for request bodies, keys match exactly and of
// duplicate keys the last wins.
func scanLine(raw []byte, l *importLine) error {
	*l = importLine{Events: l.Events[:0]}
	s := scanner{b: raw}
	s.ws()
	if s.pos >= len(raw) || raw[s.pos] != '{' {
		return s.fail("expected an object")
	}
	if err := s.members(1, func(key, val []byte) {
		if f := l.field(jsonKey(key)); f != nil {
			*f = val
		}
	}); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(raw) {
		return s.fail("data after the object")
	}
	return nil
}

// scanEvents reads l.EventsRaw, valid JSON already, into l.Events: false
// when it is not an array of objects.
func (l *importLine) scanEvents() bool {
	s := scanner{b: l.EventsRaw}
	if len(s.b) == 0 || s.b[0] != '[' {
		return false
	}
	s.pos++
	for {
		s.ws()
		switch {
		case s.b[s.pos] == ']':
			return true
		case s.b[s.pos] == ',':
			s.pos++
			s.ws()
		}
		if s.b[s.pos] != '{' {
			return false
		}
		l.Events = append(l.Events, importEvent{})
		e := &l.Events[len(l.Events)-1]
		if s.members(1, func(key, val []byte) {
			if f := e.field(jsonKey(key)); f != nil {
				*f = val
			}
		}) != nil {
			return false
		}
	}
}

// jsonKey is a key as written, or decoded when it has escapes.
func jsonKey(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var k string
	quoted := append(append(append(make([]byte, 0, len(raw)+2), '"'), raw...), '"')
	_ = json.Unmarshal(quoted, &k)
	return []byte(k)
}

type lineKind uint8

const (
	lineHeader lineKind = iota + 1
	lineSession
	lineTrack
	lineEnd
)

// importItem is one parsed line.
type importItem struct {
	kind    lineKind
	app     string           // header
	session *session.Session // session
	track   actors.ImportTrack
	count   [2]int // end: sessions, page tracks
}

// lineParser parses lines; it keeps buffers from line to line.
type lineParser struct {
	l     importLine
	marks []int64
	maxAt int64 // the latest time taken: the server's now + maxAhead
}

// parse reads one line. Its errors are *apiError: 400 for a line that is
// not an export's, 422 naming the field that is wrong.
func (p *lineParser) parse(raw []byte) (importItem, error) {
	if t := bytes.TrimLeft(raw, " \t"); len(t) == 0 || t[0] != '{' {
		return importItem{}, notExport("the line is not a JSON object", "line")
	}
	if err := scanLine(raw, &p.l); err != nil {
		return importItem{}, notExport("the line is not valid JSON: "+err.Error(), "line")
	}
	typ, _, err := str("type", p.l.Type)
	if err != nil {
		return importItem{}, notExport("the line's type must be a string", "type")
	}
	switch typ {
	case "session":
		return p.session()
	case "page_track":
		return p.track()
	case "header":
		return p.header()
	case "end":
		return p.end()
	case "error":
		msg, _, _ := str("message", p.l.Message)
		return importItem{}, notExport("the export failed here and is not whole: "+msg, "type")
	}
	return importItem{}, notExport(fmt.Sprintf(`the line's type is %q, not one of an export: header, session, page_track, end`, typ), "type")
}

func (p *lineParser) header() (importItem, error) {
	format, _, _ := str("format", p.l.Format)
	if format != "sessionserver-export" {
		return importItem{}, notExport(`the header's format must be "sessionserver-export"`, "format")
	}
	if v := string(p.l.Version); v != "1" {
		if v == "" {
			v = "none"
		}
		return importItem{}, notExport("the header's version is "+v+"; this server reads version 1", "version")
	}
	app, err := requiredStr("app", p.l.App, 1, 128)
	return importItem{kind: lineHeader, app: app}, err
}

func (p *lineParser) end() (importItem, error) {
	it := importItem{kind: lineEnd}
	for i, f := range [2]struct {
		name string
		raw  json.RawMessage
	}{{"sessions", p.l.Sessions}, {"page_tracks", p.l.PageTracks}} {
		n, err := strconv.Atoi(string(f.raw))
		if err != nil || n < 0 {
			return importItem{}, invalid(f.name, "%s must be the number of lines of that type", f.name)
		}
		it.count[i] = n
	}
	return it, nil
}

func (p *lineParser) track() (importItem, error) {
	b := body{User: p.l.User, Page: p.l.Page, Timespent: p.l.Timespent}
	user, err := b.userField()
	if err != nil {
		return importItem{}, err
	}
	page, err := b.page()
	if err != nil {
		return importItem{}, err
	}
	spent, _, err := b.timespent()
	if err != nil {
		return importItem{}, err
	}
	at, err := p.stamp("timestamp", p.l.Timestamp)
	if err != nil {
		return importItem{}, err
	}
	return importItem{kind: lineTrack, track: actors.ImportTrack{User: user, Page: page, At: at, SpentMs: spent}}, nil
}

func (p *lineParser) session() (importItem, error) {
	b := body{SessionID: p.l.SessionID, User: p.l.User}
	id, err := b.sessionID()
	if err != nil {
		return importItem{}, err
	}
	user, err := b.userField()
	if err != nil {
		return importItem{}, err
	}
	status, err := sessionStatus(p.l.Status)
	if err != nil {
		return importItem{}, err
	}
	if isNull(p.l.EventsRaw) {
		return importItem{}, invalid("events", "events is required")
	}
	if !p.l.scanEvents() {
		return importItem{}, invalid("events", "events must be an array of {type, timestamp}")
	}
	ev := p.l.Events
	if len(ev) == 0 || string(ev[0].Type) != `"start"` {
		return importItem{}, invalid("events", "events must list the session's events, its start first")
	}
	start, err := p.stamp("events[0].timestamp", ev[0].Timestamp)
	if err != nil {
		return importItem{}, err
	}
	marks, timedOut := p.marks[:0], false
	for i := 1; i < len(ev); i++ {
		want := `"pause"`
		if i%2 == 0 {
			want = `"resume"`
		}
		typ := string(ev[i].Type)
		if status == session.Ended && i == len(ev)-1 {
			want, timedOut = `"end"`, typ == `"timeout"`
			if timedOut {
				want = typ
			}
		}
		if typ != want {
			return importItem{}, invalid(fmt.Sprintf("events[%d].type", i), "events[%d].type must be %s: after the start a session's events alternate pause and resume, and an ended one's last is end or timeout", i, want)
		}
		at, err := p.stamp("", ev[i].Timestamp)
		if err != nil {
			return importItem{}, renamed(err, fmt.Sprintf("events[%d].timestamp", i))
		}
		marks = append(marks, at)
	}
	p.marks = marks
	s, err := session.Rebuild(id, user, start, marks, status, timedOut)
	if err != nil {
		return importItem{}, invalid("events", "the events do not make a session: %s", strings.TrimPrefix(err.Error(), session.ErrRebuild.Error()+": "))
	}
	return importItem{kind: lineSession, session: s}, nil
}

func sessionStatus(raw json.RawMessage) (session.Status, error) {
	switch string(raw) {
	case `"active"`:
		return session.Active, nil
	case `"paused"`:
		return session.Paused, nil
	case `"ended"`:
		return session.Ended, nil
	}
	return 0, invalid("status", `status must be "active", "paused" or "ended"`)
}

// renamed is a 422 of the field "" given its name.
func renamed(err error, field string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.details == "" {
		return &apiError{status: ae.status, message: field + ae.message, details: field, err: ae.err}
	}
	return err
}

// stamp reads a required time, as the API's time field is read. With
// field "", the message begins after the field's name (see renamed).
func (p *lineParser) stamp(field string, raw json.RawMessage) (int64, error) {
	var s []byte
	if n := len(raw); n >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		s = raw[1 : n-1]
	} else {
		v, present, err := str(field, raw)
		if err != nil {
			return 0, err
		}
		if !present {
			return 0, invalid(field, "%s is required", field)
		}
		s = []byte(v)
	}
	ms, err := isotime.Parse(s)
	if err != nil {
		return 0, invalid(field, "%s must be an ISO 8601 date-time such as 2024-01-01T12:00:00.000Z: %v", field, err)
	}
	if ms > p.maxAt {
		return 0, invalid(field, "%s may not be more than 5 minutes ahead of the server clock", field)
	}
	return ms, nil
}
