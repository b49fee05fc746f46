package http

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/analytics"
)

// FuzzImportLine drives the parser of import lines with arbitrary lines:
// no panic; the scanner takes exactly the JSON objects (as encoding/json
// tells them); every refusal is a 400 or a 422; and a session or page
// track it takes, written again as an export writes it, parses back to
// the same record. The seeds are in testdata/fuzz/FuzzImportLine and
// below.
func FuzzImportLine(f *testing.F) {
	for _, seed := range []string{
		`{"type":"header","format":"sessionserver-export","version":1,"app":"shop","user":null,"from":null,"to":null,"exported_at":"2025-01-01T00:00:00.000Z"}`,
		`{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-111111111111","user":"ann","status":"ended","events":[{"type":"start","timestamp":"2024-01-01T10:00:00.000Z"},{"type":"pause","timestamp":"2024-01-01T10:30:00.000Z"},{"type":"resume","timestamp":"2024-01-01T10:45:00.000Z"},{"type":"timeout","timestamp":"2024-01-01T10:45:00.000Z"}]}`,
		`{"type":"session","session_id":"6f1c0c2e-8d7b-4a57-9d51-222222222222","user":"b\u00f6b","status":"paused","events":[{"type":"start","timestamp":"2024-01-02T10:00:00+05:30"},{"type":"pause","timestamp":"2024-01-02T10:00:00.5+05:30"}]}`,
		`{"type":"page_track","user":"ann","page":"/home?x=1","timespent":1.5,"timestamp":"2024-01-01T10:05:00.000Z"}`,
		`{"type":"end","sessions":2,"page_tracks":2}`,
		`{"type":"error","message":"the export stopped"}`,
		`{"ty\u0070e":"page_track","user":"u","page":"/","timespent":0,"timestamp":"2024-01-01T00:00:00Z","user":"v"}`,
		`{"type":"session","events":[1,{"type":"start"}]}`, `[]`, `{`, ``, ` {"type":"end"} `,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var l importLine
		scanned := scanLine(raw, &l) == nil
		trimmed := bytes.TrimLeft(raw, " \t\r\n")
		if want := json.Valid(raw) && len(trimmed) > 0 && trimmed[0] == '{'; scanned != want {
			t.Fatalf("scanLine took it: %v; a JSON object: %v", scanned, want)
		}
		p := lineParser{maxAt: now.UnixMilli()}
		it, err := p.parse(raw)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || (ae.status != 400 && ae.status != 422) {
				t.Fatalf("error %v is not a 400 or a 422", err)
			}
			return
		}
		again := rewrite(t, &it)
		if again == nil {
			return
		}
		back, err := p.parse(again)
		if err != nil {
			t.Fatalf("%s, written again as %s, parses to %v", raw, again, err)
		}
		if !sameItem(&it, &back) {
			t.Fatalf("%s, written again as %s, parses to %+v, not %+v", raw, again, back, it)
		}
	})
}

// rewrite writes a session or page track as the export writes it (nil
// for the other lines).
func rewrite(t *testing.T, it *importItem) []byte {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	ew := newExportWriter(w, false)
	switch it.kind {
	case lineSession:
		ew.session(it.session)
	case lineTrack:
		ew.track(&analytics.TrackRow{User: it.track.User, Page: it.track.Page, At: it.track.At, Ms: it.track.SpentMs})
	default:
		return nil
	}
	ew.flush()
	if ew.err != nil {
		t.Fatal(ew.err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func sameItem(a, b *importItem) bool {
	if a.kind != b.kind || a.track != b.track {
		return false
	}
	if a.kind != lineSession {
		return true
	}
	x, y := a.session, b.session
	return x.ID == y.ID && x.User == y.User && x.Start == y.Start && slices.Equal(x.Marks, y.Marks) &&
		x.Status == y.Status && x.TimedOut == y.TimedOut
}
