package snapshot

import (
	"math"
	"testing"
	"time"
)

func TestPolicyDue(t *testing.T) {
	last := time.Date(2025, 11, 27, 12, 0, 0, 0, time.UTC)
	both := Policy{Interval: time.Minute, MaxLogBytes: 1000}
	tests := []struct {
		name    string
		p       Policy
		elapsed time.Duration
		records uint64
		bytes   int64
		want    bool
	}{
		{"nothing appended, interval passed", both, time.Hour, 0, 0, false},
		{"nothing appended, bytes over (cannot happen, still no)", both, 0, 0, 5000, false},
		{"interval not yet", both, 59 * time.Second, 3, 10, false},
		{"interval exactly", both, time.Minute, 1, 10, true},
		{"interval passed", both, 2 * time.Minute, 1, 10, true},
		{"log bytes reached before interval", both, time.Second, 5, 1000, true},
		{"log bytes just under", both, time.Second, 5, 999, false},
		{"clock went back", both, -time.Hour, 5, 10, false},
		{"timer disabled", Policy{MaxLogBytes: 1000}, 24 * time.Hour, 5, 10, false},
		{"timer disabled, bytes over", Policy{MaxLogBytes: 1000}, 0, 5, 1000, true},
		{"bytes disabled", Policy{Interval: time.Minute}, time.Second, 5, math.MaxInt64, false},
		{"bytes disabled, interval passed", Policy{Interval: time.Minute}, time.Minute, 5, 0, true},
		{"negative settings disable", Policy{Interval: -1, MaxLogBytes: -1}, 24 * time.Hour, 5, 1 << 40, false},
		{"all disabled", Policy{}, 24 * time.Hour, 5, 1 << 40, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Due(last.Add(tt.elapsed), last, tt.records, tt.bytes); got != tt.want {
				t.Errorf("Due = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPolicyNext(t *testing.T) {
	last := time.Date(2025, 11, 27, 12, 0, 0, 0, time.UTC)
	every := Policy{Interval: time.Minute}
	tests := []struct {
		name    string
		p       Policy
		elapsed time.Duration
		want    time.Duration
	}{
		{"disabled", Policy{MaxLogBytes: 1}, 0, 0},
		{"negative interval disabled", Policy{Interval: -time.Second}, 0, 0},
		{"just taken", every, 0, time.Minute},
		{"partway", every, 20 * time.Second, 40 * time.Second},
		{"one ns left", every, time.Minute - 1, 1},
		{"due now: next round", every, time.Minute, time.Minute},
		{"overdue: to the next multiple", every, 150 * time.Second, 30 * time.Second},
		{"overdue by days", every, 72*time.Hour + 10*time.Second, 50 * time.Second},
		{"last in the future: at most one interval", every, -time.Hour, time.Minute},
		{"last far in the past (Sub saturates)", every, time.Duration(math.MaxInt64), 0}, // want computed below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := last.Add(tt.elapsed)
			l := last
			if tt.elapsed == time.Duration(math.MaxInt64) {
				l, now = time.Time{}, last.AddDate(100, 0, 0) // beyond the range of a Duration
			}
			got := tt.p.Next(now, l)
			switch {
			case tt.want != 0 && got != tt.want:
				t.Errorf("Next = %v, want %v", got, tt.want)
			case tt.want == 0 && tt.p.Interval > 0 && (got <= 0 || got > tt.p.Interval):
				t.Errorf("Next = %v, want in (0, %v]", got, tt.p.Interval)
			case tt.want == 0 && tt.p.Interval <= 0 && got != 0:
				t.Errorf("Next = %v, want 0 (disabled)", got)
			}
		})
	}
}
