package actors

import (
	"sync"
	"time"
)

// workerPool is the protoactor Dispatcher of every aggregator: a mailbox
// with work runs on one of at most max shared goroutines, and an idle
// mailbox has none. The default dispatcher starts a goroutine each time
// an idle mailbox gets a message: an aggregator fed by every write goes
// idle and back thousands of times a second, and each new goroutine also
// grows its stack again. A goroutine of its own per aggregator avoided
// that but cost every app a goroutine (about 8 KB with its stack) for as
// long as the server ran, so that 20,000 apps made by public page tracks
// held 20,000 goroutines. Here a worker, once its mailbox is empty, waits
// for the next mailbox to run; a busy server keeps its warm workers (a
// hand-off on a channel, as before). Every linger period, the workers
// that were not needed during the whole period (the fewest that were
// idle at any moment of it) exit, the longest waiting first: an idle
// server keeps none, and a burst (the idle sweep visits every app) does
// not keep the workers it woke up for longer than a period or two.
//
// A mailbox schedules itself only while idle, so each aggregator has at
// most one function here at a time: the queue of functions waiting for a
// worker (all max busy) holds at most one per app. Aggregators never
// wait for one another, so a bounded pool cannot deadlock; a slow read
// holds one worker, not the others.
type workerPool struct {
	stop   <-chan struct{}
	wg     *sync.WaitGroup
	linger time.Duration

	mu      sync.Mutex
	max     int       // most workers at once
	running int       // workers alive
	idle    []*worker // waiting for work, the longest waiting first
	minIdle int       // the fewest idle workers since the last reap
	queue   []func()  // waiting for a worker
	closed  bool      // the engine stopped: nothing more is run
}

type worker struct {
	work chan func() // a function to run; nil: exit
}

// aggregatorWorkers is the most goroutines the aggregators run on at
// once. Their work is CPU only, so more than the cores helps only to
// keep a small app's write from waiting behind slow reads of big apps.
const aggregatorWorkers = 64

// workerLinger is the period after which the workers not needed during
// it exit.
const workerLinger = time.Second

func newWorkerPool(max int, linger time.Duration, stop <-chan struct{}, wg *sync.WaitGroup) *workerPool {
	p := &workerPool{stop: stop, wg: wg, linger: linger, max: max}
	wg.Add(1)
	go p.reap()
	return p
}

// Schedule implements actor.Dispatcher. After the engine stops, fn is
// dropped.
func (p *workerPool) Schedule(fn func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	if n := len(p.idle); n > 0 {
		// The worker that waited least: its stack and caches are warm.
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.minIdle = min(p.minIdle, n-1)
		p.mu.Unlock()
		w.work <- fn // never blocks: an idle worker's channel is empty
		return
	}
	if p.running < p.max {
		p.running++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.run(fn)
		return
	}
	p.queue = append(p.queue, fn)
	p.mu.Unlock()
}

// Throughput implements actor.Dispatcher: messages between yields.
func (p *workerPool) Throughput() int { return 300 }

// run is one worker: it runs fn, then what is queued, then waits.
func (p *workerPool) run(fn func()) {
	defer p.wg.Done()
	w := &worker{work: make(chan func(), 1)}
	for {
		fn()
		select {
		case <-p.stop: // what is queued is dropped, as Schedule drops
			return
		default:
		}
		p.mu.Lock()
		if len(p.queue) > 0 {
			fn = p.queue[0]
			p.queue[0] = nil
			if p.queue = p.queue[1:]; len(p.queue) == 0 {
				p.queue = nil // let the array go; a burst may have grown it
			}
			p.mu.Unlock()
			continue
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		select {
		case fn = <-w.work:
			if fn == nil { // reaped: running already counts it out
				return
			}
		case <-p.stop:
			return
		}
	}
}

// reap ends, every linger period, as many workers as stayed idle during
// all of it, the longest waiting first.
func (p *workerPool) reap() {
	defer p.wg.Done()
	t := time.NewTicker(p.linger)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			// Set before this goroutine leaves the WaitGroup, so that no
			// Schedule adds a worker to it after the engine's Wait.
			p.mu.Lock()
			p.closed = true
			p.mu.Unlock()
			return
		case <-t.C:
		}
		p.mu.Lock()
		n, old := min(p.minIdle, len(p.idle)), len(p.idle)
		for _, w := range p.idle[:n] {
			w.work <- nil // never blocks: an idle worker's channel is empty
		}
		if n > 0 {
			p.running -= n
			p.idle = append(p.idle[:0], p.idle[n:]...)
			clear(p.idle[len(p.idle):old])
		}
		p.minIdle = len(p.idle)
		p.mu.Unlock()
	}
}

// workers returns the number of workers alive (for tests).
func (p *workerPool) workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running
}
