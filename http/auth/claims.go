package auth

import (
	"fmt"
	"math"
	"time"
)

// maxSeconds bounds numeric dates so that time arithmetic cannot overflow
// (2^53 s is about 285 million years).
const maxSeconds = 1 << 53

// Claims is what a verified token says about its bearer.
type Claims struct {
	Subject string         // "sub": the user, never empty
	App     string         // "app" claim, "" when absent
	HasApp  bool           // the token carries an "app" claim
	Admin   bool           // "role" is "admin"
	Raw     map[string]any // every claim as decoded (numbers are float64); read-only
}

// Authorize reports whether the token may act for user in app. It returns
// nil, or an error wrapping ErrForbidden with the reason.
//
// A token with an app claim acts only for that app. A user token acts only
// for its own Subject (so "" and "all" are refused); an admin token acts for
// any user.
func (c Claims) Authorize(app, user string) error {
	if c.HasApp && app != c.App {
		return fmt.Errorf("%w: token is for app %q", ErrForbidden, c.App)
	}
	if !c.Admin && user != c.Subject {
		return fmt.Errorf("%w: user token may only act for its own user", ErrForbidden)
	}
	return nil
}

// window is when a token is valid: notBefore <= now && issued <= now && now < until.
// Absent nbf or iat leave their bound at the zero time. Bounds include Leeway.
type window struct {
	notBefore time.Time
	issued    time.Time
	until     time.Time
}

// problem returns why the token is not valid at now, or "" when it is.
// It returns constant strings so that the cache's hit path does not allocate.
func (w window) problem(now time.Time) string {
	switch {
	case !now.Before(w.until):
		return "token expired"
	case now.Before(w.notBefore):
		return "token not valid yet (nbf)"
	case now.Before(w.issued):
		return "token issued in the future (iat)"
	}
	return ""
}

// checkClaims checks the claim types and returns the claims and window.
func checkClaims(raw map[string]any) (Claims, window, error) {
	c, err := identity(raw)
	if err != nil {
		return Claims{}, window{}, err
	}
	w, err := validity(raw)
	if err != nil {
		return Claims{}, window{}, err
	}
	return c, w, nil
}

// identity reads sub, app and role.
func identity(raw map[string]any) (Claims, error) {
	sub, ok := raw["sub"].(string)
	if !ok || sub == "" {
		return Claims{}, unauthorized(`claim "sub" must be a non-empty string`)
	}
	c := Claims{Subject: sub, Raw: raw}
	if v, ok := raw["app"]; ok {
		app, ok := v.(string)
		if !ok || app == "" {
			return Claims{}, unauthorized(`claim "app" must be a non-empty string`)
		}
		c.App, c.HasApp = app, true
	}
	if v, ok := raw["role"]; ok {
		switch v {
		case "user":
		case "admin":
			c.Admin = true
		default:
			return Claims{}, unauthorized(`claim "role" must be "user" or "admin"`)
		}
	}
	return c, nil
}

// validity reads exp (required), nbf and iat into a window.
func validity(raw map[string]any) (window, error) {
	exp, ok, err := numericDate(raw, "exp")
	if err != nil {
		return window{}, err
	}
	if !ok {
		return window{}, unauthorized(`claim "exp" is required`)
	}
	w := window{until: exp.Add(Leeway)}
	if nbf, ok, err := numericDate(raw, "nbf"); err != nil {
		return window{}, err
	} else if ok {
		w.notBefore = nbf.Add(-Leeway)
	}
	if iat, ok, err := numericDate(raw, "iat"); err != nil {
		return window{}, err
	} else if ok {
		w.issued = iat.Add(-Leeway)
	}
	return w, nil
}

// numericDate reads a JWT NumericDate (seconds since the epoch, fractions
// allowed). ok is false when the claim is absent.
func numericDate(raw map[string]any, name string) (t time.Time, ok bool, err error) {
	v, ok := raw[name]
	if !ok {
		return time.Time{}, false, nil
	}
	f, isNum := v.(float64)
	if !isNum || math.IsNaN(f) || f < -maxSeconds || f > maxSeconds {
		return time.Time{}, true, unauthorized(fmt.Sprintf("claim %q must be a number of seconds", name))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}
