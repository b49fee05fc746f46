package snapshot

import "time"

// Policy says when the next snapshot is due. It is a pure value: the
// caller supplies the clock and the counters, so it has no I/O and no state.
//
//	p := snapshot.Policy{Interval: 5 * time.Minute, MaxLogBytes: 256 << 20}
//	timer := time.NewTimer(p.Next(time.Now(), last))
//	// on the timer, or after each append:
//	if p.Due(time.Now(), last, recordsSince, logBytesSince) { /* take one */ }
type Policy struct {
	// Interval is the time between snapshots (-snapshot-interval); zero or
	// negative disables the timer trigger.
	Interval time.Duration
	// MaxLogBytes is the log growth since the last snapshot that triggers
	// one regardless of the timer; zero or negative disables it.
	MaxLogBytes int64
}

// Due reports whether a snapshot should be taken now, given the time of
// the last one and the records and log bytes appended since. It is never
// due when nothing was appended; otherwise it is due once the log has grown
// by MaxLogBytes or once Interval has passed since last.
func (p Policy) Due(now, last time.Time, recordsSince uint64, logBytesSince int64) bool {
	switch {
	case recordsSince == 0:
		return false
	case p.MaxLogBytes > 0 && logBytesSince >= p.MaxLogBytes:
		return true
	}
	return p.Interval > 0 && !now.Before(last.Add(p.Interval))
}

// Next is how long to wait before asking Due again for the timer trigger:
// the time left until last+Interval, or 0 when the timer is disabled. When
// that moment has passed (a check found nothing appended, or the process
// was down) it is the time to the next multiple of Interval after last, so
// an enabled timer always waits between 1ns and Interval, never busy-loops.
// A last in the future (the clock went back) waits at most Interval.
func (p Policy) Next(now, last time.Time) time.Duration {
	if p.Interval <= 0 {
		return 0
	}
	due := last.Add(p.Interval)
	if left := due.Sub(now); left > 0 {
		return min(left, p.Interval)
	}
	return p.Interval - now.Sub(due)%p.Interval // Sub saturates, never negative here
}
