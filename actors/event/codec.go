package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
//	spent ms (uvarint), before at and logged; import tracks add the
//	ordinal (uvarint) after the spent ms.
//	settings, instead of the session: retention ms (varint) and public
//	(u8). erase_user and delete_app: nothing between user and at.
//	import_session: the session, flags (u8: status<<1 | timed out), the
//	number of marks (uvarint) and each mark as a varint from the one
//	before (the first from at).
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
	// MaxMarks is the most events after its start an imported session
	// may have.
	MaxMarks = 1 << 16
)

// ErrDecode: the bytes are not a record.
var ErrDecode = errors.New("event: malformed record")

// AppendBinary appends the binary form of rec to dst.
func AppendBinary(dst []byte, rec *Record) []byte {
	dst = append(dst, byte(rec.Kind))
	dst = appendString(dst, rec.App)
	dst = appendString(dst, rec.User)
	x := rec.Extra
	if x == nil {
		x = &Extra{}
	}
	switch rec.Kind {
	case PageTrack, ImportTrack:
		dst = appendString(dst, rec.Page)
		dst = binary.AppendUvarint(dst, uint64(rec.SpentMs))
		if rec.Kind == ImportTrack {
			dst = binary.AppendUvarint(dst, uint64(x.Ordinal))
		}
	case Settings:
		dst = binary.AppendVarint(dst, x.RetentionMs)
		dst = append(dst, byte(x.Public))
	case EraseUser, DeleteApp:
	case ImportSession:
		dst = append(dst, rec.Session[:]...)
		flags := x.Status << 1
		if x.TimedOut {
			flags |= 1
		}
		dst = append(dst, flags)
		dst = binary.AppendUvarint(dst, uint64(len(x.Marks)))
		prev := rec.At
		for _, m := range x.Marks {
			dst = binary.AppendVarint(dst, m-prev)
			prev = m
		}
	default:
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
	if rec.Kind == Settings || rec.Kind == ImportSession || rec.Kind == ImportTrack {
		rec.Extra = &Extra{}
	}
	switch rec.Kind {
	case PageTrack, ImportTrack:
		rec.Page = d.string(MaxPage)
		spent := d.uvarint()
		if spent > MaxSpentMs {
			d.fail("spent time out of range")
		}
		rec.SpentMs = int64(spent)
		if rec.Kind == ImportTrack {
			n := d.uvarint()
			if n == 0 || n > math.MaxUint32 {
				d.fail("ordinal out of range")
			}
			rec.Ordinal = uint32(n)
		}
	case Settings:
		rec.RetentionMs = d.varint()
		rec.Public = Visibility(d.byte())
		if rec.RetentionMs < RetentionInherit || rec.Public > PublicOff {
			d.fail("settings out of range")
		}
	case EraseUser, DeleteApp:
	case ImportSession:
		copy(rec.Session[:], d.take(16))
		flags := d.byte()
		rec.Status, rec.TimedOut = flags>>1, flags&1 == 1
		n := d.uvarint()
		if n > MaxMarks || n > uint64(len(d.b)) { // a mark takes a byte at least
			d.fail("too many marks")
			n = 0
		}
		rec.Marks = make([]int64, 0, n)
		for range n { // deltas, made times once the start is read
			rec.Marks = append(rec.Marks, d.varint())
		}
	default:
		copy(rec.Session[:], d.take(16))
	}
	rec.At = d.varint()
	rec.Logged = d.varint()
	if rec.Kind == ImportSession {
		prev := rec.At
		for i, delta := range rec.Marks {
			prev += delta
			rec.Marks[i] = prev
		}
	}
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
