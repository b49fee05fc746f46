package isotime

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// utcMs builds an expected value: Unix ms of the wall time in a fixed offset.
func utcMs(y, mo, d, h, mi, s, ns int, offMin int) int64 {
	loc := time.FixedZone("", offMin*60)
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, loc).UnixMilli()
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"2024-01-01T12:00:00Z", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		{"1970-01-01T00:00:00Z", 0},
		{"1969-12-31T23:59:59.999Z", -1},
		{"1969-12-31T23:59:59.9999999Z", -1},
		// 0 to 9 fraction digits, truncated to the millisecond.
		{"2024-01-01T12:00:00.1Z", utcMs(2024, 1, 1, 12, 0, 0, 100e6, 0)},
		{"2024-01-01T12:00:00.12Z", utcMs(2024, 1, 1, 12, 0, 0, 120e6, 0)},
		{"2024-01-01T12:00:00.123Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.1239Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.12399Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.123999Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.1239999Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.12399999Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.123999999Z", utcMs(2024, 1, 1, 12, 0, 0, 123e6, 0)},
		{"2024-01-01T12:00:00.000000001Z", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		// Zones.
		{"2024-01-01T12:00:00z", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		{"2024-01-01T12:00:00", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		{"2024-01-01T12:00:00.5", utcMs(2024, 1, 1, 12, 0, 0, 500e6, 0)},
		{"2024-01-01T12:00:00+05:30", utcMs(2024, 1, 1, 12, 0, 0, 0, 330)},
		{"2024-01-01T12:00:00-08:00", utcMs(2024, 1, 1, 12, 0, 0, 0, -480)},
		{"2024-01-01T12:00:00+0545", utcMs(2024, 1, 1, 12, 0, 0, 0, 345)},
		{"2024-01-01T12:00:00-0330", utcMs(2024, 1, 1, 12, 0, 0, 0, -210)},
		{"2024-01-01T12:00:00.250+12:45", utcMs(2024, 1, 1, 12, 0, 0, 250e6, 765)},
		{"2024-01-01T12:00:00+00:00", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		{"2024-01-01T12:00:00-00:00", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		{"2024-01-01T12:00:00+23:59", utcMs(2024, 1, 1, 12, 0, 0, 0, 23*60+59)},
		{"2024-01-01T12:00:00-23:59", utcMs(2024, 1, 1, 12, 0, 0, 0, -(23*60 + 59))},
		// Separators.
		{"2024-01-01t12:00:00Z", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		{"2024-01-01 12:00:00Z", utcMs(2024, 1, 1, 12, 0, 0, 0, 0)},
		// Calendar edges.
		{"2024-02-29T00:00:00Z", utcMs(2024, 2, 29, 0, 0, 0, 0, 0)},
		{"2000-02-29T23:59:59Z", utcMs(2000, 2, 29, 23, 59, 59, 0, 0)},
		{"2023-12-31T23:59:59Z", utcMs(2023, 12, 31, 23, 59, 59, 0, 0)},
		{"2024-04-30T00:00:00Z", utcMs(2024, 4, 30, 0, 0, 0, 0, 0)},
		{"0001-01-01T00:00:00Z", MinMillis},
		{"0001-01-01T00:00:00-00:01", MinMillis + msPerMinute},
		{"9999-12-31T23:59:59.999999999Z", MaxMillis},
		{"9999-12-31T23:59:59.999+00:01", MaxMillis - msPerMinute},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		in, reason string
	}{
		{"", "too short"},
		{"2024", "too short"},
		{"2024-01-01", "time of day missing"},
		{"2024-01-01T", "not HH:MM:SS"},
		{"2024-01-01T12:00", "not HH:MM:SS"},
		{"2024-01-01T12:00:0", "not HH:MM:SS"},
		{"2024-01-01T12-00-00Z", "not HH:MM:SS"},
		{"2024-01-01T1a:00:00Z", "not HH:MM:SS"},
		{"2024/01/01T12:00:00Z", "not YYYY-MM-DD"},
		{"24-01-01T12:00:00Z", "not YYYY-MM-DD"},
		{"20240-01-01T12:00:00Z", "not YYYY-MM-DD"},
		{"+2024-01-01T12:00:00Z", "not YYYY-MM-DD"},
		{" 2024-01-01T12:00:00Z", "not YYYY-MM-DD"},
		{"2024-1-01T12:00:00Z", "not YYYY-MM-DD"},
		{"２024-01-01T12:00:00Z", "not YYYY-MM-DD"},
		{"2024-01-01X12:00:00Z", "between date and time"},
		{"2024-01-01_12:00:00Z", "between date and time"},
		{"2024-01-01TT12:00:00Z", "not HH:MM:SS"},
		{"0000-01-01T00:00:00Z", "year 0000"},
		{"2024-00-10T00:00:00Z", "month 00"},
		{"2024-13-01T00:00:00Z", "month 13"},
		{"2024-01-00T00:00:00Z", "day 00"},
		{"2024-01-32T00:00:00Z", "day 32"},
		{"2023-02-29T00:00:00Z", "day 29 out of range for 2023-02"},
		{"1900-02-29T00:00:00Z", "day 29"},
		{"2024-02-30T00:00:00Z", "day 30"},
		{"2024-04-31T00:00:00Z", "day 31"},
		{"2024-01-01T24:00:00Z", "hour 24"},
		{"2024-01-01T23:60:00Z", "minute 60"},
		{"2024-01-01T23:59:60Z", "second 60"},
		{"2024-01-01T12:00:00.Z", "not followed by fraction digits"},
		{"2024-01-01T12:00:00.", "not followed by fraction digits"},
		{"2024-01-01T12:00:00.1234567890Z", "more than 9 fraction digits"},
		{"2024-01-01T12:00:00.1234567890", "more than 9 fraction digits"},
		{"2024-01-01T12:00:00,5Z", "unexpected text after the time"},
		{"2024-01-01T12:00:00ZZ", "after the zone"},
		{"2024-01-01T12:00:00Z ", "after the zone"},
		{"2024-01-01T12:00:00Zgarbage", "after the zone"},
		{"2024-01-01T12:00:00 ", "unexpected text after the time"},
		{"2024-01-01T12:00:00UTC", "unexpected text after the time"},
		{"2024-01-01T12:00:00.5x", "unexpected text after the time"},
		{"2024-01-01T12:00:00+05:30x", "offset is not"},
		{"2024-01-01T12:00:00+05:30:00", "offset is not"},
		{"2024-01-01T12:00:00+05", "offset is not"},
		{"2024-01-01T12:00:00+5:30", "offset is not"},
		{"2024-01-01T12:00:00+05-30", "offset is not"},
		{"2024-01-01T12:00:00+053", "offset is not"},
		{"2024-01-01T12:00:00+", "offset is not"},
		{"2024-01-01T12:00:00+0a:00", "offset is not"},
		{"2024-01-01T12:00:00+24:00", "offset 24:00 out of range"},
		{"2024-01-01T12:00:00+05:60", "offset 05:60 out of range"},
		{"2024-01-01T12:00:00-9900", "offset 99:00 out of range"},
		{"0001-01-01T00:00:00+00:01", "outside years 0001..9999"},
		{"9999-12-31T23:59:59-00:01", "outside years 0001..9999"},
	}
	for _, tt := range tests {
		got, err := Parse([]byte(tt.in))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %d, %v; want an ErrSyntax", tt.in, got, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Parse(%q) error %q does not say %q", tt.in, err, tt.reason)
		}
	}
}

// TestParseMatchesTimeParse checks Parse against time.Parse(time.RFC3339Nano)
// on random instants over the whole range, written with random offsets and
// 0..9 fraction digits: a form both accept.
func TestParseMatchesTimeParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		ms := MinMillis + 24*msPerHour + rng.Int64N(MaxMillis-MinMillis-48*msPerHour)
		ns := rng.Int64N(1e6)
		off := (rng.IntN(2*24*60-1) - (24*60 - 1)) * 60
		digits := rng.IntN(10)
		in := time.UnixMilli(ms).Add(time.Duration(ns)).In(time.FixedZone("", off))
		layout := "2006-01-02T15:04:05Z07:00"
		if digits > 0 {
			layout = "2006-01-02T15:04:05." + strings.Repeat("0", digits) + "Z07:00"
		}
		s := in.Format(layout)
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", s, err)
		}
		got, err := Parse([]byte(s))
		if err != nil || got != want.UnixMilli() {
			t.Fatalf("Parse(%q) = %d, %v; time.Parse says %d", s, got, err, want.UnixMilli())
		}
	}
}

// TestParseAgreesWithTimeParse runs both parsers over variants of a few
// inputs; wherever both accept, they must agree.
func TestParseAgreesWithTimeParse(t *testing.T) {
	dates := []string{"2024-02-29", "2023-02-29", "1970-01-01", "0001-01-01", "9999-12-31", "2024-13-01", "0000-06-15"}
	clocks := []string{"00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60"}
	fracs := []string{"", ".", ".5", ".123", ".123456789", ".1234567890"}
	zones := []string{"", "Z", "z", "+05:30", "-08:00", "+0545", "+24:00", "-00:00", "+05:60", "x"}
	both := 0
	for _, d := range dates {
		for _, c := range clocks {
			for _, f := range fracs {
				for _, z := range zones {
					s := d + "T" + c + f + z
					want, werr := time.Parse(time.RFC3339Nano, s)
					got, gerr := Parse([]byte(s))
					if werr != nil || gerr != nil {
						continue
					}
					both++
					if got != want.UnixMilli() {
						t.Errorf("Parse(%q) = %d; time.Parse says %d", s, got, want.UnixMilli())
					}
				}
			}
		}
	}
	if both < 50 {
		t.Errorf("only %d inputs accepted by both parsers", both)
	}
}

func TestNoAllocs(t *testing.T) {
	in := []byte("2024-01-01T12:34:56.789+05:30")
	date := []byte("2024-03-31")
	var zones Zones
	berlin, err := zones.Load("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	cases := map[string]func(){
		"Parse":          func() { _, _ = Parse(in) },
		"ParseBound":     func() { _, _ = ParseBound(date, berlin, true) },
		"AppendMillis":   func() { _ = AppendMillis(buf[:0], 1704112496789) },
		"AppendDuration": func() { _ = AppendDuration(buf[:0], 404_109_000) },
		"AppendDate":     func() { _ = AppendDate(buf[:0], 1704112496789, berlin) },
		"Zones.Load":     func() { _, _ = zones.Load("Europe/Berlin") },
	}
	for name, f := range cases {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, in := range []string{
		"2024-01-01T12:34:56Z",
		"2024-01-01T12:34:56.789123456+05:30",
		"2024-01-01 12:34:56.789",
	} {
		b.Run(in, func(b *testing.B) {
			s := []byte(in)
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseBound(b *testing.B) {
	var zones Zones
	for _, tt := range []struct{ in, zone string }{
		{"2024-03-31", "Europe/Berlin"},
		{"2024-03-31", "UTC"},
		{"2024-03-31T12:00:00Z", "Europe/Berlin"},
	} {
		loc, err := zones.Load(tt.zone)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%s/%s", tt.in, tt.zone), func(b *testing.B) {
			s := []byte(tt.in)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseBound(s, loc, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
