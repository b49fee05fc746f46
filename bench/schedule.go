package bench

import (
	"context"
	"math"
	"time"
)

// Schedule is the open loop's timetable: request i is due at
// Start + i/Rate, whatever happened to the requests before it. Latency in
// the open loop is measured from these intended times, so a stall of the
// server (or of the harness) shows as the latency of every request that
// should have been sent during it: coordinated omission is corrected.
type Schedule struct {
	Start time.Time
	Rate  float64 // requests per second, > 0
}

// At is the intended send time of request i (i from 0).
func (s Schedule) At(i int64) time.Time {
	return s.Start.Add(time.Duration(float64(i) * float64(time.Second) / s.Rate))
}

// Count is the number of requests due before until.
func (s Schedule) Count(until time.Time) int64 {
	n := max(int64(math.Ceil(until.Sub(s.Start).Seconds()*s.Rate)), 0)
	for n > 0 && !s.At(n-1).Before(until) {
		n--
	}
	for s.At(n).Before(until) {
		n++
	}
	return n
}

// Dispatch sends the intended time of every request due before until on
// out, in order, each once it is due, and closes out. It never drops one:
// when out is full (every worker busy) it waits, and the times it sends
// afterwards are still the intended ones, already past. It stops early
// when ctx is done.
//
// It returns its own lateness: for each request, how long after it was
// due (or after the last wait for a free worker ended, when that was
// later) Dispatch got to it. That is the harness's timer and scheduling delay,
// which the open loop's latencies include, apart from the waits for a
// free worker, which are the server's doing.
func (s Schedule) Dispatch(ctx context.Context, until time.Time, out chan<- time.Time) Latency {
	defer close(out)
	late := newHistogram()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var free time.Time // when the last send that had to wait returned
	for i := int64(0); ; i++ {
		due := s.At(i)
		if !due.Before(until) || !sleepUntil(ctx, timer, due) {
			return latencyOf(late)
		}
		now := time.Now()
		_ = late.RecordValue(micros(now.Sub(laterOf(due, free))))
		select {
		case out <- due:
			continue
		default: // every worker busy: the wait is the server's
		}
		select {
		case out <- due:
			free = time.Now()
		case <-ctx.Done():
			return latencyOf(late)
		}
	}
}

// sleepUntil waits for t on timer; false when ctx ended first.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer.Reset(d)
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
