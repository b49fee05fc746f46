package http

import (
	"strconv"

	"github.com/sessionserver/sessionserver/actors/analytics"
)

// The analytics answers, encoded by hand like the write answers: through
// encoding/json they were a tenth of the requests of mixed traffic but a
// sixth of the bytes it allocated. TestReadAnswersMatchEncodingJSON holds
// each one to what encoding/json makes of the same value.

func appendInt(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }

// appendDateKey appends local day number day as an object key.
func appendDateKey(dst []byte, first bool, day int64) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = analytics.AppendDate(dst, day)
	return append(dst, '"', ':')
}

func appendOptDuration(dst []byte, d *duration) []byte {
	if d == nil {
		return append(dst, "null"...)
	}
	return appendDuration(dst, int64(*d))
}

func appendOptStamp(dst []byte, s *stamp) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendStamp(dst, int64(*s))
}

func appendOptString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendString(dst, *s)
}

// grid is the weekday × hour heatmap, encoded with string keys, every cell
// present.
type grid [7][24]int64

func (g *grid) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for d := range g {
		if d > 0 {
			b = append(b, ',')
		}
		b = append(b, '"', byte('0'+d), '"', ':', '{')
		for h, n := range g[d] {
			if h > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = appendInt(b, int64(h))
			b = append(b, '"', ':')
			b = appendInt(b, n)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// heatmapAnswer is the heatmap of the start-based figures: daily_sessions
// in date order (encoding/json's sorted keys), the weekday × hour grid with
// every cell, the totals and the first and last day with a session.
type heatmapAnswer analytics.Starts

func (h *heatmapAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "daily_sessions")
	b = append(b, '{')
	for i, d := range h.Daily {
		b = appendDateKey(b, i == 0, d.Day)
		b = appendInt(b, d.Count)
	}
	b = append(b, '}')
	b = appendKey(b, false, "weekly_hourly")
	b = (*grid)(&h.Grid).appendJSON(b)
	b = appendKey(b, false, "total_sessions")
	b = appendInt(b, h.Sessions)
	b = appendKey(b, false, "total_days_with_activity")
	b = appendInt(b, int64(len(h.Daily)))
	b = appendKey(b, false, "date_range")
	if n := len(h.Daily); n > 0 {
		b = append(b, `{"start_date":"`...)
		b = analytics.AppendDate(b, h.Daily[0].Day)
		b = append(b, `","end_date":"`...)
		b = analytics.AppendDate(b, h.Daily[n-1].Day)
		b = append(b, `"}`...)
	} else {
		b = append(b, `{"start_date":null,"end_date":null}`...)
	}
	return append(b, '}')
}

func (m *mostActive) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "most_active_day")
	b = appendOptString(b, m.MostActiveDay)
	b = appendKey(b, false, "most_active_hour")
	if m.MostActiveHour == nil {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, int64(*m.MostActiveHour))
	}
	b = appendKey(b, false, "peak_sessions")
	b = appendInt(b, m.PeakSessions)
	b = appendKey(b, false, "peak_slot")
	if m.PeakSlot == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		b = appendKey(b, true, "day")
		b = appendString(b, m.PeakSlot.Day)
		b = appendKey(b, false, "hour")
		b = appendInt(b, int64(m.PeakSlot.Hour))
		b = append(b, '}')
	}
	return append(b, '}')
}

func (s *stats) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "total_sessions")
	b = appendInt(b, s.TotalSessions)
	b = appendKey(b, false, "ended_sessions")
	b = appendInt(b, s.EndedSessions)
	b = appendKey(b, false, "average_session_duration")
	b = appendOptDuration(b, s.AverageSessionDuration)
	b = appendKey(b, false, "total_time_spent")
	b = appendDuration(b, int64(s.TotalTimeSpent))
	b = appendKey(b, false, "active_days")
	b = appendInt(b, int64(s.ActiveDays))
	return append(b, '}')
}

func (s *summary) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "total_sessions")
	b = appendInt(b, s.TotalSessions)
	b = appendKey(b, false, "ended_sessions")
	b = appendInt(b, s.EndedSessions)
	b = appendKey(b, false, "total_duration")
	b = appendDuration(b, int64(s.TotalDuration))
	b = appendKey(b, false, "average_duration")
	b = appendOptDuration(b, s.AverageDuration)
	b = appendKey(b, false, "longest_session")
	b = appendOptDuration(b, s.LongestSession)
	b = appendKey(b, false, "shortest_session")
	b = appendOptDuration(b, s.ShortestSession)
	return append(b, '}')
}

// timelineAnswer is {"next_cursor", "timeline"}; detailAnswer is
// {"detailed_timeline", "next_cursor"} (keys in encoding/json's order).
type timelineAnswer struct {
	Timeline   []timelineEntry
	NextCursor *string
}

type detailAnswer struct {
	DetailedTimeline []detailEntry
	NextCursor       *string
}

// appendSessionHead opens a timeline entry: {"session_id","user","status",
// after "type" when typ is not "" (an export line).
func appendSessionHead(b []byte, typ, id, user, status string) []byte {
	b = append(b, '{')
	if typ != "" {
		b = appendKey(b, true, "type")
		b = appendString(b, typ)
	}
	b = appendKey(b, typ == "", "session_id")
	b = appendString(b, id)
	b = appendKey(b, false, "user")
	b = appendString(b, user)
	b = appendKey(b, false, "status")
	return appendString(b, status)
}

func (t *timelineAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "next_cursor")
	b = appendOptString(b, t.NextCursor)
	b = appendKey(b, false, "timeline")
	b = append(b, '[')
	for i, e := range t.Timeline {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSessionHead(b, "", e.SessionID, e.User, e.Status)
		b = appendKey(b, false, "start_time")
		b = appendStamp(b, int64(e.StartTime))
		b = appendKey(b, false, "end_time")
		b = appendOptStamp(b, e.EndTime)
		b = appendKey(b, false, "duration")
		b = appendDuration(b, int64(e.Duration))
		b = append(b, '}')
	}
	return append(b, ']', '}')
}

func (t *detailAnswer) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = appendKey(b, true, "detailed_timeline")
	b = append(b, '[')
	for i := range t.DetailedTimeline {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendDetailEntry(b, &t.DetailedTimeline[i])
	}
	b = append(b, ']')
	b = appendKey(b, false, "next_cursor")
	b = appendOptString(b, t.NextCursor)
	return append(b, '}')
}

// appendDetailEntry is one session of the detailed timeline.
func appendDetailEntry(b []byte, e *detailEntry) []byte {
	b = appendSessionHead(b, "", e.SessionID, e.User, e.Status)
	b = appendKey(b, false, "events")
	b = append(b, '[')
	for j, ev := range e.Events {
		b = appendEvent(b, j == 0, ev.Type, int64(ev.Timestamp))
	}
	return append(b, ']', '}')
}

// appendEvent is one event of a session: {"type","timestamp"}.
func appendEvent(b []byte, first bool, typ string, ms int64) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '{')
	b = appendKey(b, true, "type")
	b = appendString(b, typ)
	b = appendKey(b, false, "timestamp")
	b = appendStamp(b, ms)
	return append(b, '}')
}

// dailyAnswer is {"daily_time": {date: duration}} in date order.
type dailyAnswer []analytics.DayCount

func (d dailyAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"daily_time":{`...)
	for i, day := range d {
		b = appendDateKey(b, i == 0, day.Day)
		b = appendDuration(b, day.Count)
	}
	return append(b, '}', '}')
}

// pageTimeAnswer is {"page_time": {page: duration}} and pageStatsAnswer
// {"page_stats": {page: {...}}}, pages in byte order as encoding/json sorts
// them (the engine sorts them so).
type pageTimeAnswer []analytics.PageStat

type pageStatsAnswer []analytics.PageStat

func (p pageTimeAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"page_time":{`...)
	for i, ps := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, ps.Page)
		b = append(b, ':')
		b = appendDuration(b, ps.Ms)
	}
	return append(b, '}', '}')
}

func (p pageStatsAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"page_stats":{`...)
	for i, ps := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, ps.Page)
		b = append(b, ':', '{')
		b = appendKey(b, true, "visits")
		b = appendInt(b, ps.Visits)
		b = appendKey(b, false, "total_time")
		b = appendDuration(b, ps.Ms)
		b = appendKey(b, false, "average_time")
		var avg int64
		if ps.Visits > 0 {
			avg = ps.Ms / ps.Visits
		}
		b = appendDuration(b, avg)
		b = append(b, '}')
	}
	return append(b, '}', '}')
}
