package http

import (
	"fmt"
	"maps"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/http/auth"
)

// Health.

func healthAnswer(c *call, message string) error {
	now := stamp(c.now.UnixMilli())
	writeJSON(c.ctx, fasthttp.StatusOK, &envelope{Status: "success", Message: message, Stamp: &now})
	return nil
}

func rootHealth(c *call) error { return healthAnswer(c, "Session Server is running") }

// apiHealth is readiness: 503 while the state is recovered or while
// writes cannot be made durable (a full disk, a failed fsync), so that a
// load balancer sends the traffic elsewhere; liveness is /livez.
func apiHealth(c *call) error {
	if c.s.recovering() {
		return errRecovering()
	}
	if err := c.s.readiness(); err != nil {
		return &apiError{status: fasthttp.StatusServiceUnavailable, message: "writes cannot be made durable: " + err.Error(),
			details: "storage", err: fmt.Errorf("%w: %w", ErrNotDurable, err)}
	}
	return healthAnswer(c, "API is healthy")
}

// liveness answers 200 while the process runs, recovering or not, with
// the disk full or not: restart it only when this fails.
func liveness(c *call) error { return healthAnswer(c, "Session Server is alive") }

func authHealth(c *call) error {
	writeJSON(c.ctx, fasthttp.StatusOK, &envelope{Status: "success", Message: "Authentication service is healthy"})
	return nil
}

// Auth.

func validateToken(c *call) error {
	if err := c.authorize(c.claims.Subject); err != nil {
		return err
	}
	return c.ok("Token is valid", &validAnswer{User: c.claims.Subject, App: c.app, TokenInfo: c.claims.Raw})
}

func tokenInfo(c *call) error {
	if err := c.authorize(c.claims.Subject); err != nil {
		return err
	}
	return c.ok("Token information retrieved", maps.Clone(c.claims.Raw))
}

// Session writes.

// writeTarget validates the user of a write and the token's scope over it.
func (c *call) writeTarget() (string, error) {
	user, err := c.body.userField()
	if err != nil {
		return "", err
	}
	return user, c.authorize(user)
}

func startSession(c *call) error {
	user, err := c.writeTarget()
	if err != nil {
		return err
	}
	if st, present, err := str("status", c.body.Status); err != nil || (present && st != "active") {
		return invalid("status", `status, when given, must be "active"`)
	}
	at, _, err := c.body.timeField(c.now)
	if err != nil {
		return err
	}
	started, err := c.eng.Start(c.app, user, at)
	if err != nil {
		return err
	}
	return c.ok("Session started successfully", &startAnswer{
		SessionID: started.ID.String(), User: user, App: c.app, StartTime: stamp(started.Start), Status: "active",
	})
}

func transition(c *call, kind event.Kind, message string) error {
	user, err := c.writeTarget()
	if err != nil {
		return err
	}
	id, err := c.body.sessionID()
	if err != nil {
		return err
	}
	at, atNow, err := c.body.timeField(c.now)
	if err != nil {
		return err
	}
	res, err := c.eng.Transition(kind, c.app, user, id, at, atNow)
	if err != nil {
		return err
	}
	ts := stamp(res.At)
	data := &transitionAnswer{SessionID: id.String(), Status: res.Status.String()}
	switch kind {
	case event.Pause:
		data.PauseTime = &ts
	case event.Resume:
		data.ResumeTime = &ts
	case event.End:
		data.EndTime = &ts
		data.TotalDuration, data.ElapsedDuration = optDuration(res.ActiveMs, true), optDuration(res.ElapsedMs, true)
	}
	return c.ok(message, data)
}

func pauseSession(c *call) error {
	return transition(c, event.Pause, "Session paused successfully")
}

func resumeSession(c *call) error {
	return transition(c, event.Resume, "Session resumed successfully")
}

func endSession(c *call) error {
	return transition(c, event.End, "Session ended successfully")
}

// Page tracking.

func trackPage(c *call) error {
	user, err := c.body.userField()
	if err != nil {
		return err
	}
	page, err := c.body.page()
	if err != nil {
		return err
	}
	spentMs, raw, err := c.body.timespent()
	if err != nil {
		return err
	}
	at, _, err := c.body.timeField(c.now)
	if err != nil {
		return err
	}
	if err := c.eng.TrackPage(c.app, user, page, at, spentMs); err != nil {
		return err
	}
	return c.ok("Page visit tracked successfully", &trackAnswer{Page: page, TimeSpent: raw, Timestamp: stamp(at)})
}

// Analytics.

// readQuery validates an analytics read and the token's scope over it.
func (c *call) readQuery() (analytics.Query, error) {
	user, err := c.body.readUser()
	if err != nil {
		return analytics.Query{}, err
	}
	if err := c.authorize(user); err != nil {
		return analytics.Query{}, err
	}
	return c.body.query(c.s.zones)
}

func (c *call) starts() (*analytics.Starts, error) {
	q, err := c.readQuery()
	if err != nil {
		return nil, err
	}
	st, err := c.eng.Starts(c.app, q)
	return &st, err
}

func heatmap(c *call) error {
	st, err := c.starts()
	if err != nil {
		return err
	}
	c.s.writeSuccess(c.ctx, "Heatmap data retrieved", "heatmap_data", (*heatmapAnswer)(st))
	return nil
}

func mostActiveTimes(c *call) error {
	st, err := c.starts()
	if err != nil {
		return err
	}
	return c.ok("Most active times retrieved", renderMostActive(st))
}

func sessionStats(c *call) error {
	st, err := c.starts()
	if err != nil {
		return err
	}
	return c.ok("Session statistics retrieved", renderStats(st))
}

func sessionSummary(c *call) error {
	st, err := c.starts()
	if err != nil {
		return err
	}
	return c.ok("Session summary retrieved", renderSummary(st))
}

func dailyTimeSpent(c *call) error {
	q, err := c.readQuery()
	if err != nil {
		return err
	}
	days, err := c.eng.DailyActive(c.app, q)
	if err != nil {
		return err
	}
	return c.ok("Daily time spent retrieved", dailyAnswer(days))
}

func (c *call) pages() ([]analytics.PageStat, error) {
	q, err := c.readQuery()
	if err != nil {
		return nil, err
	}
	return c.eng.Pages(c.app, q)
}

func timeByPage(c *call) error {
	pages, err := c.pages()
	if err != nil {
		return err
	}
	return c.ok("Time by page retrieved", pageTimeAnswer(pages))
}

func pageStats(c *call) error {
	pages, err := c.pages()
	if err != nil {
		return err
	}
	return c.ok("Page statistics retrieved", pageStatsAnswer(pages))
}

func (c *call) timelinePage() (*timelineResult, error) {
	q, err := c.readQuery()
	if err != nil {
		return nil, err
	}
	limit, err := c.body.limit()
	if err != nil {
		return nil, err
	}
	after, err := c.body.cursor()
	if err != nil {
		return nil, err
	}
	list, next, err := c.eng.Timeline(c.app, q, after, limit)
	return &timelineResult{list: list, next: encodeCursor(next)}, err
}

func timeline(c *call) error {
	p, err := c.timelinePage()
	if err != nil {
		return err
	}
	return c.ok("Session timeline retrieved", &timelineAnswer{Timeline: renderTimeline(p.list), NextCursor: p.next})
}

func timelineDetail(c *call) error {
	p, err := c.timelinePage()
	if err != nil {
		return err
	}
	return c.ok("Detailed session timeline retrieved", &detailAnswer{DetailedTimeline: renderDetail(p.list), NextCursor: p.next})
}

// Apps.

// listApps answers POST /api/apps: the apps an admin token may read (its
// app, or every app without an app claim; the body's app narrows it to
// one), with what each holds.
func listApps(c *call) error {
	if !c.claims.Admin {
		return fmt.Errorf("%w: listing apps needs an admin token", auth.ErrForbidden)
	}
	only := c.app
	if c.claims.HasApp {
		if only != "" && only != c.claims.App {
			return fmt.Errorf("%w: token is for app %q", auth.ErrForbidden, c.claims.App)
		}
		only = c.claims.App
	}
	list, err := c.eng.AppList(only)
	if err != nil {
		return err
	}
	apps := make([]appEntry, len(list))
	for i, a := range list {
		apps[i] = appEntry{App: a.Name, Sessions: a.Sessions, PageTracks: a.PageTracks, Settings: c.s.settingsOf(a.Settings)}
	}
	return c.ok("Apps retrieved", &appsAnswer{Apps: apps})
}
