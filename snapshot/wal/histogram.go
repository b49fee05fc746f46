package wal

import "sync/atomic"

// Histogram is a snapshot of one of the log's histograms: Counts[i] is how
// many observations were <= Bounds[i] (cumulative), Count all of them.
type Histogram struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// maxBounds is the most bounds a buckets may have.
const maxBounds = 15

// buckets counts observations by upper bound without locks.
type buckets struct {
	bounds []float64                    // ascending, at most maxBounds
	n      [maxBounds + 1]atomic.Uint64 // n[len(bounds)]: above every bound
}

// newFsyncBuckets: fsync seconds, 100 µs to 2.5 s.
func newFsyncBuckets() *buckets {
	return &buckets{bounds: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}}
}

// newBatchBuckets: records per batch, 1 to 1024.
func newBatchBuckets() *buckets {
	return &buckets{bounds: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}}
}

func (h *buckets) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.n[i].Add(1)
}

// snapshot returns the cumulative counts with sum, which the caller keeps.
func (h *buckets) snapshot(sum float64) Histogram {
	out := Histogram{Bounds: append([]float64(nil), h.bounds...), Counts: make([]uint64, len(h.bounds)), Sum: sum}
	for i := 0; i <= len(h.bounds); i++ {
		out.Count += h.n[i].Load()
		if i < len(h.bounds) {
			out.Counts[i] = out.Count
		}
	}
	return out
}
