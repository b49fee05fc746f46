package wal

import (
	"encoding/binary"
	"hash/crc32"
)

// The format; doc.go draws it.
const (
	segmentMagic   = "SSWAL\r\n\x1a"
	formatVersion  = 2
	headerLen      = 32
	frameHeaderLen = 8
	commitBodyLen  = 24
	commitFrameLen = frameHeaderLen + commitBodyLen
	// Version 1 segments, still read, have commits without the synced
	// offset.
	version1        = 1
	commitBodyLenV1 = 16
	// maxFrameBody is the largest payload the 24-bit length can hold.
	maxFrameBody = 1<<24 - 1
	// minBatchLimit is the least record bytes a batch may hold.
	minBatchLimit = 4 << 20

	typeRecord = 1
	typeCommit = 2
)

// crc is CRC32C (Castagnoli) continued from seed.
func crc(seed uint32, b []byte) uint32 {
	return crc32.Update(seed, crc32.MakeTable(crc32.Castagnoli), b)
}

// align8 rounds n up to a multiple of 8.
func align8(n int) int { return (n + 7) &^ 7 }

// frameLen is the size on disk of a frame carrying n payload bytes.
func frameLen(n int) int { return frameHeaderLen + align8(n) }

// batchLimit bounds the record frame bytes of one batch: the writer never
// writes more, so the reader never buffers more.
func batchLimit(maxRecord int) int { return max(minBatchLimit, frameLen(maxRecord)) }

// appendHeader appends a segment header for a segment whose first record
// is first, returning it and the header checksum (the segment's CRC seed).
func appendHeader(dst []byte, first uint64) ([]byte, uint32) {
	off := len(dst)
	dst = append(dst, make([]byte, headerLen)...)
	h := dst[off:]
	copy(h, segmentMagic)
	binary.LittleEndian.PutUint32(h[8:], formatVersion)
	binary.LittleEndian.PutUint64(h[16:], first)
	sum := crc(0, h[:24])
	binary.LittleEndian.PutUint32(h[24:], sum)
	return dst, sum
}

// parseHeader checks a segment header and returns its first sequence,
// checksum and format version. Damage is an *invalid; an unknown version or
// flag wraps ErrFormat.
func parseHeader(h []byte) (first uint64, seed uint32, version uint32, err error) {
	if len(h) < headerLen {
		return 0, 0, 0, invalidf("segment header cut short (%d bytes)", len(h))
	}
	if string(h[:8]) != segmentMagic {
		return 0, 0, 0, invalidf("bad segment magic %q", h[:8])
	}
	seed = binary.LittleEndian.Uint32(h[24:])
	if crc(0, h[:24]) != seed || binary.LittleEndian.Uint32(h[28:]) != 0 {
		return 0, 0, 0, invalidf("segment header checksum mismatch")
	}
	if version = binary.LittleEndian.Uint32(h[8:]); version != formatVersion && version != version1 {
		return 0, 0, 0, formatErr("segment format version %d (this program reads %d and %d)", version, version1, formatVersion)
	}
	if fl := binary.LittleEndian.Uint32(h[12:]); fl != 0 {
		return 0, 0, 0, formatErr("segment flags %#x", fl)
	}
	return binary.LittleEndian.Uint64(h[16:]), seed, version, nil
}

// appendFrame appends one frame: header, payload, zero padding.
func appendFrame(dst []byte, seed uint32, typ byte, payload []byte) []byte {
	off, n := len(dst), len(payload)
	total := frameLen(n)
	if cap(dst)-off < total {
		grown := make([]byte, off, 2*cap(dst)+total)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:off+total]
	f := dst[off:]
	binary.LittleEndian.PutUint32(f[4:], uint32(n)|uint32(typ)<<24)
	copy(f[frameHeaderLen:], payload)
	clear(f[frameHeaderLen+n:])
	binary.LittleEndian.PutUint32(f, crc(seed, f[4:frameHeaderLen+n]))
	return dst
}

// appendCommit appends the commit frame of a batch of count records, the
// last being lastSeq, whose record frames take batchBytes bytes, written
// when the segment's first synced bytes were known to be fsynced.
func appendCommit(dst []byte, seed uint32, lastSeq uint64, count, batchBytes int, synced int64) []byte {
	var body [commitBodyLen]byte
	binary.LittleEndian.PutUint64(body[0:], lastSeq)
	binary.LittleEndian.PutUint32(body[8:], uint32(count))
	binary.LittleEndian.PutUint32(body[12:], uint32(batchBytes))
	binary.LittleEndian.PutUint64(body[16:], uint64(synced))
	return appendFrame(dst, seed, typeCommit, body[:])
}

// appendCommitV1 appends a commit frame of format version 1 (no synced
// offset), for a segment begun in that version.
func appendCommitV1(dst []byte, seed uint32, lastSeq uint64, count, batchBytes int) []byte {
	return appendFrame(dst, seed, typeCommit, appendCommit(nil, 0, lastSeq, count, batchBytes, 0)[frameHeaderLen:frameHeaderLen+commitBodyLenV1])
}

// commit is a parsed commit frame body.
type commit struct {
	lastSeq    uint64
	count      int
	batchBytes int64
	synced     int64 // 0 in version 1
}

func parseCommit(body []byte) commit {
	c := commit{
		lastSeq:    binary.LittleEndian.Uint64(body[0:]),
		count:      int(binary.LittleEndian.Uint32(body[8:])),
		batchBytes: int64(binary.LittleEndian.Uint32(body[12:])),
	}
	if len(body) >= commitBodyLen {
		c.synced = int64(min(binary.LittleEndian.Uint64(body[16:]), 1<<62))
	}
	return c
}
