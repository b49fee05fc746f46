package http_test

// Cross-server comparison: every analytics answer of one app, asked of
// two servers (or of one server twice), compared byte for byte. The
// import tests use it to show that an export imported elsewhere answers
// as the original does; any test that moves or rebuilds state may.

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
)

// readSpec is which reads answersOf asks: each endpoint for every user
// (the empty string is every user), zone and range ({from, to}, either
// "" for none).
type readSpec struct {
	users  []string
	zones  []string
	ranges [][2]string
	limit  int // page size of the timelines
}

// answer is one read and the bytes of its answer.
type answer struct {
	what string
	raw  []byte
}

// readEndpoints are the reads answered by one request; the timelines are
// read page by page (timelineEndpoints).
var (
	readEndpoints = []string{"/api/sessions/heatmap", "/api/sessions/most-active", "/api/sessions/stats",
		"/api/sessions/summary", "/api/sessions/public-summary", "/api/sessions/daily-time-spent",
		"/api/sessions/time-by-page", "/api/pages/stats"}
	timelineEndpoints = []string{"/api/sessions/timeline", "/api/sessions/public-timeline", "/api/sessions/session-timeline-detail"}
)

// envelopeStamp is the part of an envelope that differs by when it was
// written.
var envelopeStamp = regexp.MustCompile(`,"timestamp":"[^"]*"\}$`)

// answersOf asks ts every read of spec about app with an admin token
// (and /api/apps about it), requiring each to succeed.
func (ts *testServer) answersOf(tb testing.TB, app string, spec readSpec) []answer {
	tb.Helper()
	adm := ts.admin(tb)
	var out []answer
	ask := func(what, path string, body obj) *reply {
		r := ts.post(tb, path, adm, body)
		if r.Code != 200 {
			tb.Fatalf("%s: %s", what, r)
		}
		out = append(out, answer{what, envelopeStamp.ReplaceAll(r.Raw, []byte("}"))})
		return r
	}
	ask("apps", "/api/apps", obj{"app": app})
	for _, user := range spec.users {
		for _, zone := range spec.zones {
			for _, rg := range spec.ranges {
				body := obj{"app": app, "tz": zone}
				if user != "" {
					body["user"] = user
				}
				if rg[0] != "" {
					body["from"] = rg[0]
				}
				if rg[1] != "" {
					body["to"] = rg[1]
				}
				for _, path := range readEndpoints {
					ask(fmt.Sprintf("%s %s", path, mustJSON(tb, body)), path, body)
				}
				for _, path := range timelineEndpoints {
					page := with(body, "limit", spec.limit)
					for n := 0; ; n++ {
						r := ask(fmt.Sprintf("%s page %d %s", path, n, mustJSON(tb, page)), path, page)
						next := r.Body["data"].(obj)["next_cursor"]
						if next == nil {
							break
						}
						page = with(page, "cursor", next)
					}
				}
			}
		}
	}
	return out
}

// sameAnswers fails unless got and want hold the same reads with the
// same bytes; it names the first few that differ.
func sameAnswers(tb testing.TB, what string, got, want []answer) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d answers, want %d (a timeline paged differently?)", what, len(got), len(want))
	}
	bad := 0
	for i := range want {
		if got[i].what != want[i].what || !bytes.Equal(got[i].raw, want[i].raw) {
			if bad++; bad <= 3 {
				tb.Errorf("%s: %s:\n got %s\nwant %s", what, want[i].what, got[i].raw, want[i].raw)
			}
		}
	}
	if bad > 0 {
		tb.Fatalf("%s: %d of %d answers differ", what, bad, len(want))
	}
}
