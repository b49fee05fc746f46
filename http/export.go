package http

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/http/auth"
	"github.com/sessionserver/sessionserver/http/isotime"
)

// Export: POST /api/export streams every session (with its events) and
// every page track of an app, optionally of one user and a time range, as
// NDJSON (the default) or CSV. The format, version 1:
//
//	{"type":"header","format":"sessionserver-export","version":1,"app":…,"user":…|null,"from":…|null,"to":…|null,"exported_at":…}
//	{"type":"session","session_id":…,"user":…,"status":…,"events":[{"type":"start","timestamp":…},…]}
//	{"type":"page_track","user":…,"page":…,"timespent":1.5,"timestamp":…}
//	{"type":"end","sessions":N,"page_tracks":M}
//
// Sessions come in start order, then page tracks in the order they were
// tracked. The end line says the export is whole: a stream cut short, or
// one that failed (it then ends with {"type":"error","message":…}), has
// none. CSV has one row per session event and per page track, under the
// header record,session_id,user,status,event,timestamp,page,timespent.
//
// The stream is read from the app's aggregator in slices (exportSessions
// sessions, or exportScan page tracks looked at, per request to it), so
// writes to the app go on between them, and the server holds one slice at
// a time, whatever the app's size. A session is exported as it is when
// its slice is read: one that changes during the export is given in the
// state it had then.

const (
	exportSessions = 1000
	exportScan     = 8192
)

// exporter is what an export needs after its request has been answered
// (the stream is written once the handler has returned).
type exporter struct {
	eng    *actors.Engine
	app    string
	q      analytics.Query
	header exportHeader
	csv    bool
}

type exportHeader struct {
	Type       string  `json:"type"`
	Format     string  `json:"format"`
	Version    int     `json:"version"`
	App        string  `json:"app"`
	User       *string `json:"user"`
	From       *stamp  `json:"from"`
	To         *stamp  `json:"to"`
	ExportedAt stamp   `json:"exported_at"`
}

type exportEnd struct {
	Type       string `json:"type"`
	Sessions   int    `json:"sessions"`
	PageTracks int    `json:"page_tracks"`
}

func export(c *call) error {
	if !c.claims.Admin {
		return fmt.Errorf("%w: an export needs an admin token", auth.ErrForbidden)
	}
	q, err := c.readQuery()
	if err != nil {
		return err
	}
	x, err := newExporter(c.eng, c.app, q, &c.body, c.now)
	if err != nil {
		return err
	}
	h := &c.ctx.Response.Header
	h.SetContentType(x.contentType())
	h.Set("Content-Disposition", `attachment; filename="export.`+x.format()+`"`)
	h.Set("Cache-Control", "no-store")
	c.ctx.SetBodyStreamWriter(func(w *bufio.Writer) { _ = x.write(w) })
	return nil
}

// newExporter checks the format of an export of q.
func newExporter(eng *actors.Engine, app string, q analytics.Query, b *body, now time.Time) (*exporter, error) {
	format, present, err := str("format", b.Format)
	switch {
	case err != nil:
		return nil, err
	case !present:
		format = "ndjson"
	case format != "ndjson" && format != "csv":
		return nil, invalid("format", `format must be "ndjson" or "csv"`)
	}
	x := &exporter{eng: eng, app: app, q: q, csv: format == "csv",
		header: exportHeader{Type: "header", Format: "sessionserver-export", Version: 1, App: app, ExportedAt: stamp(now.UnixMilli())}}
	if q.User != "" {
		x.header.User = &q.User
	}
	if q.Range.From != math.MinInt64 {
		from := stamp(q.Range.From)
		x.header.From = &from
	}
	if q.Range.To != math.MaxInt64 {
		to := stamp(q.Range.To)
		x.header.To = &to
	}
	return x, nil
}

func (x *exporter) format() string {
	if x.csv {
		return "csv"
	}
	return "ndjson"
}

func (x *exporter) contentType() string {
	if x.csv {
		return "text/csv; charset=utf-8"
	}
	return "application/x-ndjson; charset=utf-8"
}

// Export is an export checked and ready to write, for a caller outside
// HTTP (sessionserver export reads a stopped server's data folder).
type Export struct{ x *exporter }

// ParseExport reads raw, the JSON an export request would carry
// ({"app", "user"?, "from"?, "to"?, "tz"?, "format"?}), with the API's
// validation; its errors read as the API's 4xx messages.
func ParseExport(raw []byte, now time.Time) (*Export, error) {
	var b body
	if err := decodeBody(raw, &b); err != nil {
		return nil, err
	}
	app, err := b.appField()
	if err != nil {
		return nil, err
	}
	q, err := b.query(new(isotime.Zones))
	if err != nil {
		return nil, err
	}
	x, err := newExporter(nil, app, q, &b, now)
	if err != nil {
		return nil, err
	}
	return &Export{x: x}, nil
}

// Write streams the export of eng's state to w.
func (e *Export) Write(w io.Writer, eng *actors.Engine) error {
	x := *e.x
	x.eng = eng
	return x.write(bufio.NewWriterSize(w, 64<<10))
}

// ErrExport: an export stopped midway (its stream ends with an error line).
var ErrExport = errors.New("export stopped")

// write streams the export; a failure to write (the client went away)
// stops it. It returns why it stopped, if it did.
func (x *exporter) write(w *bufio.Writer) error {
	out := newExportWriter(w, x.csv)
	if !x.csv {
		out.json(&x.header)
	}
	sessions, tracks := 0, 0
	var after *analytics.Cursor
	for out.err == nil {
		list, next, err := x.eng.Timeline(x.app, x.q, after, exportSessions)
		if err != nil {
			out.fail(err)
			return fmt.Errorf("%w: %w", ErrExport, err)
		}
		for _, s := range list {
			out.session(s)
		}
		sessions += len(list)
		if out.flush(); next == nil {
			break
		}
		after = next
	}
	for pos := 0; pos >= 0 && out.err == nil; {
		rows, next, err := x.eng.Tracks(x.app, x.q, pos, exportScan)
		if err != nil {
			out.fail(err)
			return fmt.Errorf("%w: %w", ErrExport, err)
		}
		for _, r := range rows {
			out.track(&r)
		}
		tracks += len(rows)
		out.flush()
		pos = next
	}
	if !x.csv {
		out.json(&exportEnd{Type: "end", Sessions: sessions, PageTracks: tracks})
	}
	out.flush()
	if out.err != nil {
		return fmt.Errorf("%w: %w", ErrExport, out.err)
	}
	return nil
}

// exportWriter writes the lines of one format and keeps the first error.
type exportWriter struct {
	w   *bufio.Writer
	csv *csv.Writer
	err error
	buf []byte
}

func newExportWriter(w *bufio.Writer, asCSV bool) *exportWriter {
	ew := &exportWriter{w: w}
	if asCSV {
		ew.csv = csv.NewWriter(w)
		ew.err = ew.csv.Write([]string{"record", "session_id", "user", "status", "event", "timestamp", "page", "timespent"})
	}
	return ew
}

func (ew *exportWriter) json(v any) {
	if ew.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		b = append(b, '\n')
		_, err = ew.w.Write(b)
	}
	ew.err = err
}

// session writes s: a line with its events as the detailed timeline
// gives them (written from the session, with no detailEntry between), or
// a CSV row per event.
func (ew *exportWriter) session(s *session.Session) {
	id := s.ID.String()
	if ew.csv == nil {
		b := appendSessionHead(ew.buf[:0], "session", id, s.User, s.Status.String())
		b = appendKey(b, false, "events")
		b = append(b, '[')
		b = appendEvent(b, true, "start", s.Start)
		for j, at := range s.Marks {
			b = appendEvent(b, false, s.EventKind(j).String(), at)
		}
		ew.line(append(b, ']', '}'))
		return
	}
	ew.csvEvent(id, s, "start", s.Start)
	for j, at := range s.Marks {
		ew.csvEvent(id, s, s.EventKind(j).String(), at)
	}
}

func (ew *exportWriter) csvEvent(id string, s *session.Session, typ string, at int64) {
	if ew.err == nil {
		ew.err = ew.csv.Write([]string{"session", id, s.User, s.Status.String(), typ, ew.stamp(at), "", ""})
	}
}

func (ew *exportWriter) track(r *analytics.TrackRow) {
	secs := seconds(r.Ms)
	if ew.csv == nil {
		b := append(ew.buf[:0], `{"type":"page_track"`...)
		b = appendKey(b, false, "user")
		b = appendString(b, r.User)
		b = appendKey(b, false, "page")
		b = appendString(b, r.Page)
		b = appendKey(b, false, "timespent")
		b = append(b, secs...)
		b = appendKey(b, false, "timestamp")
		b = appendStamp(b, r.At)
		ew.line(append(b, '}'))
		return
	}
	if ew.err == nil {
		ew.err = ew.csv.Write([]string{"page_track", "", r.User, "", "", ew.stamp(r.At), r.Page, secs})
	}
}

// line writes b and a newline; b is kept as the next line's buffer.
func (ew *exportWriter) line(b []byte) {
	b = append(b, '\n')
	ew.buf = b
	if ew.err == nil {
		_, ew.err = ew.w.Write(b)
	}
}

func (ew *exportWriter) stamp(ms int64) string {
	ew.buf = isotime.AppendMillis(ew.buf[:0], ms)
	return string(ew.buf)
}

// seconds writes milliseconds as a JSON number of seconds: 1500 → 1.5.
func seconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}

func (ew *exportWriter) flush() {
	if ew.csv != nil {
		ew.csv.Flush()
		if ew.err == nil {
			ew.err = ew.csv.Error()
		}
	}
	if ew.err == nil {
		ew.err = ew.w.Flush()
	}
}

// fail ends a stream that cannot go on with an error line (NDJSON) and no
// end line.
func (ew *exportWriter) fail(err error) {
	if ew.csv == nil {
		ew.json(map[string]string{"type": "error", "message": "the export stopped: " + err.Error()})
	}
	ew.flush()
}
