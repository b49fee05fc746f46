package http

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/http/isotime"
)

// body holds the raw value of every field any endpoint reads. Unknown
// fields are ignored; each field is validated by the endpoint that uses it.
type body struct {
	App       json.RawMessage `json:"app"`
	User      json.RawMessage `json:"user"`
	Time      json.RawMessage `json:"time"`
	Status    json.RawMessage `json:"status"`
	SessionID json.RawMessage `json:"session_id"`
	Page      json.RawMessage `json:"page"`
	Timespent json.RawMessage `json:"timespent"`
	From      json.RawMessage `json:"from"`
	To        json.RawMessage `json:"to"`
	TZ        json.RawMessage `json:"tz"`
	Limit     json.RawMessage `json:"limit"`
	Cursor    json.RawMessage `json:"cursor"`
	Format    json.RawMessage `json:"format"`
	Retention json.RawMessage `json:"retention"`
	Public    json.RawMessage `json:"public"`
	// AccessToken is the bearer token of a request without an
	// Authorization header (see call.bearer).
	AccessToken json.RawMessage `json:"access_token"`
}

// decodeBody parses a request body that must be one JSON object into b,
// which must be zero.
func decodeBody(raw []byte, b *body) error {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		return badJSON("the body is empty")
	}
	if trimmed[0] != '{' {
		if json.Valid(trimmed) {
			return badJSON("the body is JSON but not an object")
		}
		return badJSON("the body is not valid JSON")
	}
	if err := scanObject(raw, b); err != nil {
		return badJSON(err.Error())
	}
	return nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// str reads a string field. present is false when the field is missing or
// null.
func str(field string, raw json.RawMessage) (s string, present bool, err error) {
	if isNull(raw) {
		return "", false, nil
	}
	if raw[0] != '"' {
		return "", true, invalid(field, "%s must be a string", field)
	}
	if inner := raw[1 : len(raw)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, invalid(field, "%s must be a string", field)
	}
	return s, true, nil
}

// requiredStr reads a string field that must be present, of min..max bytes.
func requiredStr(field string, raw json.RawMessage, minLen, maxLen int) (string, error) {
	s, present, err := str(field, raw)
	if err != nil {
		return "", err
	}
	if !present {
		return "", invalid(field, "%s is required", field)
	}
	if len(s) < minLen || len(s) > maxLen {
		return "", invalid(field, "%s must be %d to %d bytes long", field, minLen, maxLen)
	}
	return s, nil
}

// appField reads the app every non-health endpoint needs.
func (b *body) appField() (string, error) { return requiredStr("app", b.App, 1, 128) }

// optionalApp reads the app of a route about apps: "" when missing.
func (b *body) optionalApp() (string, error) {
	if isNull(b.App) {
		return "", nil
	}
	return b.appField()
}

// userField reads the user a write needs.
func (b *body) userField() (string, error) { return requiredStr("user", b.User, 1, 256) }

// readUser reads the optional user of an analytics read: "" means every
// user ("all" in any letter case, empty or missing).
func (b *body) readUser() (string, error) {
	s, _, err := str("user", b.User)
	if err != nil {
		return "", err
	}
	if len(s) > 256 {
		return "", invalid("user", "user must be at most 256 bytes long")
	}
	if strings.EqualFold(s, "all") {
		return "", nil
	}
	return s, nil
}

// maxAhead is how far ahead of the server clock a client time may be.
const maxAhead = 5 * time.Minute

// timeField reads the optional event time; missing means now (atNow true).
func (b *body) timeField(now time.Time) (ms int64, atNow bool, err error) {
	s, present, err := str("time", b.Time)
	if err != nil {
		return 0, false, err
	}
	if !present {
		return now.UnixMilli(), true, nil
	}
	ms, err = isotime.Parse([]byte(s))
	if err != nil {
		return 0, false, invalid("time", "time must be an ISO 8601 date-time such as 2024-01-01T12:00:00.000Z: %v", err)
	}
	if ms > now.Add(maxAhead).UnixMilli() {
		return 0, false, invalid("time", "time may not be more than 5 minutes ahead of the server clock")
	}
	return ms, false, nil
}

func (b *body) sessionID() (uuid.UUID, error) {
	s, err := requiredStr("session_id", b.SessionID, 1, 64)
	if err != nil {
		return uuid.UUID{}, err
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.UUID{}, invalid("session_id", "session_id must be a UUID")
	}
	return id, nil
}

func (b *body) page() (string, error) {
	p, err := requiredStr("page", b.Page, 1, 2048)
	if err != nil {
		return "", err
	}
	if p[0] != '/' {
		return "", invalid("page", "page must start with /")
	}
	return p, nil
}

// timespent reads seconds as a JSON number 0..86400 and returns them in
// milliseconds, with the raw number for the echo.
func (b *body) timespent() (ms int64, raw json.RawMessage, err error) {
	if isNull(b.Timespent) {
		return 0, nil, invalid("timespent", "timespent is required")
	}
	c := b.Timespent[0]
	if c != '-' && (c < '0' || c > '9') {
		return 0, nil, invalid("timespent", "timespent must be a number of seconds")
	}
	f, perr := strconv.ParseFloat(string(b.Timespent), 64)
	if perr != nil || math.IsInf(f, 0) || f < 0 || f > 86400 {
		return 0, nil, invalid("timespent", "timespent must be between 0 and 86400 seconds")
	}
	return int64(math.Round(f * 1000)), b.Timespent, nil
}

// query reads user, from, to and tz of an analytics read.
func (b *body) query(zones *isotime.Zones) (analytics.Query, error) {
	user, err := b.readUser()
	if err != nil {
		return analytics.Query{}, err
	}
	r, err := b.rangeFields(zones)
	return analytics.Query{User: user, Range: r}, err
}

func (b *body) rangeFields(zones *isotime.Zones) (analytics.Range, error) {
	r := analytics.All()
	tz, _, err := str("tz", b.TZ)
	if err != nil {
		return r, err
	}
	if r.Loc, err = zones.Load(tz); err != nil {
		return r, invalid("tz", "tz must be an IANA time zone name such as Europe/Berlin")
	}
	if r.From, err = bound("from", b.From, r.Loc, false, r.From); err != nil {
		return r, err
	}
	if r.To, err = bound("to", b.To, r.Loc, true, r.To); err != nil {
		return r, err
	}
	if r.From >= r.To {
		return r, invalid("from", "from must not be after to")
	}
	return r, nil
}

func bound(field string, raw json.RawMessage, loc *time.Location, isEnd bool, def int64) (int64, error) {
	s, present, err := str(field, raw)
	if err != nil || !present {
		return def, err
	}
	ms, err := isotime.ParseBound([]byte(s), loc, isEnd)
	if err != nil {
		return 0, invalid(field, "%s must be YYYY-MM-DD or an RFC 3339 date-time", field)
	}
	return ms, nil
}

// Page sizes of the timelines.
const (
	defaultLimit = 1000
	maxLimit     = 10000
)

func (b *body) limit() (int, error) {
	if isNull(b.Limit) {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(string(b.Limit))
	if err != nil || n < 1 || n > maxLimit {
		return 0, invalid("limit", "limit must be an integer from 1 to %d", maxLimit)
	}
	return n, nil
}

// A cursor is the start time and id of a page's last session, base64url.
func (b *body) cursor() (*analytics.Cursor, error) {
	s, present, err := str("cursor", b.Cursor)
	if err != nil || !present || s == "" {
		return nil, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != 24 {
		return nil, invalid("cursor", "cursor must be the next_cursor of a previous page")
	}
	c := &analytics.Cursor{Start: int64(binary.BigEndian.Uint64(raw))}
	copy(c.ID[:], raw[8:])
	return c, nil
}

func encodeCursor(c *analytics.Cursor) *string {
	if c == nil {
		return nil
	}
	var raw [24]byte
	binary.BigEndian.PutUint64(raw[:], uint64(c.Start))
	copy(raw[8:], c.ID[:])
	s := base64.RawURLEncoding.EncodeToString(raw[:])
	return &s
}
