package actors

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/sessionserver/sessionserver/actors/analytics"
)

// BenchmarkTrackPage is the engine's page-track ingest from parallel
// callers (the HTTP handlers), into one app, ten, or a thousand, until
// the aggregators have applied every track: the hand-off to the
// aggregators' goroutines is in it.
//
//	go test -run '^$' -bench TrackPage -cpu 2,8 ./actors/
func BenchmarkTrackPage(b *testing.B) {
	for _, apps := range []int{1, 10, 1000} {
		b.Run(fmt.Sprint("apps=", apps), func(b *testing.B) {
			e := New(Config{})
			defer e.Close()
			names := make([]string, apps)
			for i := range names {
				names[i] = "app" + strconv.Itoa(i)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					if err := e.TrackPage(names[i%int64(apps)], "ann", "/", i, 1000); err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, name := range names { // read-your-writes: all applied
				if _, err := e.Pages(name, analytics.Query{Range: analytics.All()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
