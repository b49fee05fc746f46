package analytics

import (
	"testing"
	"time"
)

func TestCivilMatchesTimePackage(t *testing.T) {
	for _, d := range []int64{-719468, -1, 0, 1, 59, 365, 11016, 19722, 20000, 2932896} {
		want := time.Unix(d*86400, 0).UTC().Format("2006-01-02")
		if got := DateString(d); got != want {
			t.Errorf("day %d: %s, want %s", d, got, want)
		}
	}
	for d := int64(-800); d < 30000; d += 7 {
		want := time.Unix(d*86400, 0).UTC().Format("2006-01-02")
		if got := DateString(d); got != want {
			t.Fatalf("day %d: %s, want %s", d, got, want)
		}
	}
}

var testZones = []string{
	"UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Asia/Kolkata",
	"Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "Pacific/Kiritimati", "America/St_Johns",
}

func loadZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

// TestSlotMatchesTimePackage checks the bucket calendar against
// time.Time.In at every bucket of two years, in zones with DST changes
// and odd offsets.
func TestSlotMatchesTimePackage(t *testing.T) {
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	end := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, name := range testZones {
		loc := loadZone(t, name)
		zc := newZoneClock(loc)
		for ms := start; ms < end; ms += BucketMs {
			got := zc.slot(ms)
			lt := time.UnixMilli(ms).In(loc)
			wd := (int(lt.Weekday()) + 6) % 7
			if DateString(got.Day) != lt.Format("2006-01-02") || got.Weekday != wd || got.Hour != lt.Hour() {
				t.Fatalf("%s at %s: slot %+v (%s), want %s weekday %d hour %d",
					name, time.UnixMilli(ms).UTC(), got, DateString(got.Day), lt.Format("2006-01-02"), wd, lt.Hour())
			}
		}
	}
}

func TestDayStart(t *testing.T) {
	berlin := loadZone(t, "Europe/Berlin")
	zc := newZoneClock(berlin)
	day := zc.localDay(time.Date(2024, 3, 31, 12, 0, 0, 0, berlin).UnixMilli())
	if got, want := zc.dayStart(day), time.Date(2024, 3, 31, 0, 0, 0, 0, berlin).UnixMilli(); got != want {
		t.Fatalf("dayStart %d, want %d", got, want)
	}
	if got := zc.dayStart(day+1) - zc.dayStart(day); got != 23*hourMs {
		t.Fatalf("2024-03-31 in Berlin lasts %d ms, want 23h", got)
	}
}

func TestWeekdayName(t *testing.T) {
	if WeekdayName(0) != "Monday" || WeekdayName(6) != "Sunday" {
		t.Fatal("weekday names out of order")
	}
}
