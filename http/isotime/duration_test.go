package isotime

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := []struct {
		in   string
		want time.Duration
	}{
		{"90d", 90 * 24 * time.Hour},
		{"0d", 0},
		{"0", 0},
		{"30s", 30 * time.Second},
		{"2160h", 2160 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"106751d", 106751 * 24 * time.Hour},
	}
	for _, tt := range good {
		if got, err := ParseDuration(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "+1d", "1.5d", "106752d", "-5s", "5", "ninety days", "1d2h"} {
		if _, err := ParseDuration(in); !errors.Is(err, ErrDuration) {
			t.Errorf("ParseDuration(%q): err %v, want ErrDuration", in, err)
		}
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "30s", "-1d", "1h30m", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil && !errors.Is(err, ErrDuration) {
			t.Fatalf("%q: %v", s, err)
		}
		if err == nil && d < 0 {
			t.Fatalf("%q: negative %v", s, d)
		}
	})
}
