package isotime

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// maxZoneName is the longest zone name Load will look up; the longest in the
// tz database is about 30 bytes.
const maxZoneName = 64

// Zones loads IANA time zones by name and keeps the ones it found. The zero
// value is ready to use and safe for concurrent use; a server makes one and
// shares it. Only successful loads are kept, so the cache is bounded by the
// number of real zone names.
type Zones struct {
	m sync.Map // string -> *time.Location
}

// Load returns the zone called name. "" and "UTC" give time.UTC. "Local" is
// refused, because the server's own zone must not leak into results. A name
// longer than 64 bytes, containing "..", starting with '/' or holding a byte
// outside [A-Za-z0-9/_+-] is refused without touching the filesystem. Every
// refusal wraps ErrZone and quotes the name (or says why it would not).
// A cached name is returned without allocating; name is copied before it is
// kept, so it may point into a reused buffer.
func (z *Zones) Load(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if v, ok := z.m.Load(name); ok {
		return v.(*time.Location), nil
	}
	if err := checkZoneName(name); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrZone, name)
	}
	v, _ := z.m.LoadOrStore(strings.Clone(name), loc)
	return v.(*time.Location), nil
}

// checkZoneName refuses names that cannot be IANA zones, so that they never
// reach the filesystem.
func checkZoneName(name string) error {
	switch {
	case len(name) > maxZoneName:
		return fmt.Errorf("%w: name longer than %d bytes", ErrZone, maxZoneName)
	case name == "Local":
		return fmt.Errorf("%w: %q is not allowed, name an IANA zone", ErrZone, name)
	case name[0] == '/' || strings.Contains(name, ".."):
		return fmt.Errorf("%w: %q", ErrZone, name)
	}
	for i := 0; i < len(name); i++ {
		if !isZoneByte(name[i]) {
			return fmt.Errorf("%w: %q", ErrZone, name)
		}
	}
	return nil
}

func isZoneByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) ||
		c == '/' || c == '_' || c == '-' || c == '+'
}
