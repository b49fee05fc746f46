// Package actors is the engine of Session Server: it turns validated
// commands into records, makes each record durable through an
// event.Journal, applies it, and answers analytics from live counters.
//
// Two kinds of actor (github.com/asynkron/protoactor-go) do the work:
//
//   - a session actor per live session owns that session's state machine
//     (package session). Commands on one session are serialised by its
//     mailbox, so of two racing pauses exactly one wins. It logs each
//     accepted transition, applies it, tells its app's aggregator, and
//     answers. An ended session's actor stops; its compact record lives on
//     in the aggregator.
//   - an aggregator actor per app owns an analytics.App: a copy of every
//     session, live counters in 15-minute buckets, the per-user index and
//     the page totals. Every read of the app is a request to it. It also
//     finds its sessions idle past the timeout (a queue by last-seen time).
//     Aggregators run on a pool of at most 64 goroutines shared by every
//     app (workerPool): an idle app has none, a busy one keeps a warm
//     worker. An app with its first page track holds about 1.2 KB.
//
// Page tracks need no token, so anyone can make apps with them: the
// engine holds at most Config.MaxPublicApps apps that only page tracks
// made (ErrAppLimit beyond); a session start, which needs a token, makes
// an app a real one, without a limit.
//
// The happy path:
//
//	eng := actors.New(actors.Config{Journal: journal, SessionTimeout: 24 * time.Hour, Logger: logger})
//	defer eng.Close()
//	started, err := eng.Start("shop", "ann", nowMs)
//	res, err := eng.Transition(event.Pause, "shop", "ann", started.ID, pauseMs, false)
//	st, err := eng.Starts("shop", analytics.Query{Range: analytics.All()})
//
// Read-your-writes: a write's message to the aggregator is enqueued before
// the write is answered, and mailboxes are FIFO, so any read sent after an
// answer sees the write.
//
// Messages between actors are plain data, so that the path to
// protoactor's cluster stays open.
package actors
