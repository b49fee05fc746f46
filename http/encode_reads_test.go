package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/actors/session"
)

// The encoding/json forms the read answers had before they were encoded by
// hand: the reference TestReadAnswersMatchEncodingJSON holds them to.

func renderDaily(days []analytics.DayCount) map[string]duration {
	out := make(map[string]duration, len(days))
	for _, d := range days {
		out[analytics.DateString(d.Day)] = duration(d.Count)
	}
	return out
}

func renderPageTime(pages []analytics.PageStat) map[string]duration {
	out := make(map[string]duration, len(pages))
	for _, p := range pages {
		out[p.Page] = duration(p.Ms)
	}
	return out
}

type pageStat struct {
	Visits      int64    `json:"visits"`
	TotalTime   duration `json:"total_time"`
	AverageTime duration `json:"average_time"`
}

func renderPageStats(pages []analytics.PageStat) map[string]pageStat {
	out := make(map[string]pageStat, len(pages))
	for _, p := range pages {
		ps := pageStat{Visits: p.Visits, TotalTime: duration(p.Ms)}
		if p.Visits > 0 {
			ps.AverageTime = duration(p.Ms / p.Visits)
		}
		out[p.Page] = ps
	}
	return out
}

type dateRange struct {
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
}

type heatmapData struct {
	DailySessions         map[string]int64 `json:"daily_sessions"`
	WeeklyHourly          *grid            `json:"weekly_hourly"`
	TotalSessions         int64            `json:"total_sessions"`
	TotalDaysWithActivity int              `json:"total_days_with_activity"`
	DateRange             dateRange        `json:"date_range"`
}

// MarshalJSON lets the reference encode the grid (with string keys, in
// number order, which encoding/json's sorted map keys would not give) by
// the one grid encoder; e2e_routes_test's wantGrid checks its cells end to
// end.
func (g *grid) MarshalJSON() ([]byte, error) { return g.appendJSON(nil), nil }

func renderHeatmap(st *analytics.Starts) *heatmapData {
	h := &heatmapData{
		DailySessions:         make(map[string]int64, len(st.Daily)),
		WeeklyHourly:          (*grid)(&st.Grid),
		TotalSessions:         st.Sessions,
		TotalDaysWithActivity: len(st.Daily),
	}
	for _, d := range st.Daily {
		h.DailySessions[analytics.DateString(d.Day)] = d.Count
	}
	if n := len(st.Daily); n > 0 {
		first, last := analytics.DateString(st.Daily[0].Day), analytics.DateString(st.Daily[n-1].Day)
		h.DateRange = dateRange{StartDate: &first, EndDate: &last}
	}
	return h
}

// tricky are strings that need escaping in JSON, or that encoding/json
// escapes where the hand encoder need not (<, >, &).
var tricky = []string{"", "/", "/a b", `q"uote`, `back\slash`, "tab\there", "nl\n", "ctl\x01", "<b>&amp;", "é", "日本", "\u2028", "bad\xffutf8", "/products/42"}

func randStarts(r *rand.Rand) *analytics.Starts {
	st := &analytics.Starts{}
	if r.IntN(4) == 0 {
		return st // no sessions
	}
	day := int64(19000 + r.IntN(100))
	for range r.IntN(20) {
		day += 1 + r.Int64N(3)
		st.Daily = append(st.Daily, analytics.DayCount{Day: day, Count: 1 + r.Int64N(50)})
	}
	for d := range st.Grid {
		for h := range st.Grid[d] {
			if r.IntN(3) == 0 {
				st.Grid[d][h] = r.Int64N(100)
				st.Sessions += st.Grid[d][h]
			}
		}
	}
	st.Ended = r.Int64N(st.Sessions + 1)
	st.ActiveMs = r.Int64N(1 << 40)
	if st.Ended > 0 {
		st.EndedMs, st.ShortestMs, st.LongestMs = r.Int64N(1<<40), r.Int64N(1<<20), r.Int64N(1<<36)
	}
	return st
}

func randSessions(r *rand.Rand) []*session.Session {
	var out []*session.Session
	for i := range r.IntN(8) {
		at := int64(1_700_000_000_000) + r.Int64N(1<<30)
		s := session.New(uuid.UUID{byte(i), byte(r.IntN(256))}, tricky[r.IntN(len(tricky))], at)
		for range r.IntN(5) {
			at += r.Int64N(1 << 20)
			kind := []event.Kind{event.Pause, event.Resume, event.End, event.Timeout}[r.IntN(4)]
			if s.Check(kind, at) == nil {
				_, _ = s.Apply(kind, at)
			}
		}
		out = append(out, s)
	}
	return out
}

func randPages(r *rand.Rand) []analytics.PageStat {
	var out []analytics.PageStat
	for _, p := range tricky {
		if r.IntN(2) == 0 {
			visits := r.Int64N(5)
			out = append(out, analytics.PageStat{Page: p, PageTotal: analytics.PageTotal{Visits: visits, Ms: r.Int64N(1 << 30)}})
		}
	}
	slices.SortFunc(out, func(x, y analytics.PageStat) int { return strings.Compare(x.Page, y.Page) })
	return out
}

// sameJSON reports whether a and b hold the same JSON value, and whether
// they are the same bytes once encoding/json's HTML escapes are undone.
func sameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("different values\n got %s\nwant %s", got, want)
	}
	unescaped := want
	for esc, c := range map[string]string{`\u003c`: "<", `\u003e`: ">", `\u0026`: "&", `\u2028`: "\u2028", `\u2029`: "\u2029"} {
		unescaped = bytes.ReplaceAll(unescaped, []byte(esc), []byte(c))
	}
	if !bytes.Equal(got, unescaped) {
		t.Fatalf("same value, other bytes (key order?)\n got %s\nwant %s", got, unescaped)
	}
}

// TestReadAnswersMatchEncodingJSON: every hand-encoded analytics answer is
// the JSON encoding/json made of it before, key order included.
func TestReadAnswersMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	marshal := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i := range 300 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			st := randStarts(r)
			sameJSON(t, (*heatmapAnswer)(st).appendJSON(nil), marshal(renderHeatmap(st)))
			sameJSON(t, renderMostActive(st).appendJSON(nil), marshal(renderMostActive(st)))
			sameJSON(t, renderStats(st).appendJSON(nil), marshal(renderStats(st)))
			sameJSON(t, renderSummary(st).appendJSON(nil), marshal(renderSummary(st)))
			days := st.Daily
			for k := range days {
				days[k].Count *= 1000
			}
			sameJSON(t, dailyAnswer(days).appendJSON(nil), marshal(map[string]any{"daily_time": renderDaily(days)}))
			list := randSessions(r)
			var next *string
			if r.IntN(2) == 0 {
				c := "cursor-" + tricky[r.IntN(len(tricky))]
				next = &c
			}
			sameJSON(t, (&timelineAnswer{Timeline: renderTimeline(list), NextCursor: next}).appendJSON(nil),
				marshal(map[string]any{"timeline": renderTimeline(list), "next_cursor": next}))
			sameJSON(t, (&detailAnswer{DetailedTimeline: renderDetail(list), NextCursor: next}).appendJSON(nil),
				marshal(map[string]any{"detailed_timeline": renderDetail(list), "next_cursor": next}))
			pages := randPages(r)
			sameJSON(t, pageTimeAnswer(pages).appendJSON(nil), marshal(map[string]any{"page_time": renderPageTime(pages)}))
			sameJSON(t, pageStatsAnswer(pages).appendJSON(nil), marshal(map[string]any{"page_stats": renderPageStats(pages)}))
		})
	}
}
