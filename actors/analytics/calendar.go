package analytics

import "time"

// Bucket arithmetic. Every zone offset in use is a multiple of 15 minutes,
// so a 15-minute slot of UTC time lies within one local hour and one local
// day in every IANA zone: counters kept per slot answer any zone.
const (
	BucketMs     = 15 * 60 * 1000
	bucketsDay   = 96
	dayMs        = 24 * 60 * 60 * 1000
	hourMs       = 60 * 60 * 1000
	unixEpochDow = 3 // 1970-01-01 was a Thursday; Monday is 0
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Slot is a local calendar position of an instant.
type Slot struct {
	Day     int64 // local days since 1970-01-01
	Weekday int   // 0 Monday … 6 Sunday
	Hour    int   // 0..23
}

// zoneClock turns UTC instants into local slots, remembering the offset of
// the last day it looked up (zone transitions are rare, lookups are not).
type zoneClock struct {
	loc              *time.Location
	from, to, offset int64 // [from, to) in Unix ms has this offset (ms)
	// odd is set once an offset or a transition off the 15-minute grid
	// was seen (local mean time before a zone's standard time, e.g.
	// Africa/Monrovia until 1972): buckets cannot answer such a zone.
	odd bool
}

func newZoneClock(loc *time.Location) *zoneClock {
	if loc == nil {
		loc = time.UTC
	}
	return &zoneClock{loc: loc, from: 1, to: 0}
}

func (z *zoneClock) offsetAt(ms int64) int64 {
	if ms >= z.from && ms < z.to {
		return z.offset
	}
	t := time.UnixMilli(ms).In(z.loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	z.offset = int64(off) * 1000
	z.from, z.to = -1<<62, 1<<62
	if !start.IsZero() {
		z.from = start.UnixMilli()
	}
	if !end.IsZero() {
		z.to = end.UnixMilli()
	}
	if z.offset%BucketMs != 0 || (!start.IsZero() && z.from%BucketMs != 0) || (!end.IsZero() && z.to%BucketMs != 0) {
		z.odd = true
	}
	return z.offset
}

// steady returns the offset at ms and whether it holds, on the bucket
// grid, for the n buckets from ms on: then their slots follow by stepping
// through local time.
func (z *zoneClock) steady(ms int64, n int) (off int64, ok bool) {
	off = z.offsetAt(ms)
	return off, !z.odd && z.to >= ms+int64(n)*BucketMs
}

func (z *zoneClock) slot(ms int64) Slot {
	local := ms + z.offsetAt(ms)
	day := floorDiv(local, dayMs)
	return Slot{
		Day:     day,
		Weekday: int(((day+unixEpochDow)%7 + 7) % 7),
		Hour:    int((local - day*dayMs) / hourMs),
	}
}

// nextDayStart is the first instant after ms that belongs to a later
// local day than ms.
func (z *zoneClock) nextDayStart(ms int64) int64 {
	day := z.localDay(ms)
	next := z.dayStart(day + 1)
	if next <= ms { // the clock went back over midnight: day comes round again
		next = ms + (day+1)*dayMs - (ms + z.offsetAt(ms))
	}
	return next
}

// localDay is the local day number of ms.
func (z *zoneClock) localDay(ms int64) int64 {
	return floorDiv(ms+z.offsetAt(ms), dayMs)
}

// dayStart is the first UTC ms of local day d (the instant local midnight
// occurs, or the first instant after it when midnight is skipped).
func (z *zoneClock) dayStart(d int64) int64 {
	y, m, dd := civil(d)
	return time.Date(y, time.Month(m), dd, 0, 0, 0, 0, z.loc).UnixMilli()
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// AppendDate appends local day number d as YYYY-MM-DD.
func AppendDate(dst []byte, d int64) []byte {
	y, m, dd := civil(d)
	dst = append(dst, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	dst = append(dst, byte('0'+m/10), byte('0'+m%10), '-')
	return append(dst, byte('0'+dd/10), byte('0'+dd%10))
}

// DateString formats local day number d as YYYY-MM-DD.
func DateString(d int64) string { return string(AppendDate(make([]byte, 0, 10), d)) }

// WeekdayName returns the English name of weekday w (0 Monday … 6 Sunday).
func WeekdayName(w int) string {
	return [7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}[w]
}
