package main

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// gcPercent is the garbage collector's target when GOGC is not set. At
// Go's default of 100 the heap of a fresh server is small (tens of MB)
// while every write allocates, so collections come every second or two,
// and during each one requests that allocate wait on mark assists: wrk
// -t2 -c64 on page tracks gave p99 64 ms and max 127 ms at GOGC=100,
// 8.3 ms and 20.6 ms at 400, for the same throughput (32.6-33.6k req/s;
// -fsync no, same machine, one run each).
const gcPercent = 400

// tuneGC sets the collector's defaults for a server that keeps its state
// in memory, unless GOGC or GOMEMLIMIT say otherwise: a target of
// gcPercent, and a soft limit of half the memory the process may use
// (the machine's, or its cgroup's if lower), so that a large heap is
// collected more often rather than growing to five times its live size.
func tuneGC(lookup func(string) (string, bool), logger *slog.Logger) {
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	if _, set := lookup("GOMEMLIMIT"); set {
		return
	}
	if total := memoryAvailable(); total > 0 {
		debug.SetMemoryLimit(total / 2)
		logger.Debug("garbage collector tuned", "gogc", gcPercent, "memory_limit", total/2)
	}
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
