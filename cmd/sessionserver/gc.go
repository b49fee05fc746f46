package main

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// gcPercent is the garbage collector's target when GOGC is not set. At
// Go's default of 100 the heap of a fresh server is small (tens of MB)
// while every write allocates, so collections come every second or two,
// and during each one requests that allocate wait on mark assists: wrk
// -t2 -c64 on page tracks gave p99 64 ms and max 127 ms at GOGC=100,
// 8.3 ms and 20.6 ms at 400, for the same throughput (32.6-33.6k req/s;
// -fsync no, same machine, one run each).
//
// That headroom, four times the live heap, is what a small heap needs and
// a large one cannot afford: at 1.3M sessions the process held 3.6 GB
// resident for 0.8 GB of live heap, and a container limit counts the
// resident memory. So, unless GOMEMLIMIT is set, the soft memory limit
// follows the live heap (followHeap): twice the live heap less a tenth
// (the runtime's own memory and what the scavenger has yet to return sit
// on top of the heap), and never under the live heap plus gcFloor, so
// that a small heap keeps its headroom; the collector then runs, and the
// scavenger returns memory, as the process nears it.
const (
	gcPercent = 400
	gcFloor   = 256 << 20
)

// memoryLimitFor is the soft limit for a live heap of live bytes, at most
// ceiling (the process's share of the machine).
func memoryLimitFor(live, ceiling int64) int64 {
	return min(max(live*19/10, live+gcFloor), ceiling)
}

// followHeap sets the soft memory limit from the live heap (read every
// second) until ctx ends.
func followHeap(ctx context.Context, ceiling int64, logger *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := int64(0)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		// In steps of a twentieth, so that a heap of one size does not
		// set it every second.
		want := memoryLimitFor(int64(sample[0].Value.Uint64()), ceiling)
		if d := want - current; d > want/20 || -d > want/20 {
			debug.SetMemoryLimit(want)
			logger.Debug("memory limit follows the live heap", "live_bytes", sample[0].Value.Uint64(), "limit", want)
			current = want
		}
	}
}

// tuneGC sets the collector's defaults for a server that keeps its state
// in memory, unless GOGC or GOMEMLIMIT say otherwise: a target of
// gcPercent, and a soft limit of half the memory the process may use
// (the machine's, or its cgroup's if lower), so that a large heap is
// collected more often rather than growing to five times its live size.
// It returns that limit when followHeap is to lower it to what the live
// heap needs (0: GOMEMLIMIT is set, or the memory is unknown).
func tuneGC(lookup func(string) (string, bool), logger *slog.Logger) (ceiling int64) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := lookup("GOMEMLIMIT"); set {
		return 0
	}
	if total := memoryAvailable(); total > 0 {
		debug.SetMemoryLimit(total / 2)
		logger.Debug("garbage collector tuned", "gogc", gcPercent, "memory_limit", total/2)
		return total / 2
	}
	return 0
}

// memoryAvailable is the memory the process may use: MemTotal, or the
// cgroup's limit if lower; 0 when unknown.
func memoryAvailable() int64 {
	total := int64(0)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		total = memTotal(b)
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
				total = n // "max" (no limit) does not parse
			}
		}
	}
	return total
}

// memTotal reads MemTotal from /proc/meminfo's text, in bytes; 0 if absent.
func memTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "MemTotal:" && f[2] == "kB" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 {
				return kb * 1024
			}
		}
	}
	return 0
}
