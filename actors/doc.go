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
// How long a request holds an aggregator (its app's writes queue behind
// it), on a 2-core VM (BenchmarkLongestReads, BenchmarkUserReads,
// BenchmarkRetention in package analytics):
//
//   - analytics of every user, and of a user past 1,024 sessions (its own
//     counters), follow the length of the range, not the history: 4–70 µs
//     over 30 days at 1M sessions, 1.8 ms over three years of busy buckets;
//     a range that cuts buckets adds their sessions (0.4 ms for two
//     buckets of 5,000 each);
//   - a user under 1,024 sessions is looked at session by session: at most
//     about 40 µs (start-based figures) and 100 µs (active time per day);
//   - a timeline page holds what it returns (3 ms for the largest, 10,000
//     sessions), not the history before its cursor (0.8 µs for a page at
//     the end of 105k sessions);
//   - page totals follow the app's number of pages (4.5 ms at 10,000);
//   - an export reads slices of 1,000 sessions or 8,192 page tracks, an
//     import applies batches of at most 2,000 records, and a retention
//     step looks at 1,000 sessions and 1,000 tracks (0.6 ms median, p99
//     3.4–4 ms).
//
// Writes that remove much hold it for what they remove: erasing a user
// costs about 1 µs a session and 0.4 µs a page track of that user.
//
// Read-your-writes: a write's message to the aggregator is enqueued before
// the write is answered, and mailboxes are FIFO, so any read sent after an
// answer sees the write.
//
// Messages between actors are plain data, so that the path to
// protoactor's cluster stays open.
package actors
