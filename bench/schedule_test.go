package bench

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestScheduleAt(t *testing.T) {
	cases := []struct {
		rate float64
		i    int64
		want time.Duration
	}{
		{1000, 0, 0},
		{1000, 1, time.Millisecond},
		{1000, 1500, 1500 * time.Millisecond},
		{3, 1, 333333333 * time.Nanosecond},
		{3, 3, time.Second},
		{0.5, 2, 4 * time.Second},
		{50000, 500000, 10 * time.Second},
	}
	for _, tc := range cases {
		s := Schedule{Start: t0, Rate: tc.rate}
		if got := s.At(tc.i).Sub(t0); got != tc.want {
			t.Errorf("rate %g: At(%d) = start+%v, want start+%v", tc.rate, tc.i, got, tc.want)
		}
	}
}

func TestScheduleCount(t *testing.T) {
	cases := []struct {
		rate  float64
		until time.Duration
		want  int64
	}{
		{1000, 0, 0},
		{1000, -time.Second, 0},
		{1000, time.Millisecond, 1}, // only request 0; request 1 is due at the end
		{1000, time.Millisecond + 1, 2},
		{1000, time.Second, 1000},
		{3, time.Second, 3},
		{7, 10 * time.Second, 70},
	}
	for _, tc := range cases {
		s := Schedule{Start: t0, Rate: tc.rate}
		if got := s.Count(t0.Add(tc.until)); got != tc.want {
			t.Errorf("rate %g: Count(start+%v) = %d, want %d", tc.rate, tc.until, got, tc.want)
		}
	}
}

// Dispatch hands out every intended time at its due time; a consumer that
// stalls delays the sending, never the intended times, and its stall is
// not counted as the dispatcher's lateness.
func TestDispatchKeepsIntendedTimes(t *testing.T) {
	cases := []struct {
		name  string
		stall time.Duration // the consumer's pause after the first request
	}{
		{"prompt consumer", 0},
		{"stalled consumer", 35 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := Schedule{Start: time.Now(), Rate: 100}
				until := s.Start.Add(100 * time.Millisecond)
				out := make(chan time.Time)
				late := make(chan Latency, 1)
				go func() { late <- s.Dispatch(t.Context(), until, out) }()
				var got []time.Time
				for due := range out {
					if len(got) == 0 {
						time.Sleep(tc.stall)
					} else if tc.stall == 0 && !time.Now().Equal(due) {
						t.Errorf("request %d received at %v, due at %v", len(got), time.Now(), due)
					}
					got = append(got, due)
				}
				if int64(len(got)) != s.Count(until) || len(got) != 10 {
					t.Fatalf("%d requests, want 10", len(got))
				}
				for i, due := range got {
					if !due.Equal(s.At(int64(i))) {
						t.Errorf("request %d intended at %v, want %v", i, due, s.At(int64(i)))
					}
				}
				if l := <-late; l.Max > minLatencyUs {
					t.Errorf("dispatcher lateness %+v, want none", l)
				}
			})
		})
	}
}

func TestDispatchStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		s := Schedule{Start: time.Now(), Rate: 10}
		out := make(chan time.Time, 100)
		done := make(chan struct{})
		go func() { s.Dispatch(ctx, s.Start.Add(time.Hour), out); close(done) }()
		time.Sleep(250 * time.Millisecond)
		cancel()
		<-done
		n := 0
		for range out { // closed
			n++
		}
		if n != 3 {
			t.Errorf("%d requests before the cancel at 250ms, want 3 (0, 100, 200ms)", n)
		}
	})
}
