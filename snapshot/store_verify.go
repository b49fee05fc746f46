package snapshot

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/sessionserver/sessionserver/snapshot/vfs"
)

// snapFile is an open snapshot file; hdr, hcrc and tr are set by verify.
type snapFile struct {
	f    vfs.File
	name snapName
	path string
	size int64
	hdr  header
	hcrc uint32
	tr   trailer
}

// openSnap opens a snapshot file for reading and learns its size.
func openSnap(fsys vfs.FS, dir string, n snapName) (*snapFile, error) {
	path := filepath.Join(dir, n.name)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %w", ErrRead, err)
	}
	return &snapFile{f: f, name: n, path: path, size: fi.Size()}, nil
}

func (sf *snapFile) close() { _ = sf.f.Close() }

func (sf *snapFile) info() Info {
	return Info{Seq: sf.hdr.seq, Path: sf.path, Size: sf.size, RawSize: int64(sf.tr.rawLen)}
}

// verify checks the whole file: size, header, trailer, then a full
// decompression whose length and checksum must match the trailer. It
// returns nil, an error wrapping ErrCorrupt, or one wrapping ErrRead.
func (sf *snapFile) verify(dec *zstd.Decoder, maxBytes int64) error {
	if sf.size < minFileSize {
		return corrupt("%d bytes, a snapshot has at least %d", sf.size, minFileSize)
	}
	if err := sf.verifyEnds(maxBytes); err != nil {
		return err
	}
	r, err := sf.payload(dec)
	if err != nil {
		return err
	}
	buf := make([]byte, readBufferSize)
	for {
		if _, err := r.Read(buf); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// verifyEnds checks header and trailer and what they say about the file.
func (sf *snapFile) verifyEnds(maxBytes int64) error {
	var b [max(headerSize, trailerSize)]byte
	if err := sf.readAt(b[:headerSize], 0); err != nil {
		return err
	}
	h, hcrc, err := parseHeader(b[:headerSize])
	if err != nil {
		return err
	}
	if h.seq != sf.name.seq {
		return corrupt("header says seq %d, file name %d", h.seq, sf.name.seq)
	}
	if err := sf.readAt(b[:trailerSize], sf.size-trailerSize); err != nil {
		return err
	}
	t, err := parseTrailer(b[:trailerSize], hcrc)
	switch {
	case err != nil:
		return err
	case t.bodyLen != uint64(sf.size-minFileSize):
		return corrupt("trailer says %d compressed bytes, file holds %d", t.bodyLen, sf.size-minFileSize)
	case t.rawLen > uint64(maxBytes):
		return corrupt("payload of %d bytes exceeds the limit of %d", t.rawLen, maxBytes)
	}
	sf.hdr, sf.hcrc, sf.tr = h, hcrc, t
	return nil
}

func (sf *snapFile) readAt(b []byte, off int64) error {
	if _, err := sf.f.ReadAt(b, off); err != nil {
		return fmt.Errorf("%w: %s at offset %d: %w", ErrRead, sf.path, off, err)
	}
	return nil
}

// payload starts a decompression of the body (after verifyEnds) and
// returns a reader of at most tr.rawLen bytes that checks length and
// checksum as it reaches the end.
func (sf *snapFile) payload(dec *zstd.Decoder) (io.Reader, error) {
	src := &ioTracker{r: io.NewSectionReader(sf.f, headerSize, int64(sf.tr.bodyLen))}
	v := &verifyReader{r: dec, src: src, path: sf.path, tab: crcTable(), left: sf.tr.rawLen, want: sf.tr}
	if err := dec.Reset(bufio.NewReaderSize(src, readBufferSize)); err != nil {
		return nil, v.fail(err)
	}
	return v, nil
}

// ioTracker remembers the first error of the file underneath the decoder,
// so that an I/O error is not mistaken for corruption.
type ioTracker struct {
	r   io.Reader
	err error
}

func (t *ioTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// verifyReader hands out at most want.rawLen decompressed bytes; at their
// end it checks that the stream ends too and that the checksum matches,
// and returns io.EOF only then. Its errors are sticky.
// Len is the number of payload bytes not yet read (as bytes.Reader's), so
// a decoder can size its tables from it.
func (v *verifyReader) Len() int { return int(min(v.left, uint64(1<<62))) }

type verifyReader struct {
	r     io.Reader
	src   *ioTracker
	path  string
	tab   *crc32.Table
	want  trailer
	left  uint64
	crc   uint32
	empty int // reads in a row that returned nothing
	err   error
}

// maxEmptyReads is how many (0, nil) reads in a row verifyReader accepts.
const maxEmptyReads = 100

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.left == 0 {
		v.err = v.finish()
		return 0, v.err
	}
	if uint64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.crc = crc32.Update(v.crc, v.tab, p[:n])
	v.left -= uint64(n)
	if v.stalled(n, err) {
		err = io.ErrNoProgress
	}
	switch {
	case err == io.EOF && v.left > 0:
		v.err = corrupt("payload ends after %d bytes, trailer says %d", v.want.rawLen-v.left, v.want.rawLen)
	case err == io.EOF:
		v.err = v.sum()
	case err != nil:
		v.err = v.fail(err)
	}
	return n, v.err
}

// finish checks that the stream holds nothing past the payload length.
func (v *verifyReader) finish() error {
	var one [1]byte
	for {
		n, err := v.r.Read(one[:])
		switch {
		case n > 0:
			return corrupt("payload longer than the %d bytes the trailer says", v.want.rawLen)
		case err == io.EOF:
			return v.sum()
		case err != nil:
			return v.fail(err)
		case v.stalled(n, err):
			return v.fail(io.ErrNoProgress)
		}
	}
}

// stalled counts reads in a row that return nothing and no error, and says
// when there were too many: a decoder that stops making progress must not
// spin forever.
func (v *verifyReader) stalled(n int, err error) bool {
	if n > 0 || err != nil {
		v.empty = 0
		return false
	}
	v.empty++
	return v.empty > maxEmptyReads
}

// sum compares the checksum at the end of the payload; io.EOF means good.
func (v *verifyReader) sum() error {
	if v.crc != v.want.payloadCRC {
		return corrupt("payload checksum %08x, trailer says %08x", v.crc, v.want.payloadCRC)
	}
	return io.EOF
}

// fail classifies a decoder error: I/O underneath, or a bad stream.
func (v *verifyReader) fail(err error) error {
	if v.src.err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRead, v.path, v.src.err)
	}
	return fmt.Errorf("%w: zstd stream: %w", ErrCorrupt, err)
}

// isCorrupt reports whether err says the file content is bad (as opposed
// to no error, or an I/O error).
func isCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }
