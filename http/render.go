package http

import (
	"encoding/json"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/session"
	"github.com/sessionserver/sessionserver/http/isotime"
)

// duration is milliseconds that encode as "HH:MM:SS".
type duration int64

func (d duration) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 16), '"')
	b = isotime.AppendDuration(b, int64(d))
	return append(b, '"'), nil
}

// optDuration is a duration or null.
func optDuration(ms int64, ok bool) *duration {
	if !ok {
		return nil
	}
	d := duration(ms)
	return &d
}

// stamp is Unix milliseconds that encode as "2024-01-01T12:00:00.000Z".
type stamp int64

func (s stamp) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 32), '"')
	b = isotime.AppendMillis(b, int64(s))
	return append(b, '"'), nil
}

type slot struct {
	Day  string `json:"day"`
	Hour int    `json:"hour"`
}

type mostActive struct {
	MostActiveDay  *string `json:"most_active_day"`
	MostActiveHour *int    `json:"most_active_hour"`
	PeakSessions   int64   `json:"peak_sessions"`
	PeakSlot       *slot   `json:"peak_slot"`
}

func renderMostActive(st *analytics.Starts) *mostActive {
	m := &mostActive{}
	if st.Sessions == 0 {
		return m
	}
	var byDay [7]int64
	var byHour [24]int64
	peakDay, peakHour := 0, 0
	for d := range st.Grid {
		for h, n := range st.Grid[d] {
			byDay[d] += n
			byHour[h] += n
			if n > st.Grid[peakDay][peakHour] {
				peakDay, peakHour = d, h
			}
		}
	}
	day, hour := argmax(byDay[:]), argmax(byHour[:])
	name := analytics.WeekdayName(day)
	m.MostActiveDay, m.MostActiveHour = &name, &hour
	m.PeakSessions = st.Grid[peakDay][peakHour]
	m.PeakSlot = &slot{Day: analytics.WeekdayName(peakDay), Hour: peakHour}
	return m
}

// argmax is the first index of the largest value (ties go to the earliest).
func argmax(v []int64) int {
	best := 0
	for i, n := range v {
		if n > v[best] {
			best = i
		}
	}
	return best
}

type stats struct {
	TotalSessions          int64     `json:"total_sessions"`
	EndedSessions          int64     `json:"ended_sessions"`
	AverageSessionDuration *duration `json:"average_session_duration"`
	TotalTimeSpent         duration  `json:"total_time_spent"`
	ActiveDays             int       `json:"active_days"`
}

func average(st *analytics.Starts) *duration {
	if st.Ended == 0 {
		return nil
	}
	return optDuration(st.EndedMs/st.Ended, true)
}

func renderStats(st *analytics.Starts) *stats {
	return &stats{
		TotalSessions:          st.Sessions,
		EndedSessions:          st.Ended,
		AverageSessionDuration: average(st),
		TotalTimeSpent:         duration(st.ActiveMs),
		ActiveDays:             len(st.Daily),
	}
}

type summary struct {
	TotalSessions   int64     `json:"total_sessions"`
	EndedSessions   int64     `json:"ended_sessions"`
	TotalDuration   duration  `json:"total_duration"`
	AverageDuration *duration `json:"average_duration"`
	LongestSession  *duration `json:"longest_session"`
	ShortestSession *duration `json:"shortest_session"`
}

func renderSummary(st *analytics.Starts) *summary {
	return &summary{
		TotalSessions:   st.Sessions,
		EndedSessions:   st.Ended,
		TotalDuration:   duration(st.ActiveMs),
		AverageDuration: average(st),
		LongestSession:  optDuration(st.LongestMs, st.Ended > 0),
		ShortestSession: optDuration(st.ShortestMs, st.Ended > 0),
	}
}

type timelineEntry struct {
	SessionID string   `json:"session_id"`
	User      string   `json:"user"`
	Status    string   `json:"status"`
	StartTime stamp    `json:"start_time"`
	EndTime   *stamp   `json:"end_time"`
	Duration  duration `json:"duration"`
}

func renderTimeline(list []*session.Session) []timelineEntry {
	out := make([]timelineEntry, len(list))
	for i, s := range list {
		out[i] = timelineEntry{
			SessionID: s.ID.String(),
			User:      s.User,
			Status:    s.Status.String(),
			StartTime: stamp(s.Start),
			Duration:  duration(s.ActiveMs()),
		}
		if end, ok := s.End(); ok {
			e := stamp(end)
			out[i].EndTime = &e
		}
	}
	return out
}

type detailEvent struct {
	Type      string `json:"type"`
	Timestamp stamp  `json:"timestamp"`
}

type detailEntry struct {
	SessionID string        `json:"session_id"`
	User      string        `json:"user"`
	Status    string        `json:"status"`
	Events    []detailEvent `json:"events"`
}

func renderDetail(list []*session.Session) []detailEntry {
	out := make([]detailEntry, len(list))
	for i, s := range list {
		events := make([]detailEvent, 0, len(s.Marks)+1)
		events = append(events, detailEvent{Type: "start", Timestamp: stamp(s.Start)})
		for j, at := range s.Marks {
			events = append(events, detailEvent{Type: s.EventKind(j).String(), Timestamp: stamp(at)})
		}
		out[i] = detailEntry{SessionID: s.ID.String(), User: s.User, Status: s.Status.String(), Events: events}
	}
	return out
}

type timelineResult struct {
	list []*session.Session
	next *string
}

type appsAnswer struct {
	Apps []appEntry `json:"apps"`
}

type appEntry struct {
	App        string       `json:"app"`
	Sessions   int          `json:"sessions"`
	PageTracks int          `json:"page_tracks"`
	Settings   settingsJSON `json:"settings"`
}

type startAnswer struct {
	SessionID string `json:"session_id"`
	User      string `json:"user"`
	App       string `json:"app"`
	StartTime stamp  `json:"start_time"`
	Status    string `json:"status"`
}

// transitionAnswer answers pause, resume and end; the time key depends on
// the transition.
type transitionAnswer struct {
	SessionID       string    `json:"session_id"`
	Status          string    `json:"status"`
	PauseTime       *stamp    `json:"pause_time,omitempty"`
	ResumeTime      *stamp    `json:"resume_time,omitempty"`
	EndTime         *stamp    `json:"end_time,omitempty"`
	TotalDuration   *duration `json:"total_duration,omitempty"`
	ElapsedDuration *duration `json:"elapsed_duration,omitempty"`
}

type trackAnswer struct {
	Page      string          `json:"page"`
	TimeSpent json.RawMessage `json:"time_spent"`
	Timestamp stamp           `json:"timestamp"`
}

type validAnswer struct {
	User      string         `json:"user"`
	App       string         `json:"app"`
	TokenInfo map[string]any `json:"token_info"`
}
