package isotime

import (
	"errors"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, fails only with ErrSyntax, agrees
// with time.Parse wherever that accepts the input too, and that whatever it
// accepts is written by AppendMillis in a form it reads back to the same
// millisecond.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, s []byte) {
		ms, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q): error %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		if ms < MinMillis || ms > MaxMillis {
			t.Fatalf("Parse(%q) = %d, outside [MinMillis, MaxMillis]", s, ms)
		}
		out := AppendMillis(nil, ms)
		if back, err := Parse(out); err != nil || back != ms {
			t.Fatalf("Parse(%q) = %d; AppendMillis gives %q, read back as %d, %v", s, ms, out, back, err)
		}
		if want, err := time.Parse(time.RFC3339Nano, string(s)); err == nil && want.UnixMilli() != ms {
			t.Fatalf("Parse(%q) = %d; time.Parse says %d", s, ms, want.UnixMilli())
		}
	})
}

// fuzzZones are the zones FuzzParseBound picks from.
var fuzzZones = []string{
	"UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe",
	"Pacific/Chatham", "America/Sao_Paulo", "Pacific/Apia", "Asia/Manila", "America/Sitka",
}

// FuzzParseBound checks that ParseBound never panics, that both ends of a
// value fail or succeed together, that an instant's end is one millisecond
// after it, and that a day runs from its first instant to the next day's.
func FuzzParseBound(f *testing.F) {
	locs := make([]*time.Location, len(fuzzZones))
	for i, name := range fuzzZones {
		locs[i] = mustLoad(f, name)
	}
	f.Fuzz(func(t *testing.T, s []byte, zone uint8) {
		loc := locs[int(zone)%len(locs)]
		from, errF := ParseBound(s, loc, false)
		to, errT := ParseBound(s, loc, true)
		if (errF == nil) != (errT == nil) {
			t.Fatalf("ParseBound(%q, %v): start error %v, end error %v", s, loc, errF, errT)
		}
		if errF != nil {
			if !errors.Is(errF, ErrSyntax) {
				t.Fatalf("ParseBound(%q, %v): error %v does not wrap ErrSyntax", s, loc, errF)
			}
			return
		}
		if len(s) != dateLen {
			if ms, err := Parse(s); err != nil || from != ms || to != ms+1 {
				t.Fatalf("ParseBound(%q, %v) = [%d, %d); Parse says %d, %v", s, loc, from, to, ms, err)
			}
			return
		}
		if to < from || to-from > 49*msPerHour {
			t.Fatalf("ParseBound(%q, %v) = [%d, %d) is not a day", s, loc, from, to)
		}
		day, err := time.Parse(time.DateOnly, string(s))
		if err != nil {
			t.Fatalf("ParseBound accepted %q, time.Parse refuses it: %v", s, err)
		}
		checkDayStart(t, loc.String(), loc, day, from)
	})
}
