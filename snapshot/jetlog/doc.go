// Package jetlog keeps each app's durable log on NATS JetStream and each
// app's newest snapshot in a JetStream object store, and can embed the
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
//
// JetStream checksums and replicates each stored message, so the body
// carries no checksum of its own; DecodeBatch still refuses a body that
// is not whole records (ErrMalformed). Any other Sessions-Kind is refused
// too, so that a newer format is never misread.
//
// The bucket (Config.Bucket, default SESSIONS_SNAPSHOTS) holds one object
// per app, named by the token, with the stream sequence it covers in its
// Sessions-Seq header; a Put replaces the object whole.
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
// Claim and Purge retry the same errors; Connect also waits for a
// cluster that has just started to elect its meta leader.
package jetlog
