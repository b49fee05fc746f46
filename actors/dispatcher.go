package actors

import "sync"

// ownGoroutine is a protoactor Dispatcher that runs one mailbox on one
// long-lived goroutine. The default dispatcher starts a goroutine each
// time an idle mailbox gets a message; an aggregator fed by every write
// goes idle and back thousands of times a second, and each new goroutine
// also grows its stack again. A mailbox schedules itself only while idle,
// so at most one function waits here at a time.
type ownGoroutine struct {
	work chan func()
	stop <-chan struct{}
}

func newOwnGoroutine(stop <-chan struct{}, wg *sync.WaitGroup) *ownGoroutine {
	d := &ownGoroutine{work: make(chan func(), 1), stop: stop}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case fn := <-d.work:
				fn()
			case <-d.stop:
				return
			}
		}
	}()
	return d
}

// Schedule implements actor.Dispatcher. After the engine stops, fn is
// dropped.
func (d *ownGoroutine) Schedule(fn func()) {
	select {
	case d.work <- fn:
	case <-d.stop:
	}
}

// Throughput implements actor.Dispatcher: messages between yields.
func (d *ownGoroutine) Throughput() int { return 300 }
