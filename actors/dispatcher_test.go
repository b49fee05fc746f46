package actors

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWorkerPoolBoundsAndQueues: with every worker busy, functions wait
// in order and run as workers come free; never more than max run at once.
func TestWorkerPoolBoundsAndQueues(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	p := newWorkerPool(2, time.Hour, stop, &wg)
	release, hold := make(chan struct{}), make(chan struct{})
	var inside, most atomic.Int64
	var mu sync.Mutex
	var order []int
	for i := range 6 {
		p.Schedule(func() {
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			switch i { // the first two hold both workers
			case 0:
				<-release
			case 1:
				<-hold
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			inside.Add(-1)
		})
	}
	if w := p.workers(); w != 2 {
		t.Fatalf("%d workers, want 2", w)
	}
	done := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(order) == n }
	}
	close(release) // one worker runs the queue, in order
	eventually(t, 5*time.Second, done(5))
	close(hold)
	eventually(t, 5*time.Second, done(6))
	if want := []int{0, 2, 3, 4, 5, 1}; !slices.Equal(order, want) {
		t.Fatalf("ran in the order %v, want %v", order, want)
	}
	if most.Load() > 2 {
		t.Fatalf("%d ran at once, max 2", most.Load())
	}
	close(stop)
	wg.Wait()
}

// TestWorkerPoolReapsIdleWorkers: workers that were not needed for a
// whole period exit; the pool then starts new ones on demand.
func TestWorkerPoolReapsIdleWorkers(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	p := newWorkerPool(8, 10*time.Millisecond, stop, &wg)
	for range 3 {
		var ran sync.WaitGroup
		for range 100 {
			ran.Add(1)
			p.Schedule(ran.Done)
		}
		ran.Wait()
		eventually(t, 5*time.Second, func() bool { return p.workers() == 0 })
	}
	close(stop)
	wg.Wait()
	p.Schedule(func() { t.Error("ran after the stop") })
	if w := p.workers(); w != 0 {
		t.Fatalf("%d workers after the stop", w)
	}
}
