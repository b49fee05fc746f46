package analytics

import (
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// Settings are an app's own settings; the zero value takes the server's
// for each.
type Settings struct {
	// Retention is how long the app keeps ended sessions and page tracks
	// (0 keeps everything) when RetentionSet; otherwise the server's.
	Retention    time.Duration
	RetentionSet bool
	// Public says whether the public summary and timeline answer for the
	// app (event.PublicInherit: the server's -public-endpoints).
	Public event.Visibility
}

// SettingsOf returns the settings a Settings record sets.
func SettingsOf(rec *event.Record) Settings {
	if rec.Extra == nil {
		return Settings{}
	}
	st := Settings{Public: rec.Public}
	if rec.RetentionMs != event.RetentionInherit {
		st.Retention, st.RetentionSet = time.Duration(rec.RetentionMs)*time.Millisecond, true
	}
	return st
}

// Record fills the fields of a Settings record for st.
func (st Settings) Record(rec *event.Record) {
	rec.Extra = &event.Extra{RetentionMs: event.RetentionInherit, Public: st.Public}
	if st.RetentionSet {
		rec.RetentionMs = st.Retention.Milliseconds()
	}
}

// RetentionOr is the app's retention, or def when it takes the server's.
func (st Settings) RetentionOr(def time.Duration) time.Duration {
	if st.RetentionSet {
		return st.Retention
	}
	return def
}

// PublicOr says whether the app's public endpoints answer, def being the
// server's -public-endpoints.
func (st Settings) PublicOr(def bool) bool {
	switch st.Public {
	case event.PublicOn:
		return true
	case event.PublicOff:
		return false
	}
	return def
}

// Settings returns the app's settings.
func (a *App) Settings() Settings { return a.settings }

func (st Settings) encode(e *encoder) {
	var r uint64
	if st.RetentionSet {
		r = 1 + uint64(st.Retention.Milliseconds())
	}
	e.uvarint(r)
	e.write([]byte{byte(st.Public)})
}

func (d *stateDecoder) settings() Settings {
	var st Settings
	if r := d.uvarint(); r > 0 {
		if r-1 > uint64(maxRetentionMs) {
			d.fail("retention out of range")
		}
		st.Retention, st.RetentionSet = time.Duration(r-1)*time.Millisecond, true
	}
	d.fill(d.scratch[:1])
	if st.Public = event.Visibility(d.scratch[0]); st.Public > event.PublicOff {
		d.fail("public setting out of range")
	}
	return st
}

// maxRetentionMs is the longest retention a time.Duration holds.
const maxRetentionMs = int64(1<<63-1) / int64(time.Millisecond)
