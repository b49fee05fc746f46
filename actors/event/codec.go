package event

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary form of a Record, as the append log stores it (the log frames
// and checksums it):
//
//	+------+-----------+-----------+----------------+-----------+-----------+
//	| kind | app       | user      | session        | at        | logged    |
//	| u8   | uvarint n | uvarint n | 16 bytes       | varint    | varint    |
//	|      | + n bytes | + n bytes | (session kinds)| (zigzag)  | (zigzag)  |
//	+------+-----------+-----------+----------------+-----------+-----------+
//	page tracks, instead of the session: page (uvarint n + n bytes) then
//	spent ms (uvarint), before at and logged.
//
// Strings are bounded on decode (MaxApp, MaxUser, MaxPage bytes) so that a
// damaged record never makes a large allocation.

// Limits of the string fields, as the API enforces them.
const (
	MaxApp  = 128
	MaxUser = 256
	MaxPage = 2048
	// MaxSpentMs is 86400 seconds.
	MaxSpentMs = 86_400_000
)

// ErrDecode: the bytes are not a record.
var ErrDecode = errors.New("event: malformed record")

// AppendBinary appends the binary form of rec to dst.
func AppendBinary(dst []byte, rec *Record) []byte {
	dst = append(dst, byte(rec.Kind))
	dst = appendString(dst, rec.App)
	dst = appendString(dst, rec.User)
	if rec.Kind == PageTrack {
		dst = appendString(dst, rec.Page)
		dst = binary.AppendUvarint(dst, uint64(rec.SpentMs))
	} else {
		dst = append(dst, rec.Session[:]...)
	}
	dst = binary.AppendVarint(dst, rec.At)
	return binary.AppendVarint(dst, rec.Logged)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// Decode reads a record from b, which must hold exactly one.
func Decode(b []byte) (Record, error) {
	d := decoder{b: b}
	var rec Record
	rec.Kind = Kind(d.byte())
	if !rec.Kind.Valid() && d.err == nil {
		return rec, fmt.Errorf("%w: unknown kind %d", ErrDecode, rec.Kind)
	}
	rec.App = d.string(MaxApp)
	rec.User = d.string(MaxUser)
	if rec.Kind == PageTrack {
		rec.Page = d.string(MaxPage)
		spent := d.uvarint()
		if spent > MaxSpentMs {
			d.fail("spent time out of range")
		}
		rec.SpentMs = int64(spent)
	} else {
		copy(rec.Session[:], d.take(16))
	}
	rec.At = d.varint()
	rec.Logged = d.varint()
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return rec, d.err
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrDecode, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("short record")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) take(n int) []byte {
	if len(d.b) < n {
		d.fail("short record")
		return make([]byte, n)
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(maxLen int) string {
	n := d.uvarint()
	if n > uint64(maxLen) {
		d.fail("string too long")
		return ""
	}
	return string(d.take(int(n)))
}
