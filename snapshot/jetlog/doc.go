// Package jetlog keeps each app's durable log on NATS JetStream and each
// app's newest snapshot in a JetStream object store, compacting the log
// under each snapshot, and can embed the
// NATS server that holds them. It is the replicated counterpart of
// snapshot/wal (the log) and snapshot (the snapshots): JetStream
// replicates every message to Replicas servers (Raft) before it
// acknowledges it.
//
// # Use
//
//	node, err := jetlog.StartNode(jetlog.NodeConfig{Name: "n1", Dir: "data/nats", Host: "127.0.0.1"})
//	store, err := jetlog.Connect(ctx, jetlog.Config{URL: node.ClientURL(), Replicas: 1})
//	snapSeq, rc, err := store.GetSnapshot(ctx, "shop")          // or ErrNoSnapshot: snapSeq 0
//	last, err := store.App("shop").Replay(ctx, snapSeq, 0, apply) // after the snapshot
//	last, err = store.App("shop").Claim(ctx, last, "member-1")    // ErrFenced: replay the gap, claim again
//	w := store.App("shop").Writer(last, 10*time.Second)           // an event.BatchJournal of the app
//	err = w.Append(&rec)                                          // returns once replicated
//	err = store.PutSnapshot(ctx, "shop", w.Last(), snapshotBytes)
//
// # Layout
//
// One stream (Config.Stream, default SESSIONS; file storage, no limits,
// a Msg-Id window of DuplicateWindow) holds every app's log on a subject
// of its own:
//
//	<lower(stream)>.app.<token>     token = base64url(app name), unpadded
//
// so that any app name (1 to event.MaxApp bytes) is one subject token
// with no '.', '*', '>' or space. A message is a batch of records or a
// claim marker:
//
//	batch: headers Nats-Msg-Id, Nats-Expected-Last-Subject-Sequence; body
//	+---------------+---------------------+---------------+-----+
//	| uvarint len 1 | record 1: len 1     | uvarint len 2 | ... |   N >= 1 records
//	|               | bytes, the record's |               |     |
//	|               | event.AppendBinary  |               |     |
//	+---------------+---------------------+---------------+-----+
//	claim: the same headers, Sessions-Kind: claim, Sessions-Claimant: <who>; no body
//	       (a claim, or a marker the writer appends with Writer.Mark)
//
// JetStream checksums and replicates each stored message, so the body
// carries no checksum of its own; DecodeBatch still refuses a body that
// is not whole records (ErrMalformed). Any other Sessions-Kind is refused
// too, so that a newer format is never misread.
//
// The bucket (Config.Bucket, default SESSIONS_SNAPSHOTS) holds each app's
// snapshot as an object named "<token>.<seq>.<nuid>", with the stream
// sequence it covers in its Sessions-Seq header. Which object is the
// app's snapshot is said by the last message of a second subject of the
// stream, the app's snapshot record:
//
//	<lower(stream)>.snap.<token>    headers Sessions-Seq, Sessions-Object; no body
//
// PutSnapshot stores the object, then appends a record expecting the last
// one it read (Nats-Expected-Last-Subject-Sequence: the compare-and-set
// the object store lacks), and only if that one covers less: a record
// never moves back, however late a former owner's snapshot arrives. Once
// recorded, it compacts: the app's messages the snapshot covers are
// purged (but for the subject's last, which the writer expects: an owner
// whose snapshot ends there appends a marker first, Writer.Mark), and so
// are the older records and the older object. A reader that has read a
// snapshot and the log after it checks SnapshotSeq again: unchanged, no
// message it needed was purged; changed, it starts again from the newer
// snapshot. A snapshot written before records (an object named by the
// token alone) is still read, and the first recorded one replaces it.
// A process killed between storing an object and recording it leaves
// that object in the bucket, never recorded and never read: nothing lists
// the bucket to find it.
//
// # One writer per app
//
// Every message expects the sequence of the subject's last message
// (Nats-Expected-Last-Subject-Sequence). A member becomes an app's
// writer by a claim marker expecting the last sequence it replayed: from
// then on any other writer's message expects an older sequence and is
// refused (ErrFenced), and so is the claimant's if someone claims after
// it. A Writer stops at the first refusal and closes Fenced.
//
// # Retries
//
// Append publishes under a Msg-Id of the batch and publishes the same
// message again on a timeout, a lost connection or a leader election,
// until a definite answer or the end of its context: JetStream answers a
// copy within DuplicateWindow with the first one's sequence. (A single
// server checks the expected sequence before the Msg-Id; Append then
// finds its own Msg-Id on the subject's last message.) Last, Replay,
// Claim, Purge and the snapshots' reads, records and compactions retry
// the same errors; Connect also waits for a
// cluster that has just started to elect its meta leader.
package jetlog
