package isotime

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestZonesLoad(t *testing.T) {
	var z Zones
	for _, tt := range []struct{ name, want string }{
		{"", "UTC"},
		{"UTC", "UTC"},
		{"Europe/Berlin", "Europe/Berlin"},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
		{"America/Port-au-Prince", "America/Port-au-Prince"},
		{"Etc/GMT+5", "Etc/GMT+5"},
		{"Asia/Kathmandu", "Asia/Kathmandu"},
	} {
		loc, err := z.Load(tt.name)
		if err != nil || loc.String() != tt.want {
			t.Errorf("Load(%q) = %v, %v; want %s", tt.name, loc, err, tt.want)
		}
	}
	if loc, _ := z.Load(""); loc != time.UTC {
		t.Errorf(`Load("") is not time.UTC`)
	}
	a, _ := z.Load("Europe/Berlin")
	b, _ := z.Load(strings.Clone("Europe/Berlin"))
	if a != b {
		t.Errorf("second Load did not come from the cache")
	}
}

func TestZonesRefuse(t *testing.T) {
	var z Zones
	for _, tt := range []struct{ name, reason string }{
		{"Local", "not allowed"},
		{"Nowhere/Special", `"Nowhere/Special"`},
		{"europe/berlin_", `"europe/berlin_"`},
		{strings.Repeat("A", 65), "longer than 64 bytes"},
		{"../../etc/passwd", "etc/passwd"},
		{"Europe/../UTC", `"Europe/../UTC"`},
		{"/usr/share/zoneinfo/UTC", "zoneinfo"},
		{"Europe/Berlin\x00", "Europe/Berlin"},
		{"Europe\\Berlin", "Europe"},
		{"Europe/Berlin ", "Europe/Berlin"},
		{"Europe/Berlin.tmp", "Europe/Berlin"},
	} {
		loc, err := z.Load(tt.name)
		if !errors.Is(err, ErrZone) || loc != nil {
			t.Errorf("Load(%q) = %v, %v; want an ErrZone", tt.name, loc, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("Load(%q) error %q does not say %q", tt.name, err, tt.reason)
		}
	}
	n := 0
	z.m.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d refused names were cached", n)
	}
}

func TestZonesConcurrent(t *testing.T) {
	var z Zones
	names := []string{"Europe/Berlin", "America/New_York", "Pacific/Chatham", "Nope/Nope", "UTC"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				name := names[(g+i)%len(names)]
				loc, err := z.Load(name)
				if (err == nil) == (name == "Nope/Nope") || (err == nil && loc.String() != name) {
					t.Errorf("Load(%q) = %v, %v", name, loc, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkZonesLoad(b *testing.B) {
	var z Zones
	if _, err := z.Load("Europe/Berlin"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := z.Load("Europe/Berlin"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
