package http

import (
	"math"
	"sync"
	"time"
)

// rateLimiter is a token bucket per client address: rate tokens a second,
// a burst of max(1, rate). Buckets idle long enough to be full again are
// dropped when the table grows, so the table stays bounded by the number
// of addresses active in the last few seconds.
type rateLimiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: math.Max(1, rate), now: now, buckets: make(map[string]*bucket)}
}

// allow takes a token for addr; when there is none it returns the whole
// seconds to wait.
func (l *rateLimiter) allow(addr string) (retryAfter int, ok bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[addr]
	if b == nil {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[addr] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return int(math.Ceil((1 - b.tokens) / l.rate)), false
}

func (l *rateLimiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	if now.Sub(l.swept) < max(full, time.Second) {
		return
	}
	l.swept = now
	for addr, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, addr)
		}
	}
}
