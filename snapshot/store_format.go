package snapshot

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
)

// The file format; see the package documentation for the drawing.
const (
	// Magic opens every snapshot file.
	Magic = "SESSNAP\n"
	// FormatVersion is the format this build writes and the only one it reads.
	FormatVersion = 1

	headerSize  = 24 // magic 8, version 4, seq 8, header CRC 4
	trailerSize = 24 // body length 8, payload length 8, payload CRC 4, trailer CRC 4
	minFileSize = headerSize + trailerSize

	snapExt   = ".snap"
	tmpExt    = ".tmp"
	brokenExt = ".broken"
	// nameLen is len("%016x-%016x.snap").
	nameLen = 16 + 1 + 16 + len(snapExt)
)

// crcTable is the CRC32C (Castagnoli) table; crc32 builds it once and
// returns the same table on every call.
func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// header is the fixed-size start of a snapshot file.
type header struct {
	version uint32
	seq     uint64
}

// trailer is the fixed-size end of a snapshot file.
type trailer struct {
	bodyLen    uint64 // bytes of zstd stream between header and trailer
	rawLen     uint64 // payload bytes
	payloadCRC uint32 // CRC32C of the payload
}

// appendHeader appends the 24 header bytes for seq.
func appendHeader(b []byte, seq uint64) []byte {
	start := len(b)
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint32(b, FormatVersion)
	b = binary.BigEndian.AppendUint64(b, seq)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable()))
}

// parseHeader checks the 24 header bytes in b and returns the header and
// the header CRC (which seeds the trailer CRC).
func parseHeader(b []byte) (header, uint32, error) {
	if len(b) < headerSize {
		return header{}, 0, corrupt("header cut at %d bytes", len(b))
	}
	if string(b[:len(Magic)]) != Magic {
		return header{}, 0, badFormat("not a snapshot file: magic %q, want %q", b[:len(Magic)], Magic)
	}
	sum := binary.BigEndian.Uint32(b[20:24])
	if got := crc32.Checksum(b[:20], crcTable()); got != sum {
		return header{}, 0, corrupt("header checksum %08x, stored %08x", got, sum)
	}
	h := header{version: binary.BigEndian.Uint32(b[8:12]), seq: binary.BigEndian.Uint64(b[12:20])}
	if h.version != FormatVersion {
		return header{}, 0, badFormat("format version %d, this build reads %d", h.version, FormatVersion)
	}
	return h, sum, nil
}

// appendTrailer appends the 24 trailer bytes; headerCRC chains the trailer
// to its header.
func appendTrailer(b []byte, t trailer, headerCRC uint32) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint64(b, t.bodyLen)
	b = binary.BigEndian.AppendUint64(b, t.rawLen)
	b = binary.BigEndian.AppendUint32(b, t.payloadCRC)
	return binary.BigEndian.AppendUint32(b, crc32.Update(headerCRC, crcTable(), b[start:]))
}

// parseTrailer checks the 24 trailer bytes in b against the header CRC.
func parseTrailer(b []byte, headerCRC uint32) (trailer, error) {
	if len(b) < trailerSize {
		return trailer{}, corrupt("trailer cut at %d bytes", len(b))
	}
	sum := binary.BigEndian.Uint32(b[20:24])
	if got := crc32.Update(headerCRC, crcTable(), b[:20]); got != sum {
		return trailer{}, corrupt("trailer checksum %08x, stored %08x (file truncated or overwritten?)", got, sum)
	}
	return trailer{
		bodyLen:    binary.BigEndian.Uint64(b[0:8]),
		rawLen:     binary.BigEndian.Uint64(b[8:16]),
		payloadCRC: binary.BigEndian.Uint32(b[16:20]),
	}, nil
}

// fileName is the name of the snapshot of seq taken at stamp.
func fileName(seq, stamp uint64) string {
	return fmt.Sprintf("%016x-%016x%s", seq, stamp, snapExt)
}

// snapName is a parsed snapshot file name.
type snapName struct {
	name  string
	seq   uint64
	stamp uint64
}

// parseName parses "%016x-%016x.snap" (lowercase hex only, so that the
// order of names is the order of numbers).
func parseName(name string) (snapName, bool) {
	if len(name) != nameLen || !strings.HasSuffix(name, snapExt) || name[16] != '-' {
		return snapName{}, false
	}
	seq, ok1 := parseHex16(name[:16])
	stamp, ok2 := parseHex16(name[17:33])
	return snapName{name: name, seq: seq, stamp: stamp}, ok1 && ok2
}

// parseHex16 parses exactly 16 lowercase hex digits.
func parseHex16(s string) (uint64, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil && len(s) == 16
}

// newestFirst sorts snapshot names by (seq, stamp), newest first.
func newestFirst(names []snapName) {
	slices.SortFunc(names, func(a, b snapName) int {
		if c := cmp.Compare(b.seq, a.seq); c != 0 {
			return c
		}
		return cmp.Compare(b.stamp, a.stamp)
	})
}
