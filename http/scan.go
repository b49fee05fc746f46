package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// A hand-written reader of request bodies: one pass over the bytes that
// validates the whole document as JSON (RFC 8259) and keeps, for each key
// the API knows, the raw bytes of its value — sub-slices of the body, no
// copies, no reflection. Unknown keys are validated and skipped; of
// duplicate keys the last wins (as encoding/json); keys match exactly
// (encoding/json would also match "APP" to "app"; the API does not).

// errSyntax is the reason of a body that is not JSON.
var errSyntax = errors.New("invalid JSON")

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

type scanner struct {
	b   []byte
	pos int
}

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.pos, what)
}

func (s *scanner) ws() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// scanObject reads raw, which must be one JSON object, into b.
func scanObject(raw []byte, b *body) error {
	s := &scanner{b: raw}
	s.ws()
	if s.pos >= len(raw) || raw[s.pos] != '{' {
		return s.fail("expected an object")
	}
	if err := s.object(b, 1); err != nil {
		return err
	}
	s.ws()
	if s.pos != len(raw) {
		return s.fail("data after the object")
	}
	return nil
}

// object reads an object at s.pos; with b set, known keys are kept.
func (s *scanner) object(b *body, depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deep")
	}
	return s.members(depth, func(key, val []byte) {
		if b != nil {
			b.set(key, val)
		}
	})
}

// members reads the object at s.pos, at nesting depth, calling set with
// each key (the raw inside of its quotes) and value.
func (s *scanner) members(depth int, set func(key, val []byte)) error {
	s.pos++ // '{'
	s.ws()
	if s.pos < len(s.b) && s.b[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		keyStart := s.pos
		if err := s.string(); err != nil {
			return err
		}
		key := s.b[keyStart+1 : s.pos-1]
		s.ws()
		if s.pos >= len(s.b) || s.b[s.pos] != ':' {
			return s.fail("expected ':'")
		}
		s.pos++
		s.ws()
		valStart := s.pos
		if err := s.value(depth); err != nil {
			return err
		}
		set(key, s.b[valStart:s.pos])
		s.ws()
		if s.pos >= len(s.b) {
			return s.fail("unterminated object")
		}
		switch s.b[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or '}'")
		}
	}
}

func (s *scanner) array(depth int) error {
	if depth > maxDepth {
		return s.fail("nested too deep")
	}
	s.pos++ // '['
	s.ws()
	if s.pos < len(s.b) && s.b[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.b) {
			return s.fail("unterminated array")
		}
		switch s.b[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("expected ',' or ']'")
		}
	}
}

func (s *scanner) value(depth int) error {
	if s.pos >= len(s.b) {
		return s.fail("expected a value")
	}
	switch c := s.b[s.pos]; {
	case c == '{':
		return s.object(nil, depth+1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		return s.string()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return s.fail("expected a value")
}

func (s *scanner) literal(word string) error {
	if !bytes.HasPrefix(s.b[s.pos:], []byte(word)) {
		return s.fail("bad literal")
	}
	s.pos += len(word)
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.b) && s.b[s.pos] >= '0' && s.b[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.b[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.b) && s.b[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return s.fail("bad number")
	}
	if s.pos < len(s.b) && s.b[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("bad number")
		}
	}
	if s.pos < len(s.b) && (s.b[s.pos] == 'e' || s.b[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.b) && (s.b[s.pos] == '+' || s.b[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("bad number")
		}
	}
	return nil
}

// string reads a string at s.pos (which must be '"'), leaving s.pos after
// its closing quote.
func (s *scanner) string() error {
	if s.pos >= len(s.b) || s.b[s.pos] != '"' {
		return s.fail("expected a string")
	}
	s.pos++
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			return nil
		case c == '\\':
			if err := s.escape(); err != nil {
				return err
			}
		case c < 0x20:
			return s.fail("control character in string")
		default:
			s.pos++
		}
	}
	return s.fail("unterminated string")
}

func (s *scanner) escape() error {
	s.pos++ // '\'
	if s.pos >= len(s.b) {
		return s.fail("unterminated escape")
	}
	switch s.b[s.pos] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos++
		return nil
	case 'u':
		if s.pos+5 > len(s.b) {
			return s.fail("short \\u escape")
		}
		for _, h := range s.b[s.pos+1 : s.pos+5] {
			if !isHex(h) {
				return s.fail("bad \\u escape")
			}
		}
		s.pos += 5
		return nil
	}
	return s.fail("bad escape")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// set keeps the value of a known key. key is the raw inside of the key's
// quotes; a key written with escapes is decoded first.
func (b *body) set(key, val []byte) {
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		quoted := make([]byte, 0, len(key)+2)
		quoted = append(append(append(quoted, '"'), key...), '"')
		if json.Unmarshal(quoted, &k) != nil {
			return
		}
		key = []byte(k)
	}
	if f := b.field(string(key)); f != nil {
		*f = val
	}
}

func (b *body) field(key string) *json.RawMessage {
	switch key {
	case "app":
		return &b.App
	case "user":
		return &b.User
	case "time":
		return &b.Time
	case "status":
		return &b.Status
	case "session_id":
		return &b.SessionID
	case "page":
		return &b.Page
	case "timespent":
		return &b.Timespent
	case "from":
		return &b.From
	case "to":
		return &b.To
	case "tz":
		return &b.TZ
	case "limit":
		return &b.Limit
	case "cursor":
		return &b.Cursor
	case "format":
		return &b.Format
	case "retention":
		return &b.Retention
	case "public":
		return &b.Public
	case "access_token":
		return &b.AccessToken
	}
	return nil
}
