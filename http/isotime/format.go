package isotime

import (
	"strconv"
	"time"
)

// AppendMillis appends the instant ms (Unix milliseconds) to dst as RFC 3339
// in UTC with exactly three fraction digits: 2024-01-01T12:00:00.000Z.
// Instants before 1970 are written as usual (1969-12-31T23:59:59.999Z for -1).
// RFC 3339 has only four-digit years, so an instant outside
// [MinMillis, MaxMillis] is clamped to the nearer end and written as
// 0001-01-01T00:00:00.000Z or 9999-12-31T23:59:59.999Z; Parse never returns
// such an instant.
func AppendMillis(dst []byte, ms int64) []byte {
	ms = min(max(ms, MinMillis), MaxMillis)
	days, rem := floorDiv(ms, msPerDay)
	y, m, d := civilFromDays(days)
	dst = appendYMD(dst, y, m, d)
	dst = append(dst, 'T')
	dst = append2(dst, int(rem/msPerHour))
	dst = append(dst, ':')
	dst = append2(dst, int(rem/msPerMinute%60))
	dst = append(dst, ':')
	dst = append2(dst, int(rem/msPerSecond%60))
	dst = append(dst, '.')
	dst = append3(dst, int(rem%msPerSecond))
	return append(dst, 'Z')
}

// FormatMillis returns AppendMillis(nil, ms) as a string.
func FormatMillis(ms int64) string {
	var buf [len("2006-01-02T15:04:05.000Z")]byte
	return string(AppendMillis(buf[:0], ms))
}

// AppendDuration appends the duration ms (milliseconds) to dst as H:MM:SS
// with at least two hour digits: "00:00:00", "01:05:09", "112:15:00". Part
// seconds are truncated; a negative duration is written as "00:00:00".
func AppendDuration(dst []byte, ms int64) []byte {
	ms = max(ms, 0)
	h := ms / msPerHour
	if h < 100 {
		dst = append2(dst, int(h))
	} else {
		dst = strconv.AppendInt(dst, h, 10)
	}
	dst = append(dst, ':')
	dst = append2(dst, int(ms/msPerMinute%60))
	dst = append(dst, ':')
	return append2(dst, int(ms/msPerSecond%60))
}

// FormatDuration returns AppendDuration(nil, ms) as a string.
func FormatDuration(ms int64) string {
	var buf [24]byte
	return string(AppendDuration(buf[:0], ms))
}

// AppendDate appends to dst the calendar date, YYYY-MM-DD, that the instant
// ms (Unix milliseconds) has in loc; a nil loc means UTC. A date before year
// 0001 or after 9999 is clamped to 0001-01-01 or 9999-12-31.
func AppendDate(dst []byte, ms int64, loc *time.Location) []byte {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := time.UnixMilli(ms).In(loc).Date()
	switch {
	case y < 1:
		y, m, d = 1, time.January, 1
	case y > 9999:
		y, m, d = 9999, time.December, 31
	}
	return appendYMD(dst, y, int(m), d)
}

// FormatDate returns AppendDate(nil, ms, loc) as a string.
func FormatDate(ms int64, loc *time.Location) string {
	var buf [len("2006-01-02")]byte
	return string(AppendDate(buf[:0], ms, loc))
}

// appendYMD appends YYYY-MM-DD; y must be in 0..9999.
func appendYMD(dst []byte, y, m, d int) []byte {
	dst = append2(dst, y/100)
	dst = append2(dst, y%100)
	dst = append(dst, '-')
	dst = append2(dst, m)
	dst = append(dst, '-')
	return append2(dst, d)
}

// append2 appends v (0..99) as two digits.
func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// append3 appends v (0..999) as three digits.
func append3(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
}
