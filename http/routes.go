package http

import (
	"strings"
)

// route is one endpoint.
type route struct {
	path    string
	methods string // the Allow header: "POST" or "GET, POST"
	auth    bool   // a bearer token is required
	public  bool   // answered only with -public-endpoints
	limited bool   // under the per-address rate limit
	health  bool   // no body, no token
	anyApp  bool   // "app" is optional: the route is about apps, not one
	stream  bool   // reads its own body, streamed, unbounded; token in the header only
	handle  func(*call) error
}

func (r *route) allows(method string) bool {
	for m := range strings.SplitSeq(r.methods, ", ") {
		if m == method {
			return true
		}
	}
	return false
}

func (s *Server) routeTable() map[string]*route {
	post := func(h func(*call) error) *route { return &route{methods: "POST", auth: true, handle: h} }
	public := func(h func(*call) error) *route {
		return &route{methods: "POST", public: true, limited: true, handle: h}
	}
	health := func(h func(*call) error) *route {
		return &route{methods: "GET, POST", health: true, limited: true, handle: h}
	}
	table := map[string]*route{
		"/":                                     health(rootHealth),
		"/api/health":                           health(apiHealth),
		"/livez":                                {methods: "GET, POST", health: true, handle: liveness},
		"/api/auth/health":                      health(authHealth),
		"/api/auth/validate-token":              post(validateToken),
		"/api/auth/token-info":                  post(tokenInfo),
		"/api/sessions/start":                   post(startSession),
		"/api/sessions/pause":                   post(pauseSession),
		"/api/sessions/resume":                  post(resumeSession),
		"/api/sessions/end":                     post(endSession),
		"/api/sessions/heatmap":                 post(heatmap),
		"/api/sessions/most-active":             post(mostActiveTimes),
		"/api/sessions/stats":                   post(sessionStats),
		"/api/sessions/summary":                 post(sessionSummary),
		"/api/sessions/public-summary":          public(sessionSummary),
		"/api/sessions/timeline":                post(timeline),
		"/api/sessions/public-timeline":         public(timeline),
		"/api/sessions/daily-time-spent":        post(dailyTimeSpent),
		"/api/sessions/time-by-page":            post(timeByPage),
		"/api/sessions/session-timeline-detail": post(timelineDetail),
		"/api/pages/track":                      {methods: "POST", limited: true, handle: trackPage},
		"/api/pages/stats":                      post(pageStats),
		"/api/apps":                             {methods: "POST", auth: true, anyApp: true, handle: listApps},
		"/api/apps/settings":                    post(appSettings),
		"/api/apps/delete":                      post(deleteApp),
		"/api/users/delete":                     post(deleteUser),
		"/api/export":                           post(export),
		"/api/import":                           {methods: "POST", auth: true, stream: true, handle: importData},
	}
	for path, rt := range table {
		rt.path = path
	}
	return table
}
