// Package snapshot keeps the Session Server's snapshots: the whole state,
// written now and then as one durable, verified, zstd-compressed file, so
// that start-up replays only the log written after it (package
// snapshot/wal). The payload is opaque here; the engine streams it in and
// reads it back.
//
// It gives three things:
//
//   - a [Store], which saves a snapshot atomically ([Store.Save]) and loads
//     the newest one that verifies, setting broken ones aside ([Store.Load]);
//   - [Verify], which checks every snapshot of a folder and changes nothing
//     (for `sessionserver verify`);
//   - a [Policy], which says when the next snapshot is due.
//
// # Happy path
//
//	st := &snapshot.Store{Dir: dataDir, Logger: log} // FS nil: the real disk
//	info, err := st.Save(seq, func(w io.Writer) error { return state.Encode(w) })
//	// err == nil: the file is durable; the log up to seq may go.
//	info, found, err := st.Load(func(seq uint64, r io.Reader) error { return state.Decode(r) })
//	// found == false: no snapshot, replay the whole log.
//	// errors.Is(err, snapshot.ErrCorrupt): snapshots exist, none verifies.
//
// # Files
//
// A snapshot of log sequence number seq is "%016x-%016x.snap": seq, then a
// nanosecond timestamp (bumped past the previous one if the clock did not
// move), both lowercase hex, so that the names sort by recency. Save writes
// "<name>.tmp", fsyncs it, renames it to "<name>" and fsyncs the folder; then
// it removes the snapshots beyond Store.Keep (2), oldest first. Load removes
// leftover "*.snap.tmp" files and renames a file that does not verify to
// "<name>.broken", which nothing here deletes. Other names in the folder are
// never touched, so it may be shared with the log.
//
// # File format (version 1)
//
// All integers are big-endian; CRC is CRC32C (Castagnoli).
//
//	offset        size  field
//	0             8     magic "SESSNAP\n"
//	8             4     format version, 1
//	12            8     seq, the last log record the payload includes
//	20            4     header CRC, of bytes 0..19
//	24            B     body: zstd frames of the payload (window <= 8 MiB)
//	24+B          8     B, the body length
//	32+B          8     N, the payload length (decompressed)
//	40+B          4     payload CRC, of the N payload bytes
//	44+B          4     trailer CRC, of bytes 24+B..43+B, seeded with the header CRC
//	48+B                end of file
//
//	+----------+-----+-----+------+---------------------+-----+-----+------+------+
//	| SESSNAP\n| ver | seq | hCRC | zstd(payload) ...   |  B  |  N  | pCRC | tCRC |
//	+----------+-----+-----+------+---------------------+-----+-----+------+------+
//	 0          8     12    20     24                    24+B  32+B  40+B   44+B
//
// A file verifies when it is at least 48 bytes long, the magic and version
// are known (else the error is also [ErrFormat]), both CRCs match, the seq in
// the header equals the one in the name, B equals the file size minus 48,
// N is at most Store.MaxBytes, and the body decompresses to exactly N bytes
// whose CRC matches. The trailer CRC chains to the header, so a trailer
// cannot be borrowed from another file, and a truncated file fails it.
//
// # Memory and speed
//
// Save streams: the payload goes through a zstd encoder (SpeedDefault, one
// goroutine, so the server keeps the other cores) and a 256 KiB buffer to
// the file; memory stays at about 18 MiB (two 8 MiB windows) whatever the
// payload size, and about 9 MiB when loading.
// Load verifies in a first pass that decompresses the whole file into
// nothing, then decompresses again for the reader, checking length and CRC
// once more as it streams; it never holds the payload either, and never
// hands out more than N <= MaxBytes bytes, so a small file that would
// decompress to a huge one (a zstd bomb) is only corrupt. The cost is
// decompressing twice; zstd decompresses several times faster than it
// compresses.
//
// # Errors
//
// Save's errors wrap [ErrWrite]; Load's wrap [ErrCorrupt] (nothing
// verifies), [ErrRead] (the filesystem failed; nothing is renamed),
// [ErrWrite] (a broken file could not be renamed) or the error of the read
// callback; [ErrFormat] comes with ErrCorrupt.
package snapshot
