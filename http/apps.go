package http

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sessionserver/sessionserver/actors/analytics"
	"github.com/sessionserver/sessionserver/actors/event"
	"github.com/sessionserver/sessionserver/http/auth"
	"github.com/sessionserver/sessionserver/http/isotime"
)

// settingsJSON is an app's settings as the API gives them: what applies,
// and whether it is the app's own or the server's.
type settingsJSON struct {
	Retention        string `json:"retention"` // Go duration; "0s" keeps everything
	RetentionSeconds int64  `json:"retention_seconds"`
	RetentionFrom    string `json:"retention_from"` // "app" or "server"
	Public           bool   `json:"public"`
	PublicFrom       string `json:"public_from"` // "app" or "server"
}

// settingsOf is st as it applies on this server.
func (s *Server) settingsOf(st analytics.Settings) settingsJSON {
	keep := st.RetentionOr(s.cfg.Retention)
	out := settingsJSON{Retention: keep.String(), RetentionSeconds: int64(keep / time.Second),
		RetentionFrom: "server", Public: st.PublicOr(s.cfg.PublicEndpoints), PublicFrom: "server"}
	if st.RetentionSet {
		out.RetentionFrom = "app"
	}
	if st.Public != event.PublicInherit {
		out.PublicFrom = "app"
	}
	return out
}

// publicFor says whether the public endpoints answer for app.
func (c *call) publicFor(app string) bool {
	st, _ := c.eng.AppSettings(app)
	return st.PublicOr(c.s.cfg.PublicEndpoints)
}

// adminOf checks that the token is an admin's for c.app.
func (c *call) adminOf(what string) error {
	if !c.claims.Admin {
		return fmt.Errorf("%w: %s needs an admin token", auth.ErrForbidden, what)
	}
	return c.claims.Authorize(c.app, "")
}

type appSettingsAnswer struct {
	App      string       `json:"app"`
	Changed  bool         `json:"changed"`
	Settings settingsJSON `json:"settings"`
}

// appSettings: POST /api/apps/settings reads or changes an app's
// settings. A field left out stays as it is; null gives it back to the
// server's flag; a body with neither changes nothing and logs nothing.
func appSettings(c *call) error {
	if err := c.adminOf("changing an app's settings"); err != nil {
		return err
	}
	change, err := settingsChange(&c.body)
	if err != nil {
		return err
	}
	var st analytics.Settings
	if change == nil {
		st, _ = c.eng.AppSettings(c.app)
	} else if st, err = c.eng.SetSettings(c.app, change); err != nil {
		return err
	}
	return c.ok("App settings", &appSettingsAnswer{App: c.app, Changed: change != nil, Settings: c.s.settingsOf(st)})
}

// settingsChange reads the change a settings body asks for; nil for none.
func settingsChange(b *body) (func(*analytics.Settings), error) {
	var changes []func(*analytics.Settings)
	if len(b.Retention) > 0 {
		keep, inherit, err := retentionField(b.Retention)
		if err != nil {
			return nil, err
		}
		changes = append(changes, func(st *analytics.Settings) { st.Retention, st.RetentionSet = keep, !inherit })
	}
	if len(b.Public) > 0 {
		v := event.PublicInherit
		switch string(b.Public) {
		case "true":
			v = event.PublicOn
		case "false":
			v = event.PublicOff
		case "null":
		default:
			return nil, invalid("public", "public must be true, false or null (the server's -public-endpoints)")
		}
		changes = append(changes, func(st *analytics.Settings) { st.Public = v })
	}
	if len(changes) == 0 {
		return nil, nil
	}
	return func(st *analytics.Settings) {
		for _, ch := range changes {
			ch(st)
		}
	}, nil
}

// retentionField reads "retention": a duration ("90d", "2160h", "30s"),
// a number of seconds, 0 to keep everything, or null for the server's.
func retentionField(raw json.RawMessage) (keep time.Duration, inherit bool, err error) {
	const hint = `retention must be a duration like "90d", "2160h" or "30s", a number of seconds, 0 to keep everything, or null for the server's -retention`
	if isNull(raw) {
		return 0, true, nil
	}
	if raw[0] == '"' {
		s, _, err := str("retention", raw)
		if err != nil {
			return 0, false, err
		}
		if keep, err = isotime.ParseDuration(s); err != nil {
			return 0, false, invalid("retention", "%s", hint)
		}
		return keep, false, nil
	}
	secs, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || secs < 0 || secs > float64(math.MaxInt64/int64(time.Second)) || math.IsNaN(secs) {
		return 0, false, invalid("retention", "%s", hint)
	}
	return time.Duration(secs * float64(time.Second)), false, nil
}

type removedAnswer struct {
	App        string  `json:"app"`
	User       *string `json:"user,omitempty"`
	Sessions   int     `json:"sessions"`
	PageTracks int     `json:"page_tracks"`
}

// deleteApp: POST /api/apps/delete removes an app with everything it
// holds (one record in the log).
func deleteApp(c *call) error {
	if err := c.adminOf("deleting an app"); err != nil {
		return err
	}
	r, err := c.eng.DeleteApp(c.app)
	if err != nil {
		return err
	}
	return c.ok("App deleted", &removedAnswer{App: c.app, Sessions: r.Sessions, PageTracks: r.PageTracks})
}

// deleteUser: POST /api/users/delete erases a user of an app: every
// session, open ones included, and every page track (one record in the
// log). A user with nothing left answers zeros.
func deleteUser(c *call) error {
	if err := c.adminOf("deleting a user"); err != nil {
		return err
	}
	user, err := c.body.userField()
	if err != nil {
		return err
	}
	r, err := c.eng.EraseUser(c.app, user)
	if err != nil {
		return err
	}
	return c.ok("User deleted", &removedAnswer{App: c.app, User: &user, Sessions: r.Sessions, PageTracks: r.PageTracks})
}

// errPublicOff is the answer of a public endpoint that is off for the app:
// the one of an endpoint that does not exist, as with -public-endpoints
// false.
func errPublicOff(path []byte) error {
	return &apiError{status: fasthttp.StatusNotFound, message: "no such endpoint", details: string(path), err: ErrRoute}
}
