package http

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sessionserver/sessionserver/http/auth"
)

// writeImportBody writes an export of sessions ended sessions (start,
// pause, resume, end; a second apart) and tracks page tracks (of 1,000
// users and 500 pages, every apart) to a file, and returns its path and
// size.
func writeImportBody(b *testing.B, sessions, tracks int, every time.Duration) (string, int64) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "export.ndjson")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, `{"type":"header","format":"sessionserver-export","version":1,"app":"shop","user":null,"from":null,"to":null,"exported_at":"2025-01-01T00:00:00.000Z"}`)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	var buf []byte
	line := func(b []byte) { _, _ = w.Write(append(b, '\n')) }
	for i := range sessions {
		at := base + int64(i)*1000
		buf = append(buf[:0], `{"type":"session","session_id":"`...)
		buf = append(buf, uuid.NewString()...)
		buf = append(buf, fmt.Sprintf(`","user":"u%d","status":"ended","events":[`, i%1000)...)
		for j, typ := range []string{"start", "pause", "resume", "end"} {
			buf = appendEvent(buf, j == 0, typ, at+int64(j)*100)
		}
		line(append(buf, ']', '}'))
	}
	for i := range tracks {
		buf = append(buf[:0], fmt.Sprintf(`{"type":"page_track","user":"u%d","page":"/p%d","timespent":1.5,"timestamp":`, i%1000, i%500)...)
		buf = appendStamp(buf, base+int64(i)*every.Milliseconds())
		line(append(buf, '}'))
	}
	fmt.Fprintf(w, `{"type":"end","sessions":%d,"page_tracks":%d}`+"\n", sessions, tracks)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return path, st.Size()
}

// BenchmarkE2EImport streams an export of 100,000 ended sessions (start,
// pause, resume, end) and 400,000 page tracks from a file to POST
// /api/import over loopback TCP, each run into an app of its own, and
// reports records (sessions + page tracks) per second and the live heap
// (as collections find it, sampled every 10 ms): its peak above what it
// was before, and what the import added to it (the imported state). Then
// it imports the same file again, all of it skipped, for its speed, and
// once more under frequent collections, for the live heap's peak then:
// what an import holds beside the state (its ordinal map, its batches
// and buffers), not the body.
//
// Each run in a process of its own (with -count, the heap of the run
// before may be freed during the next one's figures):
//
//	go test -run '^$' -bench 'E2EImport/every-10s' -benchtime 1x ./http/
func BenchmarkE2EImport(b *testing.B) {
	const sessions, tracks = 100_000, 400_000
	// 100ms: 9,000 page tracks in each 15-minute bucket, as in
	// BenchmarkE2EExport; 10s: 90.
	for _, every := range []time.Duration{100 * time.Millisecond, 10 * time.Second} {
		b.Run("every-"+every.String(), func(b *testing.B) { benchImport(b, sessions, tracks, every) })
	}
}

func benchImport(b *testing.B, sessions, tracks int, every time.Duration) {
	path, size := writeImportBody(b, sessions, tracks, every)
	srv, _, _ := benchServer(b)
	tok, err := auth.Sign([]byte("bench-secret"), "ops", "", "admin", time.Hour, time.Now()) // every app
	if err != nil {
		b.Fatal(err)
	}
	url := serveLoopback(b, srv) + "/api/import?app="
	// post imports the file into app and checks the answer's counts.
	post := func(app, counts string) {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		req, _ := http.NewRequest("POST", url+app, f)
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(answer), counts) {
			b.Fatalf("import: %d %s", resp.StatusCode, answer)
		}
	}
	var peak, grown, skipPeak float64
	var skipTime time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		app := fmt.Sprintf("shop%d", i)
		b.StopTimer()
		before := liveHeap(true)
		stop := sampleLiveHeap(false)
		b.StartTimer()
		post(app, fmt.Sprintf(`"sessions":%d,"sessions_skipped":0,"page_tracks":%d,"page_tracks_skipped":0`, sessions, tracks))
		b.StopTimer()
		peak += float64(stop()) - float64(before)
		after := liveHeap(true)
		grown += float64(after) - float64(before)
		// The same file again: everything skipped, nothing kept; timed,
		// then measured with a collection every 20 ms.
		skipped := fmt.Sprintf(`"sessions":0,"sessions_skipped":%d,"page_tracks":0,"page_tracks_skipped":%d`, sessions, tracks)
		began := time.Now()
		post(app, skipped)
		skipTime += time.Since(began)
		stop = sampleLiveHeap(true)
		post(app, skipped)
		skipPeak += float64(stop()) - float64(after)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(sessions+tracks)*n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(size)/(1<<20), "body-MB")
	b.ReportMetric(grown/n/(1<<20), "state-MB")
	b.ReportMetric(peak/n/(1<<20), "peak-live-MB")
	b.ReportMetric(float64(sessions+tracks)*n/skipTime.Seconds(), "reimport-records/s")
	b.ReportMetric(skipPeak/n/(1<<20), "reimport-peak-live-MB")
}

// liveHeap is the heap the last collection found live (after one now
// when gc is set).
func liveHeap(gc bool) uint64 {
	if gc {
		runtime.GC()
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sampleLiveHeap samples liveHeap every 10 ms (with a collection every
// 20 ms when gc is set) until the function it returns is called, which
// returns the highest sample: the most the heap held live at a
// collection meanwhile.
func sampleLiveHeap(gc bool) func() uint64 {
	var top atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			if h := liveHeap(gc && i%2 == 0); h > top.Load() {
				top.Store(h)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return max(top.Load(), liveHeap(true))
	}
}
