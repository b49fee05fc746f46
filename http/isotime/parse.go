package isotime

import (
	"errors"
	"fmt"
)

var (
	// ErrSyntax is wrapped by every error about malformed or out-of-range
	// date-time text.
	ErrSyntax = errors.New("isotime: invalid date-time")
	// ErrZone is wrapped by every error about an unknown or refused time
	// zone name.
	ErrZone = errors.New("isotime: unknown time zone")
)

const (
	dateLen  = len("2006-01-02")
	clockLen = len("15:04:05")
)

// Parse reads an ISO 8601 / RFC 3339 date-time and returns it as Unix
// milliseconds, the fraction truncated to the millisecond:
//
//	YYYY-MM-DD ('T' | 't' | ' ') HH:MM:SS [ '.' 1..9 digits ] [ 'Z' | 'z' | ±HH:MM | ±HHMM ]
//
// No zone means UTC. Every field is range checked (see the package
// documentation); the error wraps ErrSyntax and names the offending part.
// Parse does not allocate on success.
func Parse(s []byte) (int64, error) {
	days, err := parseDate(s)
	if err != nil {
		return 0, err
	}
	rest := s[dateLen:]
	if len(rest) == 0 {
		return 0, syntaxErr("time of day missing after the date")
	}
	if c := rest[0]; c != 'T' && c != 't' && c != ' ' {
		return 0, fmt.Errorf("%w: %q between date and time, want 'T'", ErrSyntax, c)
	}
	clock, rest, err := parseClock(rest[1:])
	if err != nil {
		return 0, err
	}
	off, err := parseZone(rest)
	if err != nil {
		return 0, err
	}
	ms := days*msPerDay + clock - off*msPerMinute
	if ms < MinMillis || ms > MaxMillis {
		return 0, syntaxErr("instant outside years 0001..9999 UTC")
	}
	return ms, nil
}

// parseDate reads the YYYY-MM-DD at the start of s and returns its days since
// 1970-01-01. Text after the date is left to the caller.
func parseDate(s []byte) (int64, error) {
	if len(s) < dateLen {
		return 0, syntaxErr("too short for a YYYY-MM-DD date")
	}
	y, okY := num(s, 0, 4)
	m, okM := num(s, 5, 2)
	d, okD := num(s, 8, 2)
	if !okY || !okM || !okD || s[4] != '-' || s[7] != '-' {
		return 0, syntaxErr("date is not YYYY-MM-DD")
	}
	switch {
	case y < 1:
		return 0, syntaxErr("year 0000 out of range 0001..9999")
	case m < 1 || m > 12:
		return 0, fmt.Errorf("%w: month %02d out of range 01..12", ErrSyntax, m)
	case d < 1 || d > daysIn(y, m):
		return 0, fmt.Errorf("%w: day %02d out of range for %04d-%02d", ErrSyntax, d, y, m)
	}
	return daysFromCivil(y, m, d), nil
}

// parseClock reads HH:MM:SS[.fraction] at the start of s and returns the
// milliseconds into the day and the text after it.
func parseClock(s []byte) (int64, []byte, error) {
	if len(s) < clockLen {
		return 0, nil, syntaxErr("time of day is not HH:MM:SS")
	}
	h, okH := num(s, 0, 2)
	m, okM := num(s, 3, 2)
	sec, okS := num(s, 6, 2)
	if !okH || !okM || !okS || s[2] != ':' || s[5] != ':' {
		return 0, nil, syntaxErr("time of day is not HH:MM:SS")
	}
	switch {
	case h > 23:
		return 0, nil, fmt.Errorf("%w: hour %02d out of range 00..23", ErrSyntax, h)
	case m > 59:
		return 0, nil, fmt.Errorf("%w: minute %02d out of range 00..59", ErrSyntax, m)
	case sec > 59:
		return 0, nil, fmt.Errorf("%w: second %02d out of range 00..59", ErrSyntax, sec)
	}
	frac, rest, err := parseFraction(s[clockLen:])
	ms := int64(h)*msPerHour + int64(m)*msPerMinute + int64(sec)*msPerSecond + frac
	return ms, rest, err
}

// parseFraction reads an optional '.' and 1..9 digits at the start of s and
// returns them as whole milliseconds (truncated) and the text after them.
func parseFraction(s []byte) (int64, []byte, error) {
	if len(s) == 0 || s[0] != '.' {
		return 0, s, nil
	}
	n := 1
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	switch digits := n - 1; {
	case digits == 0:
		return 0, nil, syntaxErr("'.' not followed by fraction digits")
	case digits > 9:
		return 0, nil, syntaxErr("more than 9 fraction digits")
	}
	var ms int64
	for i := 1; i <= 3; i++ {
		ms *= 10
		if i < n {
			ms += int64(s[i] - '0')
		}
	}
	return ms, s[n:], nil
}

// parseZone reads the whole of s as a zone designator and returns its offset
// east of UTC in minutes. Empty s is UTC.
func parseZone(s []byte) (int64, error) {
	if len(s) == 0 || (len(s) == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		return 0, nil
	}
	if s[0] == 'Z' || s[0] == 'z' {
		return 0, syntaxErr("unexpected text after the zone 'Z'")
	}
	if s[0] != '+' && s[0] != '-' {
		return 0, syntaxErr("unexpected text after the time, want 'Z' or an offset ±HH:MM")
	}
	var h, m int
	okH, okM := false, false
	switch len(s) {
	case len("+05:30"):
		h, okH = num(s, 1, 2)
		m, okM = num(s, 4, 2)
		okM = okM && s[3] == ':'
	case len("+0530"):
		h, okH = num(s, 1, 2)
		m, okM = num(s, 3, 2)
	}
	if !okH || !okM {
		return 0, syntaxErr("offset is not ±HH:MM or ±HHMM")
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%w: offset %02d:%02d out of range, want hours 00..23 and minutes 00..59", ErrSyntax, h, m)
	}
	off := int64(h*60 + m)
	if s[0] == '-' {
		off = -off
	}
	return off, nil
}

// num reads s[i:i+n] as a decimal number; ok is false unless every byte is
// an ASCII digit.
func num(s []byte, i, n int) (v int, ok bool) {
	for _, c := range s[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func syntaxErr(reason string) error {
	return fmt.Errorf("%w: %s", ErrSyntax, reason)
}
