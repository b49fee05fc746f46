package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// readChunk is how much a segment reader fetches at a time.
const readChunk = 1 << 20

// errPastEnd: a frame would run past the end of the file.
var errPastEnd = errors.New("wal: past end of segment")

// window holds bytes [base, base+len(buf)) of a file of known size. It
// never reads past size, so what it allocates is bounded by the file and by
// what the caller asks for (which the decoder bounds by the record limit).
type window struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64
}

// view returns file bytes [off, off+n), keeping bytes from keep (<= off) in
// the window. The slice is valid until the next call.
func (w *window) view(keep, off int64, n int) ([]byte, error) {
	end := off + int64(n)
	if end > w.size {
		return nil, errPastEnd
	}
	if off >= w.base && end <= w.base+int64(len(w.buf)) {
		return w.buf[off-w.base : end-w.base], nil
	}
	if err := w.fill(keep, end); err != nil {
		return nil, err
	}
	return w.buf[off-w.base : end-w.base], nil
}

// fill loads [keep, at least end) into the window, reusing what it holds.
func (w *window) fill(keep, end int64) error {
	want := max(end-keep, min(readChunk, w.size-keep))
	buf := w.buf
	if int64(cap(buf)) < want {
		buf = make([]byte, want)
	}
	buf = buf[:want]
	have := int64(0)
	if keep >= w.base && keep < w.base+int64(len(w.buf)) {
		have = int64(copy(buf, w.buf[keep-w.base:]))
	}
	if _, err := w.r.ReadAt(buf[have:], keep+have); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	w.buf, w.base = buf, keep
	return nil
}

// decoder parses the frames of one segment.
type decoder struct {
	win        window
	seed       uint32
	version    uint32
	commitLen  int // body length of a commit frame in this version
	maxRecord  int
	batchLimit int64
}

// frame is a parsed frame; body is valid until the next window call.
type frame struct {
	typ  byte
	body []byte
	end  int64
}

// frame parses the frame at off, keeping the window from keep. Damage is an
// *invalid; an unknown type with a good checksum wraps ErrFormat.
func (d *decoder) frame(keep, off int64) (frame, error) {
	h, err := d.win.view(keep, off, frameHeaderLen)
	if err != nil {
		return frame{}, d.damage(err, "frame header cut by the end of the file")
	}
	word := binary.LittleEndian.Uint32(h[4:])
	typ, n := byte(word>>24), int(word&maxFrameBody)
	switch {
	case typ == 0:
		return frame{}, invalidf("zero frame (unwritten or zeroed space)")
	case typ == typeCommit && n != d.commitLen:
		return frame{}, invalidf("commit frame length %d", n)
	case n > d.maxRecord:
		return frame{}, invalidf("frame length %d above the record limit %d", n, d.maxRecord)
	}
	b, err := d.win.view(keep, off, frameLen(n))
	if err != nil {
		return frame{}, d.damage(err, "frame of %d bytes cut by the end of the file", n)
	}
	if crc(d.seed, b[4:frameHeaderLen+n]) != binary.LittleEndian.Uint32(b) {
		return frame{}, invalidf("checksum mismatch")
	}
	for _, c := range b[frameHeaderLen+n:] {
		if c != 0 {
			return frame{}, invalidf("non-zero frame padding")
		}
	}
	if typ != typeRecord && typ != typeCommit {
		return frame{}, formatErr("frame type %d", typ)
	}
	return frame{typ: typ, body: b[frameHeaderLen : frameHeaderLen+n], end: off + int64(len(b))}, nil
}

// damage turns errPastEnd into an *invalid and passes I/O errors on.
func (d *decoder) damage(err error, format string, args ...any) error {
	if errors.Is(err, errPastEnd) {
		return invalidf(format, args...)
	}
	return err
}

// span locates a record payload in the file.
type span struct {
	off int64
	n   int
}

// batch is a parsed batch: record frames then their commit frame.
type batch struct {
	start, end int64
	commit     commit
	recs       []span
}

// batch parses the batch at start, reusing recs. The commit must count the
// record frames and their bytes; the sequence is for the caller to check.
func (d *decoder) batch(start int64, recs []span) (batch, error) {
	pos := start
	for {
		f, err := d.frame(start, pos)
		if err != nil {
			return batch{}, err
		}
		if f.typ == typeRecord {
			recs = append(recs, span{off: pos + frameHeaderLen, n: len(f.body)})
			pos = f.end
			if pos-start > d.batchLimit {
				return batch{}, invalidf("batch without commit over %d bytes", d.batchLimit)
			}
			continue
		}
		c := parseCommit(f.body)
		if c.count != len(recs) || c.count == 0 || c.batchBytes != pos-start {
			return batch{}, invalidf("commit of %d records (%d bytes) after %d records (%d bytes)",
				c.count, c.batchBytes, len(recs), pos-start)
		}
		return batch{start: start, end: f.end, commit: c, recs: recs}, nil
	}
}

// payloads returns the batch's bytes, in which each span's payload is at
// span.off-b.start.
func (d *decoder) payloads(b batch) ([]byte, error) {
	return d.win.view(b.start, b.start, int(b.end-b.start))
}

// validBatchAfter says whether a complete, valid batch starts at or after
// from, and the largest synced offset such batches state: it looks for
// commit frames with a good checksum and parses the batch each one closes.
// It stops early once the answer cannot change (any batch in version 1, an
// offset beyond from in version 2). Cost: one 8-byte look per 8 bytes plus
// the batches found.
func (d *decoder) validBatchAfter(from int64) (found bool, synced int64, err error) {
	word := uint32(d.commitLen) | typeCommit<<24
	frameLen := int64(frameHeaderLen + d.commitLen)
	for p := from; p+frameLen <= d.win.size; p += 8 {
		h, err := d.win.view(p, p, frameHeaderLen)
		if err != nil {
			return found, synced, err
		}
		if binary.LittleEndian.Uint32(h[4:]) != word {
			continue
		}
		f, err := d.frame(p, p)
		if err != nil {
			continue
		}
		c := parseCommit(f.body)
		start := p - c.batchBytes
		if c.batchBytes <= 0 || c.batchBytes%8 != 0 || start < from {
			continue
		}
		if b, err := d.batch(start, nil); err == nil && b.end == p+frameLen {
			found, synced = true, max(synced, c.synced)
			if d.version == version1 || synced > from {
				return found, synced, nil
			}
		} else if err != nil && !isInvalid(err) {
			return found, synced, err
		}
	}
	return found, synced, nil
}

// isInvalid says whether err is frame damage rather than an I/O error.
// Format errors count as valid data (a newer writer wrote them).
func isInvalid(err error) bool { return asInvalid(err) != nil }

// asInvalid returns err as frame damage, or nil.
func asInvalid(err error) *invalid {
	var iv *invalid
	if errors.As(err, &iv) {
		return iv
	}
	return nil
}

// segScan is what scanning one segment found.
type segScan struct {
	seed     uint32
	version  uint32
	records  uint64
	validEnd int64   // offset after the last valid batch
	size     int64   // file size
	torn     *Damage // torn tail (only when scanned as the last segment)
}

// scanSegment reads the segment at path whose name says its first sequence
// is first, calling visit for every record of every valid batch. Damage
// becomes a *CorruptError, except that in the last segment damage with no
// valid batch after it is a torn tail, reported in segScan.torn.
func scanSegment(r io.ReaderAt, size int64, path string, first uint64, maxRecord int, last bool,
	visit func(seq uint64, payload []byte) error) (segScan, error) {
	sc := segScan{size: size}
	d := &decoder{win: window{r: r, size: size}, maxRecord: maxRecord, batchLimit: int64(batchLimit(maxRecord))}
	h, err := d.win.view(0, 0, min(headerLen, int(size)))
	if err != nil {
		return sc, err
	}
	hfirst, seed, version, err := parseHeader(h)
	if err != nil {
		return sc, located(path, 0, err)
	}
	d.version, d.commitLen, sc.version = version, commitBodyLen, version
	if version == version1 {
		d.commitLen = commitBodyLenV1
	}
	if hfirst != first {
		return sc, &CorruptError{File: path, Offset: 0, Reason: fmt.Sprintf("header says first sequence %d, name says %d", hfirst, first)}
	}
	d.seed, sc.seed = seed, seed
	pos, bad, err := d.records(first, visit, &sc)
	sc.validEnd = pos
	if err != nil || bad == nil {
		return sc, located(path, pos, err)
	}
	return sc, d.classify(path, pos, bad, last, &sc)
}

// records walks the batches from the header on, checking each commit's
// sequence. It stops at the end of the file or at the first invalid batch,
// returning its offset and the damage.
func (d *decoder) records(first uint64, visit func(uint64, []byte) error, sc *segScan) (int64, *invalid, error) {
	pos, seq := int64(headerLen), first
	var recs []span
	for pos < d.win.size {
		b, err := d.batch(pos, recs[:0])
		if err != nil {
			if iv := asInvalid(err); iv != nil {
				return pos, iv, nil
			}
			return pos, nil, err
		}
		recs = b.recs
		if want := seq + uint64(len(b.recs)) - 1; b.commit.lastSeq != want {
			return pos, &invalid{reason: fmt.Sprintf("commit says last sequence %d, expected %d", b.commit.lastSeq, want), whole: true}, nil
		}
		if err := d.deliver(b, seq, visit); err != nil {
			return pos, nil, err
		}
		seq += uint64(len(b.recs))
		sc.records += uint64(len(b.recs))
		pos = b.end
	}
	return pos, nil, nil
}

// deliver calls visit for each record of a valid batch.
func (d *decoder) deliver(b batch, seq uint64, visit func(uint64, []byte) error) error {
	if visit == nil {
		return nil
	}
	all, err := d.payloads(b)
	if err != nil {
		return err
	}
	for i, s := range b.recs {
		o := s.off - b.start
		if err := visit(seq+uint64(i), all[o:o+int64(s.n):o+int64(s.n)]); err != nil {
			return err
		}
	}
	return nil
}

// classify decides whether damage at pos is a torn tail or corruption. In
// the last segment it is a torn tail when no valid batch follows it, or
// (version 2) when no batch that follows says that pos had been fsynced:
// then everything from pos on was written after the last fsync that
// survived, and a power loss may keep any part of such bytes and lose
// another (acknowledged under SyncEverySec or SyncNo, never under
// SyncAlways, whose every batch states the fsync of the one before). An
// intact batch with the wrong sequence is never a torn tail.
func (d *decoder) classify(path string, pos int64, bad *invalid, last bool, sc *segScan) error {
	if !last {
		return &CorruptError{File: path, Offset: pos, Reason: bad.reason + " (not the last segment)"}
	}
	more, synced, err := d.validBatchAfter(pos)
	if err != nil {
		return err
	}
	if more && (d.version == version1 || synced > pos || bad.whole) {
		return &CorruptError{File: path, Offset: pos, Reason: bad.reason + " (valid batches follow)"}
	}
	reason := bad.reason
	if more {
		reason += " (valid batches follow, all written after the last fsync)"
	}
	sc.torn = &Damage{File: path, Offset: pos, Size: d.win.size, Reason: reason}
	return nil
}

// located turns frame damage into a CorruptError and prefixes other
// errors (format, I/O) with the place.
func located(path string, off int64, err error) error {
	if err == nil {
		return nil
	}
	switch iv := asInvalid(err); {
	case iv != nil:
		return &CorruptError{File: path, Offset: off, Reason: iv.reason}
	case errors.Is(err, ErrFormat):
		return fmt.Errorf("%s at offset %d: %w", path, off, err)
	}
	return err
}
