// Package cluster runs Session Server as several members that share the
// apps: proto.actor's cluster places each app on one member, and NATS
// JetStream (package snapshot/jetlog) holds every app's log and snapshot,
// replicated, so that an app comes back on any member with nothing
// acknowledged lost. Single-node mode (the local log of snapshot/datadir)
// is the default and does not use this package.
//
// # Placement
//
// Each app is one grain of kind "app", its identity the app's name.
// proto.actor's disthash lookup places it by rendezvous hashing over the
// members that the automanaged provider sees alive (each member polls the
// static peer list over HTTP, on loopback in tests). The grain is the
// app's placement: while it is active on a member, that member's engine
// (package actors) holds the app's aggregator and its open sessions'
// actors as local actors, and no other member's engine holds them. One
// grain per app, not per session: grain churn in this proto.actor version
// is quadratic in the grains of a member.
//
// # Request path
//
// Any member's HTTP front end takes any request. Once the body is read,
// the token verified and the app known (http.Placement), the member
// either serves it from its own engine, when it holds the app's grain
// and the grain is ready, or sends it, as a protobuf clusterpb.Request
// (method, URI, headers, body, client address), to the app's grain
// wherever the cluster places it, activating it if needed. The owner
// answers it through the same handler (http.Server.HandleForwarded) and
// sends back a clusterpb.Response (status, headers, body), which the front
// end writes out unchanged. A request is sent once, never retried: a
// retried write could be applied twice. Requests that name no app (health,
// metrics, the list of apps without an app) are answered by the member
// that received them.
//
// # The log
//
// One JetStream stream, file storage, replicas 3 in a 3-member cluster (1
// for one member), a subject per app. A message is a batch of records:
// each app's journal (jetlog.Writer) gathers the records that arrive
// while one publish is in flight into the next message, so group commit
// carries over. A write is acknowledged to its client only once
// JetStream has acknowledged its message, which it does once a majority
// of the stream's replicas have it. A publish that times out is sent
// again with the same message id, which JetStream deduplicates.
//
// # Fencing
//
// Every publish carries the expected last sequence of its app's subject
// (Nats-Expected-Last-Subject-Sequence): the sequence this member last
// wrote or claimed there. A member that activates the app first writes a
// claim marker the same way, after replaying the subject. So once another
// member has claimed the app, the old owner's next publish is refused
// (jetlog.ErrFenced). The old owner then answers that write 503, and the
// grain stops and drops the app from its engine. Nothing it wrote after
// the claim exists.
//
// A member that was frozen (SIGSTOP) and thawed after its apps moved may
// still hold their grains: its writes are fenced as above. Its reads are
// guarded by a lease: a grain serves reads only within a second of its
// last proof of ownership (the sending time of a publish that was then
// acknowledged, or of a check that found the subject's last message still
// its own); a grain past its lease checks first, and a grain that finds
// another member's message stops. A member that claims an app that had
// messages answers nothing about it for that second after its claim, by
// which time every earlier owner's lease has run out: no read anywhere
// misses a write the new owner acknowledges.
//
// # Activation
//
// A grain activating on a member reads the app's newest snapshot from the
// JetStream object store (if any), replays the app's subject after the
// sequence the snapshot covers, and claims the app (replaying again what
// arrived meanwhile, until the claim succeeds). The engine then adopts the
// app (actors.Engine.Adopt): an aggregator over the state and an actor per
// open session. Requests that reach the grain meanwhile are answered 503
// with Retry-After: 1, and nothing is applied.
//
// # Snapshots
//
// The owner of each app writes a snapshot of it to the object store every
// -snapshot-interval, when the app's log has grown since the last one.
// The snapshot is built beside the live app, from the previous snapshot
// and the subject up to the last acknowledged sequence, so the app's
// writes never wait for it. The snapshot names the sequence it covers;
// activation replays from there.
//
// Each snapshot compacts the app's log (jetlog.Store.PutSnapshot): once
// it is recorded, the messages it covers and the snapshot before are
// purged, so that an erased user, a deleted app or the sessions retention
// removed leave the stream at the app's next snapshot. A snapshot becomes
// the recorded one by a message appended under the expected-sequence
// check, and only if it covers more than the one recorded: a former
// owner, frozen while it wrote an older snapshot, cannot put it back
// after the new owner's. An activation (or a snapshot being built) that
// finds, once it has replayed, that a newer snapshot was recorded
// meanwhile starts again from that one, since the log it was reading may
// have been purged under it.
//
// # What a client sees while an app moves
//
// When a member dies, the others stop seeing it (the provider's poll),
// the topology changes, and the next request for each of its apps
// activates the app on the member it now hashes to. Until then, requests
// for those apps get 503 with Retry-After (the owner cannot be reached, or
// the grain is activating), or 504 when the owner took a request and died
// before answering (its outcome is unknown: it was acknowledged to nobody).
// An acknowledged write is in the log and replayed by the next owner: it
// is never lost, doubled (each write is one publish, deduplicated by its
// message id, never resent by the front end) or reordered (one writer per
// subject at a time, fenced by sequence).
//
// # Read-your-writes across members
//
// Every read and write of an app is answered by its one owner, which
// applies a write before acknowledging it. A read sent through any member
// after an acknowledged write therefore sees it, and after a move the new
// owner serves nothing before it has replayed the subject to its claim.
package cluster
