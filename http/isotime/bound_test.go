package isotime

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the same zones on every machine
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func mustParse(t testing.TB, s string) int64 {
	t.Helper()
	ms, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return ms
}

func TestParseBoundDays(t *testing.T) {
	tests := []struct {
		zone, date string
		from, to   string // UTC instants
		hours      float64
	}{
		{"UTC", "2024-01-01", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 24},
		{"UTC", "2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z", 24},
		{"UTC", "9999-12-31", "9999-12-31T00:00:00Z", "", 24},
		{"Europe/Berlin", "2024-01-15", "2024-01-14T23:00:00Z", "2024-01-15T23:00:00Z", 24},
		{"Europe/Berlin", "2024-03-31", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z", 23},
		{"Europe/Berlin", "2024-10-27", "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z", 25},
		{"America/New_York", "2024-03-10", "2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z", 23},
		{"America/New_York", "2024-11-03", "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z", 25},
		{"Asia/Kathmandu", "2024-01-01", "2023-12-31T18:15:00Z", "2024-01-01T18:15:00Z", 24},
		{"Asia/Kolkata", "2024-06-01", "2024-05-31T18:30:00Z", "2024-06-01T18:30:00Z", 24},
		// Lord Howe: +10:30 standard, +11:00 summer, changes at 02:00 local.
		{"Australia/Lord_Howe", "2024-04-07", "2024-04-06T13:00:00Z", "2024-04-07T13:30:00Z", 24.5},
		{"Australia/Lord_Howe", "2024-10-06", "2024-10-05T13:30:00Z", "2024-10-06T13:00:00Z", 23.5},
		// Chatham: +12:45 standard, +13:45 summer.
		{"Pacific/Chatham", "2024-04-07", "2024-04-06T10:15:00Z", "2024-04-07T11:15:00Z", 25},
		{"Pacific/Chatham", "2024-09-29", "2024-09-28T11:15:00Z", "2024-09-29T10:15:00Z", 23},
		// Sao Paulo 2018-11-04: midnight skipped (00:00 -03 became 01:00 -02),
		// the day starts at the transition.
		{"America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z", 23},
		// Sao Paulo 2019-02-17: 24:00 -02 on the 16th went back to 23:00 -03,
		// so the 16th had 25 hours.
		{"America/Sao_Paulo", "2019-02-16", "2019-02-16T02:00:00Z", "2019-02-17T03:00:00Z", 25},
		{"America/Sao_Paulo", "2019-02-17", "2019-02-17T03:00:00Z", "2019-02-18T03:00:00Z", 24},
		// Samoa skipped 2011-12-30 when it moved across the date line.
		{"Pacific/Apia", "2011-12-29", "2011-12-29T10:00:00Z", "2011-12-30T10:00:00Z", 24},
		{"Pacific/Apia", "2011-12-30", "2011-12-30T10:00:00Z", "2011-12-30T10:00:00Z", 0},
		{"Pacific/Apia", "2011-12-31", "2011-12-30T10:00:00Z", "2011-12-31T10:00:00Z", 24},
	}
	for _, tt := range tests {
		loc := mustLoad(t, tt.zone)
		from, err1 := ParseBound([]byte(tt.date), loc, false)
		to, err2 := ParseBound([]byte(tt.date), loc, true)
		if err1 != nil || err2 != nil {
			t.Errorf("%s %s: errors %v, %v", tt.zone, tt.date, err1, err2)
			continue
		}
		if want := mustParse(t, tt.from); from != want {
			t.Errorf("%s %s: from %s, want %s", tt.zone, tt.date, FormatMillis(from), tt.from)
		}
		if tt.to != "" && to != mustParse(t, tt.to) {
			t.Errorf("%s %s: to %s, want %s", tt.zone, tt.date, FormatMillis(to), tt.to)
		}
		if got := float64(to-from) / msPerHour; got != tt.hours {
			t.Errorf("%s %s: %v hours long, want %v", tt.zone, tt.date, got, tt.hours)
		}
	}
}

// TestParseBoundTiles checks every day from 1900 to 2040 in zones with odd
// rules: a day's start is the first instant whose local date is that day or
// later, and consecutive days tile the time line.
func TestParseBoundTiles(t *testing.T) {
	zones := []string{
		"UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
		"Pacific/Chatham", "America/Sao_Paulo", "Pacific/Apia", "Africa/Casablanca",
		"Antarctica/Troll", "America/Havana", "Asia/Tehran", "Pacific/Kiritimati", "America/St_Johns",
	}
	if testing.Short() {
		zones = zones[:4]
	}
	for _, name := range zones {
		checkTiles(t, mustLoad(t, name), 1900, 2040, 26)
	}
}

// TestParseBoundHistoric covers the wildest transitions in the tz database:
// Manila skipped 1844-12-31 (from -15:56 to +08:03), and Alaska lived
// 1867-10-18 twice when it moved from +14:58 to -09:01; the repeated day is
// counted in the later one, which is thus 48 hours long.
func TestParseBoundHistoric(t *testing.T) {
	for _, name := range []string{"Asia/Manila", "America/Sitka", "America/Juneau", "America/Metlakatla"} {
		checkTiles(t, mustLoad(t, name), 1800, 1900, 49)
	}
	tests := []struct {
		zone, date string
		hours      float64
	}{
		{"Asia/Manila", "1844-12-30", 24},
		{"Asia/Manila", "1844-12-31", 0},
		{"Asia/Manila", "1845-01-01", 24},
		{"America/Sitka", "1867-10-18", 24},
		{"America/Sitka", "1867-10-19", 48},
		{"America/Sitka", "1867-10-20", 24},
	}
	for _, tt := range tests {
		loc := mustLoad(t, tt.zone)
		from, _ := ParseBound([]byte(tt.date), loc, false)
		to, _ := ParseBound([]byte(tt.date), loc, true)
		if got := float64(to-from) / msPerHour; got != tt.hours {
			t.Errorf("%s %s: %v hours long, want %v", tt.zone, tt.date, got, tt.hours)
		}
	}
}

// checkTiles checks ParseBound on every day of the years [y0, y1) in loc.
func checkTiles(t *testing.T, loc *time.Location, y0, y1 int, maxHours int64) {
	t.Helper()
	first := time.Date(y0, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(y1, 1, 1, 0, 0, 0, 0, time.UTC)
	prevEnd := int64(0)
	for d := first; d.Before(last); d = d.AddDate(0, 0, 1) {
		s := []byte(d.Format(time.DateOnly))
		from, err1 := ParseBound(s, loc, false)
		to, err2 := ParseBound(s, loc, true)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s %s: %v, %v", loc, s, err1, err2)
		}
		if d != first && from != prevEnd {
			t.Fatalf("%s %s: from %d is not the previous day's end %d", loc, s, from, prevEnd)
		}
		prevEnd = to
		if to < from || to-from > maxHours*msPerHour {
			t.Fatalf("%s %s: [%s, %s) is not a day", loc, s, FormatMillis(from), FormatMillis(to))
		}
		checkDayStart(t, loc.String(), loc, d, from)
	}
}

func checkDayStart(t *testing.T, zone string, loc *time.Location, day time.Time, from int64) {
	t.Helper()
	localDate := func(ms int64) time.Time {
		y, m, d := time.UnixMilli(ms).In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if localDate(from).Before(day) || !localDate(from-1).Before(day) {
		t.Fatalf("%s %s: %s is not the day's first instant", zone, day.Format(time.DateOnly), FormatMillis(from))
	}
}

func TestParseBoundInstants(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	tests := []struct {
		in   string
		want int64 // for isEnd false; isEnd true is one more
	}{
		{"2024-03-31T12:00:00Z", mustParse(t, "2024-03-31T12:00:00Z")},
		{"2024-03-31T12:00:00", mustParse(t, "2024-03-31T12:00:00Z")}, // no zone: UTC, not loc
		{"2024-03-31T12:00:00.999999+02:00", mustParse(t, "2024-03-31T10:00:00.999Z")},
		{"9999-12-31T23:59:59.999Z", MaxMillis},
	}
	for _, tt := range tests {
		for _, loc := range []*time.Location{nil, time.UTC, berlin} {
			from, err1 := ParseBound([]byte(tt.in), loc, false)
			to, err2 := ParseBound([]byte(tt.in), loc, true)
			if err1 != nil || err2 != nil || from != tt.want || to != tt.want+1 {
				t.Errorf("ParseBound(%q, %v) = %d, %d (%v, %v); want %d, %d",
					tt.in, loc, from, to, err1, err2, tt.want, tt.want+1)
			}
		}
	}
}

func TestParseBoundRefuses(t *testing.T) {
	for _, in := range []string{
		"", "2024-1-1", "2024-02-30", "2023-02-29", "2024-13-01", "0000-01-01", "2024-01-01T",
		"2024-01-01x", "24-01-01", "2024-01-01T25:00:00Z", "20240101", "2024-01-01Z",
	} {
		if ms, err := ParseBound([]byte(in), time.UTC, false); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseBound(%q) = %d, %v; want an ErrSyntax", in, ms, err)
		}
	}
}

func TestDayStartFarDates(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		loc := mustLoad(t, name)
		for _, d := range []time.Time{
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC),
			time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		} {
			days := d.Unix() / secPerDay
			checkDayStart(t, name, loc, d, dayStart(days, loc))
		}
	}
}
