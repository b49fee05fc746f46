package isotime

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendMillis(t *testing.T) {
	tests := []struct {
		ms   int64
		want string
	}{
		{0, "1970-01-01T00:00:00.000Z"},
		{1, "1970-01-01T00:00:00.001Z"},
		{-1, "1969-12-31T23:59:59.999Z"},
		{-86_400_000, "1969-12-31T00:00:00.000Z"},
		{1704110400000, "2024-01-01T12:00:00.000Z"},
		{1709209845123, "2024-02-29T12:30:45.123Z"},
		{951782400000, "2000-02-29T00:00:00.000Z"},
		{MinMillis, "0001-01-01T00:00:00.000Z"},
		{MaxMillis, "9999-12-31T23:59:59.999Z"},
		// Outside RFC 3339's years: clamped.
		{MinMillis - 1, "0001-01-01T00:00:00.000Z"},
		{math.MinInt64, "0001-01-01T00:00:00.000Z"},
		{MaxMillis + 1, "9999-12-31T23:59:59.999Z"},
		{math.MaxInt64, "9999-12-31T23:59:59.999Z"},
	}
	for _, tt := range tests {
		if got := string(AppendMillis([]byte("x="), tt.ms)); got != "x="+tt.want {
			t.Errorf("AppendMillis(%d) = %q, want %q", tt.ms, got, "x="+tt.want)
		}
		if got := FormatMillis(tt.ms); got != tt.want {
			t.Errorf("FormatMillis(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

// TestAppendMillisMatchesTime checks AppendMillis against time.Format over
// the whole range, and that Parse reads every output back.
func TestAppendMillisMatchesTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const layout = "2006-01-02T15:04:05.000Z07:00"
	for range 20000 {
		ms := MinMillis + rng.Int64N(MaxMillis-MinMillis+1)
		got := FormatMillis(ms)
		if want := time.UnixMilli(ms).UTC().Format(layout); got != want {
			t.Fatalf("FormatMillis(%d) = %q, want %q", ms, got, want)
		}
		if back, err := Parse([]byte(got)); err != nil || back != ms {
			t.Fatalf("Parse(%q) = %d, %v; want %d", got, back, err, ms)
		}
	}
}

func TestAppendDuration(t *testing.T) {
	const s, m, h = msPerSecond, msPerMinute, msPerHour
	tests := []struct {
		ms   int64
		want string
	}{
		{0, "00:00:00"},
		{999, "00:00:00"},
		{59_999, "00:00:59"},
		{60 * s, "00:01:00"},
		{3599 * s, "00:59:59"},
		{3599*s + 999, "00:59:59"},
		{h, "01:00:00"},
		{h + 5*m + 9*s, "01:05:09"},
		{99*h + 59*m + 59*s, "99:59:59"},
		{99*h + 59*m + 59*s + 999, "99:59:59"},
		{100 * h, "100:00:00"},
		{112*h + 15*m, "112:15:00"},
		{1000 * h, "1000:00:00"},
		{-1, "00:00:00"},
		{math.MinInt64, "00:00:00"},
		{math.MaxInt64, "2562047788015:12:55"},
	}
	for _, tt := range tests {
		if got := string(AppendDuration([]byte("d="), tt.ms)); got != "d="+tt.want {
			t.Errorf("AppendDuration(%d) = %q, want %q", tt.ms, got, "d="+tt.want)
		}
		if got := FormatDuration(tt.ms); got != tt.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tt.ms, got, tt.want)
		}
	}
}

func TestAppendDate(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	kathmandu := mustLoad(t, "Asia/Kathmandu")
	la := mustLoad(t, "America/Los_Angeles")
	tests := []struct {
		ms   int64
		loc  *time.Location
		want string
	}{
		{0, nil, "1970-01-01"},
		{-1, time.UTC, "1969-12-31"},
		{mustParse(t, "2024-03-30T22:59:59.999Z"), berlin, "2024-03-30"},
		{mustParse(t, "2024-03-30T23:00:00Z"), berlin, "2024-03-31"},
		{mustParse(t, "2024-12-31T18:14:59Z"), kathmandu, "2024-12-31"},
		{mustParse(t, "2024-12-31T18:15:00Z"), kathmandu, "2025-01-01"},
		{mustParse(t, "2024-01-01T07:59:59Z"), la, "2023-12-31"},
		{MinMillis, la, "0001-01-01"},        // would be year 0000: clamped
		{MaxMillis, kathmandu, "9999-12-31"}, // would be year 10000: clamped
		{math.MinInt64, time.UTC, "0001-01-01"},
		{math.MaxInt64, time.UTC, "9999-12-31"},
	}
	for _, tt := range tests {
		if got := string(AppendDate([]byte("on "), tt.ms, tt.loc)); got != "on "+tt.want {
			t.Errorf("AppendDate(%d, %v) = %q, want %q", tt.ms, tt.loc, got, "on "+tt.want)
		}
		if got := FormatDate(tt.ms, tt.loc); got != tt.want {
			t.Errorf("FormatDate(%d, %v) = %q, want %q", tt.ms, tt.loc, got, tt.want)
		}
	}
}

func TestCivilRoundTrip(t *testing.T) {
	for days := MinMillis / msPerDay; days <= MaxMillis/msPerDay; days += 17 {
		y, m, d := civilFromDays(days)
		if back := daysFromCivil(y, m, d); back != days {
			t.Fatalf("days %d -> %04d-%02d-%02d -> %d", days, y, m, d, back)
		}
		if d < 1 || d > daysIn(y, m) {
			t.Fatalf("days %d -> invalid %04d-%02d-%02d", days, y, m, d)
		}
	}
	if got := daysFromCivil(1, 1, 1) * msPerDay; got != MinMillis {
		t.Errorf("MinMillis = %d, want %d", MinMillis, got)
	}
	if got := daysFromCivil(10000, 1, 1)*msPerDay - 1; got != MaxMillis {
		t.Errorf("MaxMillis = %d, want %d", MaxMillis, got)
	}
}

func BenchmarkAppendMillis(b *testing.B) {
	buf := make([]byte, 0, 32)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMillis(buf[:0], 1704112496789)
	}
}

func BenchmarkAppendDuration(b *testing.B) {
	for _, tt := range []struct {
		name string
		ms   int64
	}{{"2digit", 4_509_000}, {"4digit", 4_044_909_000}} {
		b.Run(tt.name, func(b *testing.B) {
			buf := make([]byte, 0, 32)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendDuration(buf[:0], tt.ms)
			}
		})
	}
}

func BenchmarkAppendDate(b *testing.B) {
	berlin := mustLoad(b, "Europe/Berlin")
	buf := make([]byte, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendDate(buf[:0], 1704112496789, berlin)
	}
}
