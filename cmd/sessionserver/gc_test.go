package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestMemTotal(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"MemTotal:       24584444 kB\nMemFree:  1 kB\n", 24584444 * 1024},
		{"MemFree:  1 kB\nMemTotal: 2048 kB\n", 2048 * 1024},
		{"MemTotal: 2048 MB\n", 0},
		{"MemTotal: x kB\n", 0},
		{"MemTotal: -5 kB\n", 0},
		{"", 0},
	} {
		if got := memTotal([]byte(c.in)); got != c.want {
			t.Errorf("memTotal(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestTuneGC: the defaults apply only where GOGC and GOMEMLIMIT are unset.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	logger := slog.New(slog.DiscardHandler)

	debug.SetGCPercent(100)
	tuneGC(envMap(map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}), logger)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set: percent %d, want 100 kept", got)
	}

	tuneGC(envMap(nil), logger)
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("GOGC unset: percent %d, want %d", got, gcPercent)
	}
	if total := memoryAvailable(); total > 0 {
		if got := debug.SetMemoryLimit(-1); got != total/2 {
			t.Fatalf("GOMEMLIMIT unset: limit %d, want %d", got, total/2)
		}
	}
}

// TestAtLeastTwoProcs: on one CPU the server takes a second P (see
// atLeastTwoProcs); with more it leaves GOMAXPROCS alone.
func TestAtLeastTwoProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	logger := slog.New(slog.DiscardHandler)
	atLeastTwoProcs(logger)
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("GOMAXPROCS %d after atLeastTwoProcs on one, want 2", n)
	}
	runtime.GOMAXPROCS(3)
	atLeastTwoProcs(logger)
	if n := runtime.GOMAXPROCS(0); n != 3 {
		t.Fatalf("GOMAXPROCS %d after atLeastTwoProcs on three, want 3", n)
	}
}
