// Package isotime reads and writes the times and durations that cross the
// Session Server's API boundary.
//
// Every instant is carried as int64 Unix milliseconds (UTC). Requests bring
// ISO 8601 / RFC 3339 text; responses get RFC 3339 UTC with exactly three
// fraction digits and durations as H:MM:SS.
//
// Happy path:
//
//	ms, err := isotime.Parse(body.Time)            // "2024-01-01T12:00:00+05:30"
//	var zones isotime.Zones                         // one per server, shared
//	loc, err := zones.Load("Europe/Berlin")
//	from, err := isotime.ParseBound(body.From, loc, false) // "2024-03-31": first ms of the day
//	to, err := isotime.ParseBound(body.To, loc, true)      // first ms of the next day
//	out = isotime.AppendMillis(out, ms)             // 2024-01-01T06:30:00.000Z
//	out = isotime.AppendDuration(out, 4_509_000)    // 01:15:09
//
// # Accepted input
//
// Parse takes exactly
//
//	YYYY-MM-DD ('T' | 't' | ' ') HH:MM:SS [ '.' 1..9 digits ] [ 'Z' | 'z' | ±HH:MM | ±HHMM ]
//
// with the year 0001..9999, the day checked against the month (leap years
// included), hour 0..23, minute and second 0..59 (no leap second), offset hours
// 0..23 and offset minutes 0..59. A value with no zone is UTC. The fraction is
// truncated to the millisecond. The resulting instant must also lie within
// [MinMillis, MaxMillis] (years 0001..9999 in UTC), so that every accepted value
// can be written back by AppendMillis and read again to the same millisecond.
//
// ParseBound additionally takes a bare date YYYY-MM-DD, meaning a whole
// calendar day in a time zone. Ranges are half-open, [from, to): the start of
// a day is its first millisecond, the end is the first millisecond of the next
// day, and an instant used as an end is moved on by one millisecond so that it
// is included. Days are computed from the zone's own transitions, so 23- and
// 25-hour days, half-hour and 45-minute offsets, and transitions at midnight
// all come out right (see ParseBound for the rare backward jump over midnight).
//
// # Errors
//
// Malformed or out-of-range text gives an error that wraps ErrSyntax and names
// what is wrong; an unknown or refused zone name wraps ErrZone. Test with
// errors.Is.
//
// # Allocation
//
// Parse, ParseBound, the Append functions and a cached Zones.Load do not
// allocate on success.
package isotime
