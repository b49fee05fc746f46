package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCacheFollowsTime walks one token through times before, inside and
// after its window and checks the cached verifier answers like the uncached one.
func TestCacheFollowsTime(t *testing.T) {
	tok := hs(t, claimsWith("nbf", t0.Unix()))
	cached := hsVerifier(t)()
	plain := hsVerifier(t)()
	plain.cache = nil
	steps := []struct {
		at      time.Duration // from t0
		want    string
		entries int // cached tokens after the call
	}{
		{0, "", 1},
		{-Leeway - time.Second, "not valid yet", 1}, // entry kept: it may be valid later
		{time.Minute, "", 1},
		{time.Hour + Leeway, "token expired", 0}, // entry dropped
		{time.Hour - time.Second, "", 1},
		{time.Hour + Leeway - time.Nanosecond, "", 1},
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		_, err := cached.Verify(tok, now)
		wantErr(t, err, s.want)
		_, err = plain.Verify(tok, now)
		wantErr(t, err, s.want)
		if n := cached.cache.len(); n != s.entries {
			t.Fatalf("at t0%+v: %d cache entries, want %d", s.at, n, s.entries)
		}
	}
}

func TestCacheStoresOnlyGoodShortTokens(t *testing.T) {
	v := hsVerifier(t)()
	tests := []struct {
		name string
		tok  []byte
	}{
		{"bad signature", nonCanonical(hs(t, baseClaims()))},
		{"expired", hs(t, claimsWith("exp", t0.Unix()-3600))},
		{"long", hs(t, claimsWith("pad", strings.Repeat("p", maxCachedToken)))},
	}
	for _, tt := range tests {
		_, _ = v.Verify(tt.tok, t0)
		if n := v.cache.len(); n != 0 {
			t.Fatalf("%s: %d cache entries, want 0", tt.name, n)
		}
	}
}

func TestCacheBounded(t *testing.T) {
	v := hsVerifier(t)()
	const capacity = 4 * cacheShards
	v.cache = newCache(capacity)
	for i := range 50 * capacity {
		tok := hs(t, claimsWith("sub", fmt.Sprint("user", i)))
		if _, err := v.Verify(tok, t0); err != nil {
			t.Fatal(err)
		}
		if n := v.cache.len(); n > capacity {
			t.Fatalf("after %d tokens: %d entries, capacity %d", i+1, n, capacity)
		}
	}
}

func TestCacheEvictsExpiredFirst(t *testing.T) {
	c := newCache(cacheShards) // one entry per shard
	s := &c.shards[0]
	stale := entry{window: window{until: t0.Add(-time.Second)}}
	fresh := entry{window: window{until: t0.Add(time.Hour)}}
	s.m["stale"] = stale
	s.evict(t0)
	if len(s.m) != 0 {
		t.Fatalf("stale entry kept: %v", s.m)
	}
	for i := range evictProbes - 1 {
		s.m[fmt.Sprint("fresh", i)] = fresh
	}
	s.m["stale"] = stale
	s.evict(t0)
	if _, ok := s.m["stale"]; ok || len(s.m) != evictProbes-1 {
		t.Fatalf("evict dropped a fresh entry and kept the stale one: %d left", len(s.m))
	}
}

// TestVerifyConcurrent is for -race: many goroutines share one Verifier and
// its cache, with tokens coming and going.
func TestVerifyConcurrent(t *testing.T) {
	v := hsVerifier(t)()
	v.cache = newCache(2 * cacheShards)
	toks := make([][]byte, 64)
	for i := range toks {
		toks[i] = hs(t, claimsWith("sub", fmt.Sprint("user", i)))
	}
	bad := nonCanonical(toks[0])
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				n := (g*7 + i) % len(toks)
				c, err := v.Verify(toks[n], t0)
				if err != nil || c.Subject != fmt.Sprint("user", n) || c.Raw["sub"] != c.Subject {
					errs <- fmt.Errorf("token %d: %+v, %v", n, c, err)
					return
				}
				if _, err := v.Verify(bad, t0); err == nil {
					errs <- fmt.Errorf("bad token verified")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
