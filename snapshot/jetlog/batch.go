package jetlog

import (
	"encoding/binary"
	"fmt"

	"github.com/sessionserver/sessionserver/actors/event"
)

// maxRecordBytes bounds one record's length on decode: the largest record
// event.AppendBinary makes is an import session with MaxMarks marks (about
// 650 KiB); anything longer is damage, refused before it is sliced.
const maxRecordBytes = 1 << 20

// EncodeBatch appends the batch body of recs to dst: each record's binary
// form (event.AppendBinary) after its length as a uvarint.
func EncodeBatch(dst []byte, recs []event.Record) []byte {
	for i := range recs {
		dst = appendRecord(dst, &recs[i])
	}
	return dst
}

// appendRecord appends one length-prefixed record to dst. The length is
// not known before the record is encoded, so the record is encoded after
// a one-byte guess and moved when its length needs more bytes.
func appendRecord(dst []byte, rec *event.Record) []byte {
	at := len(dst)
	dst = append(dst, 0)
	dst = event.AppendBinary(dst, rec)
	n := len(dst) - at - 1
	if n < 0x80 {
		dst[at] = byte(n)
		return dst
	}
	var pre [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(pre[:], uint64(n))
	dst = append(dst, pre[:k-1]...)
	copy(dst[at+k:], dst[at+1:at+1+n])
	copy(dst[at:], pre[:k])
	return dst
}

// DecodeBatch appends the records of a batch body to dst. A body that is
// empty, has a bad or oversized length, ends inside a record, or holds a
// record event.Decode refuses is an error wrapping ErrMalformed (and
// event.ErrDecode for a bad record); dst is then returned as it was.
func DecodeBatch(dst []event.Record, body []byte) ([]event.Record, error) {
	if len(body) == 0 {
		return dst, fmt.Errorf("%w: empty batch", ErrMalformed)
	}
	start := len(dst)
	for i := 0; len(body) > 0; i++ {
		n, k := binary.Uvarint(body)
		switch {
		case k <= 0:
			return dst[:start], fmt.Errorf("%w: record %d: bad length", ErrMalformed, i)
		case n == 0 || n > maxRecordBytes:
			return dst[:start], fmt.Errorf("%w: record %d: length %d out of range", ErrMalformed, i, n)
		case n > uint64(len(body)-k):
			return dst[:start], fmt.Errorf("%w: record %d: length %d beyond the body", ErrMalformed, i, n)
		}
		rec, err := event.Decode(body[k : k+int(n)])
		if err != nil {
			return dst[:start], fmt.Errorf("%w: record %d: %w", ErrMalformed, i, err)
		}
		dst = append(dst, rec)
		body = body[k+int(n):]
	}
	return dst, nil
}
