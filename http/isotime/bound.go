package isotime

import "time"

// ParseBound reads one end of a from/to range: either a bare date YYYY-MM-DD,
// meaning a whole calendar day in loc, or a date-time as Parse reads it (no
// zone means UTC, not loc). The result is meant for a half-open range
// [from, to):
//
//   - a date with isEnd false: the first millisecond of that day in loc;
//   - a date with isEnd true: the first millisecond of the next day in loc;
//   - an instant with isEnd false: the instant itself;
//   - an instant with isEnd true: the instant plus 1 ms, so it is included.
//
// "First millisecond of day D" is the earliest instant whose wall-clock date
// in loc is D or later. Days are therefore as long as the zone makes them (23
// or 25 hours around DST changes, 23.5 or 24.5 in Australia/Lord_Howe), a day
// whose midnight is skipped starts at the transition, and a day the zone skips
// altogether (Pacific/Apia, 2011-12-30) is empty. Where a zone's clock went
// back across midnight (Alaska, 1867), the repeated stretch is counted in the
// later day. Consecutive days thus always tile the time line without gap or
// overlap.
//
// A nil loc means UTC. Errors wrap ErrSyntax. ParseBound does not allocate on
// success.
func ParseBound(s []byte, loc *time.Location, isEnd bool) (int64, error) {
	if len(s) != dateLen {
		ms, err := Parse(s)
		if err == nil && isEnd {
			ms++
		}
		return ms, err
	}
	days, err := parseDate(s)
	if err != nil {
		return 0, err
	}
	if isEnd {
		days++
	}
	return dayStart(days, loc), nil
}

const (
	// lookBehind is where dayStart begins its walk over the zone's periods:
	// earlier than any real UTC offset (all lie within ±26 hours) could put
	// the start of a local day.
	lookBehind = 2 * secPerDay
	// maxPeriods bounds that walk; four days never hold this many
	// transitions in the tz database.
	maxPeriods = 16
)

// dayStart returns, in Unix milliseconds, the earliest instant whose local
// date in loc is the day days (since 1970-01-01) or later.
//
// It walks the zone's periods of constant offset forward from well before
// the day. In a period with offset off, local time reaches the day's midnight
// at wall-off; the first period where that moment (or the period's start, if
// later) lies inside the period holds the answer.
func dayStart(days int64, loc *time.Location) int64 {
	if loc == nil {
		loc = time.UTC
	}
	wall := days * secPerDay // the day's midnight read as if it were UTC
	t := time.Unix(wall-lookBehind, 0).In(loc)
	for range maxPeriods {
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		at := wall - int64(off)
		if !start.IsZero() && at < start.Unix() {
			at = start.Unix()
		}
		if end.IsZero() || at < end.Unix() {
			return at * msPerSecond
		}
		t = end.In(loc)
	}
	y, m, d := civilFromDays(days)
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc).UnixMilli()
}
