package auth

import (
	"hash/maphash"
	"sync"
	"time"
)

const (
	cacheShards    = 16
	cacheCapacity  = 1 << 16 // tokens, over all shards
	maxCachedToken = 1 << 10 // longer tokens are verified every time
	evictProbes    = 8       // entries looked at to find an expired one
)

// cache remembers verified tokens by their exact bytes. A hit still has its
// window checked against the caller's now, so the cache never changes an
// answer; it only saves the parsing and the signature check.
//
// Only tokens that verified are stored, so a client without a valid token
// cannot fill it. It is bounded by entry count and token length; when a shard
// is full, an expired entry (or, failing that, a random one) makes room.
type cache struct {
	seed   maphash.Seed
	shards [cacheShards]shard
}

type shard struct {
	mu  sync.Mutex
	m   map[string]entry
	max int
	_   [40]byte // keep shards on separate cache lines
}

type entry struct {
	claims Claims
	window window
}

// newCache returns a cache for about capacity tokens (at least one per shard).
func newCache(capacity int) *cache {
	c := &cache{seed: maphash.MakeSeed()}
	perShard := max(1, capacity/cacheShards)
	for i := range c.shards {
		c.shards[i].m = make(map[string]entry)
		c.shards[i].max = perShard
	}
	return c
}

func (c *cache) shard(token []byte) *shard {
	return &c.shards[maphash.Bytes(c.seed, token)%cacheShards]
}

// get returns the claims of token if it is cached and valid at now.
// An entry found expired is dropped. A nil cache never hits.
func (c *cache) get(token []byte, now time.Time) (Claims, bool) {
	if c == nil || len(token) > maxCachedToken {
		return Claims{}, false
	}
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[string(token)]
	if !ok {
		return Claims{}, false
	}
	if e.window.problem(now) != "" {
		if !now.Before(e.window.until) {
			delete(s.m, string(token))
		}
		return Claims{}, false
	}
	return e.claims, true
}

// put stores a verified token; now is only used to find expired entries
// to evict, since validity is checked again on every get.
func (c *cache) put(token []byte, e entry, now time.Time) {
	if c == nil || len(token) > maxCachedToken {
		return
	}
	s := c.shard(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[string(token)]; !ok && len(s.m) >= s.max {
		s.evict(now)
	}
	s.m[string(token)] = e
}

// evict drops one entry: the first expired one among a few probed, else the
// first probed. Map iteration starts at a random place, so the choice is random.
func (s *shard) evict(now time.Time) {
	var victim string
	n := 0
	for k, e := range s.m {
		if n == 0 {
			victim = k
		}
		if !now.Before(e.window.until) {
			victim = k
			break
		}
		if n++; n == evictProbes {
			break
		}
	}
	delete(s.m, victim)
}

// len returns the number of cached tokens (for tests).
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
