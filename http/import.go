package http

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/http/auth"
)

// Import: POST /api/import takes an export (the NDJSON of POST
// /api/export, version 1, see export.go) as its body and adds what it
// holds to an app: the header's "app", or the query's ?app=NAME. The
// body is read as it arrives, line by line, and imported in batches of
// at most importBatch records (each one write to the log), so neither
// the body nor the import is ever whole in memory and no body limit
// applies (MaxBody is for the other routes; see body.go).
//
// It is idempotent: a session whose id the app has is skipped, and so is
// a page track the app holds already. Page tracks have no id, and two
// identical ones (same user, page, timestamp and time spent) are two
// visits, so each track carries its ordinal among the identical tracks
// before it in the same body; the engine skips the k-th of them when the
// app holds k already. A second import of the same file changes nothing.
//
// A line that cannot be imported stops the import there:
//
//   - every record before it is imported (durable, as each batch is
//     acknowledged by the log), the line itself and every line after it
//     are not;
//   - the answer is 400 (the line is not JSON, not an export line, or
//     out of place: a second header, a line after the end line, the
//     error line of a failed export) or 422 (a line of a known type with
//     a field missing, of the wrong type or out of range), its message
//     and details naming the line number (from 1, the header's) and the
//     field; its data counts what was imported and gives "line", where
//     to resume. As the import is idempotent, fixing that line and
//     importing the whole file again completes it.
//
// A header that is missing or not of format "sessionserver-export"
// version 1 is 400 before anything is imported. A body with no end line
// (an export cut short) is imported whole and answered 200 with
// "complete": false; a body that stops arriving (the client gone, or
// BodyTimeout without a byte) keeps what was imported from its complete
// lines and is answered 400 (408 on the timeout) as a bad line at the
// line it stopped in. The whole body has no time limit: each BodyTimeout
// must bring some of it.

const (
	// importBatch is the most records (sessions + page tracks) of one
	// Engine.Import call, one log write.
	importBatch = 2000
	// maxImportLine is the longest line read: about 80,000 events of a
	// session. A longer one is a bad line.
	maxImportLine = 4 << 20
	// importBuffer is the read buffer; longer lines are gathered apart.
	importBuffer = 64 << 10
)

// ErrImport: an import stopped at a line it could not take.
var ErrImport = errors.New("http: import stopped")

// ImportAnswer is the data of an import's answer (POST /api/import), and of its error
// answer: what is durable.
type ImportAnswer struct {
	App               string `json:"app"`
	Sessions          int    `json:"sessions"`
	SessionsSkipped   int    `json:"sessions_skipped"`
	PageTracks        int    `json:"page_tracks"`
	PageTracksSkipped int    `json:"page_tracks_skipped"`
	// Lines is how many lines of the body are imported: all of them on
	// success, those before Line on an error.
	Lines int `json:"lines"`
	// Complete: the end line was there and counted the lines before it.
	Complete bool `json:"complete"`
	// Line is the line an import stopped at: where to resume.
	Line int `json:"line,omitempty"`
}

// importFailure is an import's error answer, with its data.
type importFailure struct {
	err  error
	data *ImportAnswer
}

func (f *importFailure) Error() string   { return f.err.Error() }
func (f *importFailure) Unwrap() error   { return f.err }
func (f *importFailure) answerData() any { return f.data }

func importData(c *call) error {
	if !c.claims.Admin {
		return fmt.Errorf("%w: an import needs an admin token", auth.ErrForbidden)
	}
	target, err := importTarget(c.ctx.QueryArgs())
	if err != nil {
		return err
	}
	if c.app = target; target != "" {
		if err := c.adminOf("an import"); err != nil {
			return err // before a byte of the body is read
		}
	}
	lr := newLineReader(c.bodyReader(), maxImportLine)
	im := newImporter(c.eng, c.now)
	app, err := im.header(lr)
	if err != nil {
		return err
	}
	if target == "" {
		c.app = app
		if err := c.adminOf("an import"); err != nil {
			return err
		}
	}
	im.res.App = c.app
	res, err := im.run(lr)
	if err != nil {
		c.s.log.Info("import stopped", "app", c.app, "err", err) // the client may be gone: the reason stays here
		return err
	}
	c.s.log.Info("import finished", "app", c.app, "sessions", res.Sessions, "sessions_skipped", res.SessionsSkipped,
		"page_tracks", res.PageTracks, "page_tracks_skipped", res.PageTracksSkipped, "lines", res.Lines, "complete", res.Complete)
	msg := "Import finished"
	if !res.Complete {
		msg = "Import finished; the body has no end line, so the export may have been cut short"
	}
	return c.ok(msg, res)
}

// importTarget reads the query's optional ?app=.
func importTarget(args *fasthttp.Args) (string, error) {
	if !args.Has("app") {
		return "", nil
	}
	v := args.Peek("app")
	if len(v) < 1 || len(v) > event.MaxApp || !utf8.Valid(v) {
		return "", invalid("app", "the query's app must be 1 to %d bytes of UTF-8", event.MaxApp)
	}
	return string(v), nil
}

// bodyReader is the request's body as it arrives. Each read first moves
// the connection's read deadline BodyTimeout ahead (at most once a
// second), so that a long body is read as long as it keeps coming.
func (c *call) bodyReader() io.Reader {
	rs := c.ctx.RequestBodyStream()
	if rs == nil {
		return bytes.NewReader(c.ctx.PostBody()) // not streamed: read whole already
	}
	return &renewingReader{r: rs, ctx: c.ctx, length: c.ctx.Request.Header.ContentLength()}
}

// renewingReader also tells a body that ended before its Content-Length
// (the client went away; fasthttp gives io.EOF for it) by
// io.ErrUnexpectedEOF. A chunked body cut off is one already.
type renewingReader struct {
	r      io.Reader
	ctx    *fasthttp.RequestCtx
	next   time.Time
	length int // Content-Length, or negative
	read   int
}

func (rr *renewingReader) Read(p []byte) (int, error) {
	if now := time.Now(); now.After(rr.next) {
		if err := rr.ctx.SetReadDeadline(now.Add(BodyTimeout)); err != nil {
			return 0, err
		}
		rr.next = now.Add(time.Second)
	}
	n, err := rr.r.Read(p)
	rr.read += n
	if errors.Is(err, io.EOF) && rr.length >= 0 && rr.read < rr.length {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// importer is one import on its way.
//
// Its batches are pipelined: while the engine imports one, the next is
// read and parsed; a batch goes to the engine once the one before it is
// durable, so at most one is in flight and they are applied in order.
type importer struct {
	eng   *actors.Engine
	p     lineParser
	cur   *recordBatch // being filled
	sent  *recordBatch // in the engine, or nil
	spare *recordBatch
	res   ImportAnswer
	read  [2]int // session and page_track lines read
	ended bool
	// seen counts the page tracks read by a 64-bit hash of (user, page,
	// timestamp, time spent), for their ordinals. It is the import's one
	// cost that grows with the body: a Go map of uint64 to uint32 holds
	// an entry in 16 bytes of slot and 1 of control, at 7/16 to 7/8 of
	// its slots, so 19 to 39 bytes per distinct track (about 10 MB for
	// 400,000). The hash is maphash's with a seed of this request, so no
	// input can aim at collisions; one collision between n distinct
	// tracks has a chance of about n²/2⁶⁵ (3·10⁻⁸ for a million, 3·10⁻⁴
	// for a hundred million), and would only give the second track
	// ordinal 2 where 1 was due, so that a later import of the same file
	// adds it once more.
	seen map[uint64]uint32
	hash maphash.Hash
}

// recordBatch is the records of one Engine.Import call.
type recordBatch struct {
	sessions []*session.Session
	tracks   []actors.ImportTrack
	first    int // the line of its first record
	got      actors.Imported
	err      error
	done     chan struct{}
}

func (b *recordBatch) len() int { return len(b.sessions) + len(b.tracks) }

func newImporter(eng *actors.Engine, now time.Time) *importer {
	im := &importer{eng: eng, p: lineParser{maxAt: now.Add(maxAhead).UnixMilli()}, seen: make(map[uint64]uint32),
		cur: new(recordBatch), spare: new(recordBatch)}
	im.hash.SetSeed(maphash.MakeSeed())
	return im
}

// header reads the first line, which must be an export's header, and
// returns its app.
func (im *importer) header(lr *lineReader) (string, error) {
	raw, err := lr.nonBlank()
	if errors.Is(err, io.EOF) {
		return "", &apiError{status: fasthttp.StatusBadRequest, message: "the body is empty; an import is the NDJSON of an export, its header line first", details: "body", err: ErrImport}
	}
	if err != nil {
		return "", atLine(lr.n, readError(err))
	}
	it, err := im.p.parse(raw)
	if err == nil && it.kind != lineHeader {
		err = notExport("the first line must be an export's header", "type")
	}
	if err != nil {
		return "", atLine(lr.n, err)
	}
	return it.app, nil
}

// run imports every line after the header.
func (im *importer) run(lr *lineReader) (*ImportAnswer, error) {
	for {
		raw, err := lr.nonBlank()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, im.stop(lr.n, readError(err))
		}
		if im.ended {
			return nil, im.stop(lr.n, notExport("a line after the end line", "line"))
		}
		it, err := im.p.parse(raw)
		if err == nil {
			err = im.add(lr.n, &it)
		}
		if err != nil {
			return nil, im.stop(lr.n, err)
		}
		if im.cur.len() >= importBatch {
			if err := im.flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := im.finish(); err != nil {
		return nil, err
	}
	im.res.Lines, im.res.Complete = lr.n, im.ended
	return &im.res, nil
}

// add takes one parsed line after the header.
func (im *importer) add(n int, it *importItem) error {
	switch it.kind {
	case lineHeader:
		return notExport("a second header line", "type")
	case lineEnd:
		if it.count != im.read {
			return invalid("sessions", "the end line counts %d sessions and %d page tracks; the body has %d and %d", it.count[0], it.count[1], im.read[0], im.read[1])
		}
		im.ended = true
		return nil
	}
	b := im.cur
	if b.len() == 0 {
		b.first = n
	}
	if it.kind == lineSession {
		im.read[0]++
		b.sessions = append(b.sessions, it.session)
		return nil
	}
	im.read[1]++
	it.track.Ordinal = im.ordinal(&it.track)
	b.tracks = append(b.tracks, it.track)
	return nil
}

// ordinal counts t among the identical tracks of the import.
func (im *importer) ordinal(t *actors.ImportTrack) uint32 {
	var b [8]byte
	h := &im.hash
	h.Reset()
	binary.LittleEndian.PutUint64(b[:], uint64(len(t.User))) // so that user and page cannot trade bytes
	_, _ = h.Write(b[:])
	_, _ = h.WriteString(t.User)
	_, _ = h.WriteString(t.Page)
	binary.LittleEndian.PutUint64(b[:], uint64(t.At))
	_, _ = h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], uint64(t.SpentMs))
	_, _ = h.Write(b[:])
	k := h.Sum64()
	im.seen[k]++
	return im.seen[k]
}

// flush sends the batch being filled to the engine, once the one before
// it is durable. A failure answers with what the batches before it
// imported, and its first line to resume at.
func (im *importer) flush() error {
	if err := im.wait(); err != nil {
		return err
	}
	if im.cur.len() == 0 {
		return nil
	}
	b := im.cur
	im.cur, im.spare, im.sent = im.spare, nil, b
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		b.got, b.err = im.eng.Import(im.res.App, b.sessions, b.tracks)
	}()
	return nil
}

// wait waits for the batch in the engine and counts what it imported.
func (im *importer) wait() error {
	b := im.sent
	if b == nil {
		return nil
	}
	<-b.done
	im.sent = nil
	if b.err != nil {
		im.res.Lines, im.res.Line = b.first-1, b.first
		return &importFailure{err: fmt.Errorf("%w at line %d: %w", ErrImport, b.first, b.err), data: &im.res}
	}
	im.res.Sessions += b.got.Sessions
	im.res.SessionsSkipped += b.got.SessionsSkipped
	im.res.PageTracks += b.got.PageTracks
	im.res.PageTracksSkipped += b.got.PageTracksSkipped
	clear(b.sessions)
	b.sessions, b.tracks = b.sessions[:0], b.tracks[:0]
	im.spare = b
	return nil
}

// finish imports what is left and waits until all of it is durable.
func (im *importer) finish() error {
	if err := im.flush(); err != nil {
		return err
	}
	return im.wait()
}

// stop ends the import at line n for cause, after the lines before it.
func (im *importer) stop(n int, cause error) error {
	if err := im.finish(); err != nil {
		return err
	}
	im.res.Lines, im.res.Line = n-1, n
	return &importFailure{err: atLine(n, cause), data: &im.res}
}

// atLine puts the line number into an error answer.
func atLine(n int, cause error) error {
	var ae *apiError
	if !errors.As(cause, &ae) {
		return fmt.Errorf("%w: line %d: %w", ErrImport, n, cause)
	}
	details := "line " + strconv.Itoa(n)
	if ae.details != "line" {
		details += ": " + ae.details
	}
	return &apiError{status: ae.status, message: "line " + strconv.Itoa(n) + ": " + ae.message, details: details,
		err: fmt.Errorf("%w: line %d: %w", ErrImport, n, ae.err)}
}

// notExport is a 400: the line is not one an export has there.
func notExport(message, details string) error {
	return &apiError{status: fasthttp.StatusBadRequest, message: message, details: details, err: ErrImport}
}

// readError is the answer to a line that could not be read whole.
func readError(err error) error {
	if errors.Is(err, errLongLine) {
		return notExport(fmt.Sprintf("the line is longer than %d MiB", maxImportLine>>20), "line")
	}
	ae := errBodyRead(err).(*apiError)
	ae.message += "; the lines before this one are imported"
	ae.details = "line"
	return ae
}

// errLongLine: a line longer than the reader takes.
var errLongLine = errors.New("http: import line too long")

// lineReader splits a body into lines and numbers them.
type lineReader struct {
	br   *bufio.Reader
	long []byte // a line longer than br's buffer, gathered
	max  int
	n    int // number of the line last returned (from 1)
}

func newLineReader(r io.Reader, maxLine int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, importBuffer), max: maxLine}
}

// nonBlank returns the next line that is not blank (only spaces, tabs
// or a CR), without its line end, valid until the next call; io.EOF at
// the end. The last line may lack its "\n". A line that is cut off by a
// read error is not returned.
func (lr *lineReader) nonBlank() ([]byte, error) {
	for {
		b, err := lr.next()
		if err != nil || len(bytes.Trim(b, " \t\r")) > 0 {
			return b, err
		}
	}
}

func (lr *lineReader) next() ([]byte, error) {
	b, err := lr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		lr.long = append(lr.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if b, err = lr.br.ReadSlice('\n'); len(lr.long)+len(b) > lr.max+1 {
				lr.n++
				return nil, errLongLine
			}
			lr.long = append(lr.long, b...)
		}
		b = lr.long
	}
	switch {
	case err == nil:
		b = b[:len(b)-1]
	case !errors.Is(err, io.EOF):
		lr.n++
		return nil, err
	case len(b) == 0:
		return nil, io.EOF
	}
	lr.n++
	if len(b) > lr.max {
		return nil, errLongLine
	}
	return bytes.TrimSuffix(b, []byte{'\r'}), nil
}
