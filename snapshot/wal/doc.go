// Package wal is the append log under the Session Server's engine: an
// ordered, checksummed, crash-safe sequence of opaque records, each given a
// sequence number (1, 2, 3, ...; never reused).
//
// # Use
//
//	l, err := wal.Open(wal.Options{Dir: "data/wal", Sync: wal.SyncAlways}, snapSeq,
//		func(seq uint64, payload []byte) error { return engine.Apply(seq, payload) })
//	seq, err := l.Append(record)     // returns once written (and fsynced with SyncAlways)
//	through, err := l.Rotate()       // before a snapshot: seal what is written
//	// ... write a snapshot covering >= through and make it durable ...
//	err = l.Compact(through)         // drop the sealed segments it covers
//	err = l.Close()                  // write what is queued, fsync, close
//
// Append is safe for many goroutines. There is no writer goroutine: the
// caller that finds no one writing becomes the leader, takes every waiting
// record, writes them all with one write call and, with SyncAlways, one
// fsync (group commit), answers every waiter, and hands the leadership to
// the next waiter if more came meanwhile. Under SyncEverySec and SyncNo the
// leader first yields once, so that appends already on their way join its
// batch. Waiting records are bounded by Options.MaxPending: beyond it Append
// returns ErrBusy at once. Stats counts appends, bytes, batches and fsyncs,
// with histograms of fsync latency and records per batch.
//
// # Files
//
// The folder holds segments named by the sequence of their first record,
// "%016x.wal" (so names sort in log order). A segment is created as
// "<name>.tmp", given its header, fsynced, renamed and the folder fsynced,
// so a segment either exists with a valid header or not at all. Only the
// last segment is appended to; the others are sealed (fsynced, immutable).
// Repairs leave "<name>.broken" (or "<name>.N.broken") copies, which the log
// ignores. Nothing else in the folder is touched.
//
// # Format
//
// All integers are little-endian; every frame starts 8-byte aligned, so a
// frame header never straddles a 512-byte sector. CRC is CRC32C
// (Castagnoli).
//
//	segment header, 32 bytes
//	+----------------------+---------+--------+----------------+----------------+--------+
//	| magic                | version | flags  | first sequence | CRC of bytes   | zero   |
//	| "SSWAL\r\n\x1a"      | = 2     | = 0    |                | 0 to 23        |        |
//	| 8 bytes              | uint32  | uint32 | uint64         | uint32         | uint32 |
//	+----------------------+---------+--------+----------------+----------------+--------+
//	 0                      8         12       16               24               28       32
//
//	frame: 8-byte header, body, zero padding to a multiple of 8
//	+-----------+---------------------+--------+---------------------+-------------+
//	| CRC       | body length (24 bit)| type   | body                | zero pad    |
//	| uint32    | bytes 4-6           | byte 7 | length bytes        | 0-7 bytes   |
//	+-----------+---------------------+--------+---------------------+-------------+
//	 0           4                     7        8
//	CRC = CRC32C, seeded with the segment header's CRC, over bytes 4 to
//	8+length (length, type and body): a frame copied from another segment
//	does not verify. Type 0 never occurs, so zeroed or preallocated space
//	never reads as a frame.
//
//	type 1, record: the body is the payload (at most MaxRecordBytes).
//	type 2, commit: closes a batch; body of 24 bytes:
//	+---------------------------+----------------+------------------------+------------------------+
//	| sequence of the last      | records in the | bytes of the batch's   | synced: bytes of this  |
//	| record of the batch uint64| batch uint32   | record frames uint32   | segment fsynced before |
//	|                           |                |                        | the batch was written  |
//	|                           |                |                        | uint64                 |
//	+---------------------------+----------------+------------------------+------------------------+
//
// Version 1 had no synced field (a commit body of 16 bytes). Such segments
// are still read, and a version 1 segment that is the last one goes on
// taking version 1 commits; new segments are version 2.
//
//	segment = header, then batches; batch = record frame x N (N >= 1), commit frame
//
// A record's sequence is the segment's first sequence plus the number of
// records before it in the segment; every commit states the last sequence
// of its batch, and the reader checks it. One write call carries one batch,
// so a batch cut by a crash lacks a valid commit and is dropped whole: a
// batch is either fully recovered or not at all. Record frames of a batch
// take at most max(4 MiB, one largest record) bytes, which bounds what the
// reader buffers; it checks every length against MaxRecordBytes before
// reading the body.
//
// # Recovery (Open)
//
// Open reads every segment in order and calls fn for each record above
// after (the sequence the newest snapshot covers; 0 without one):
//
//   - An empty or missing folder is an empty log; the first record gets
//     after+1.
//   - The last segment may end in a torn tail: bytes from the first invalid
//     batch on (cut header or body, zero-filled or preallocated space, a
//     zeroed sector, a bad checksum) with no complete valid batch after
//     them, or (version 2) with valid batches after them none of which
//     states, in its synced field, that the damaged bytes had been
//     fsynced. Both were written after the last fsync: a power loss may
//     keep some such bytes and lose earlier ones (SyncEverySec, SyncNo),
//     and under SyncAlways such bytes were never acknowledged. Open copies
//     the segment to a .broken file, truncates it at the last valid batch,
//     fsyncs it and logs a warning.
//   - Any other damage — in a segment that is not the last, before a valid
//     batch that states it was fsynced (or, in version 1, before any valid
//     batch), or an intact batch with the wrong sequence — is a
//     *CorruptError naming file and offset (wrapping ErrCorrupt), and
//     nothing on disk is changed. Only Repair cuts it.
//   - An unknown format version or frame type (with a valid checksum) is an
//     error wrapping ErrFormat.
//   - Records <= after are skipped (a snapshot taken before the log was
//     compacted overlaps it). If the log starts above after+1, or two
//     segments leave a hole not covered by after, Open returns ErrGap.
//   - If the log ends before after (the snapshot is newer), the next record
//     gets after+1, in a new segment.
//
// Open then fsyncs the last segment, so that everything replayed is durable
// before anything new is acknowledged.
//
// # Failures
//
// A failed or short write (disk full) answers every record of its batch
// with an error wrapping ErrWrite, truncates the partial bytes away, and
// the next batch is tried again: appends succeed again once space returns.
// A failed fsync fails the log for good: that batch and every later Append
// get ErrFailed, since data a failed fsync covered may be lost while later
// fsyncs succeed. The same holds for a failed folder fsync after a new
// segment appears. Restart (Open recovers) to continue.
//
// # Offline tools
//
// Verify reports what Open would find without changing anything; Repair is
// the explicit one-shot repair of a log Open refuses.
package wal
