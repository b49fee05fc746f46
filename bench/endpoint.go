package bench

// Endpoint is one route of the Session Server API the harness calls. The
// report keeps one set of figures per Endpoint.
type Endpoint uint8

// The endpoints, writes first, then the analytics reads.
const (
	Track Endpoint = iota
	Start
	Pause
	Resume
	End
	Heatmap
	MostActive
	Stats
	Summary
	PublicSummary
	Timeline
	DailyTimeSpent
	TimeByPage
	TimelineDetail
	PageStats
	numEndpoints
)

var endpointPaths = [numEndpoints]string{
	Track:          "/api/pages/track",
	Start:          "/api/sessions/start",
	Pause:          "/api/sessions/pause",
	Resume:         "/api/sessions/resume",
	End:            "/api/sessions/end",
	Heatmap:        "/api/sessions/heatmap",
	MostActive:     "/api/sessions/most-active",
	Stats:          "/api/sessions/stats",
	Summary:        "/api/sessions/summary",
	PublicSummary:  "/api/sessions/public-summary",
	Timeline:       "/api/sessions/timeline",
	DailyTimeSpent: "/api/sessions/daily-time-spent",
	TimeByPage:     "/api/sessions/time-by-page",
	TimelineDetail: "/api/sessions/session-timeline-detail",
	PageStats:      "/api/pages/stats",
}

// readEndpoints are the analytics reads the mixed scenario draws from.
var readEndpoints = [...]Endpoint{
	Heatmap, MostActive, Stats, Summary, PublicSummary, Timeline,
	DailyTimeSpent, TimeByPage, TimelineDetail, PageStats,
}

// Path is the endpoint's URL path.
func (e Endpoint) Path() string {
	if e >= numEndpoints {
		return "?"
	}
	return endpointPaths[e]
}

// String is the endpoint's path.
func (e Endpoint) String() string { return e.Path() }

// Public reports whether the endpoint takes no token.
func (e Endpoint) Public() bool { return e == Track || e == PublicSummary }

// paginated reports whether the endpoint takes limit and cursor.
func (e Endpoint) paginated() bool { return e == Timeline || e == TimelineDetail }
