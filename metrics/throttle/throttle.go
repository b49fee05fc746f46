// Package throttle keeps repeated warnings on hot paths from flooding the
// log: each key is logged at most once per interval, and the next line
// says how many were held back.
//
//	warn := throttle.New(logger, 10*time.Second, time.Now)
//	warn.Warn("log-write", "request failed", "err", err) // once per 10 s, then "suppressed"=N
package throttle

import (
	"log/slog"
	"sync"
	"time"
)

// Logger throttles warnings by key. Safe for concurrent use.
type Logger struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	keys map[string]*state
}

type state struct {
	last       time.Time
	suppressed int
}

// New returns a Logger writing to log at most once per interval per key.
func New(log *slog.Logger, interval time.Duration, now func() time.Time) *Logger {
	if now == nil {
		now = time.Now
	}
	return &Logger{log: log, interval: interval, now: now, keys: make(map[string]*state)}
}

// Warn logs msg at warn level unless key was logged less than an interval
// ago; it reports whether the line was written.
func (l *Logger) Warn(key, msg string, args ...any) bool {
	now := l.now()
	l.mu.Lock()
	st := l.keys[key]
	if st == nil {
		st = &state{}
		l.keys[key] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < l.interval {
		st.suppressed++
		l.mu.Unlock()
		return false
	}
	held := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	l.log.Warn(msg, args...)
	return true
}
