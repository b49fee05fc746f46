package http

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionserver/sessionserver/actors/event"
)

// BenchmarkE2EExport streams the NDJSON export of an app of 100,000
// ended sessions (start, pause, resume, end) and 500,000 page tracks over
// loopback TCP, and reports records (sessions + page tracks) per second
// and the bytes per record. The engine is filled directly, without HTTP.
func BenchmarkE2EExport(b *testing.B) {
	const sessions, tracks = 100_000, 500_000
	srv, eng, tok := benchServer(b)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := range sessions {
		user, at := fmt.Sprintf("u%d", i%1000), base+int64(i)*1000
		st, err := eng.Start("shop", user, at)
		if err != nil {
			b.Fatal(err)
		}
		for j, k := range []event.Kind{event.Pause, event.Resume, event.End} {
			if _, err := eng.Transition(k, "shop", user, st.ID, at+int64(j+1)*100, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range tracks {
		if err := eng.TrackPage("shop", fmt.Sprintf("u%d", i%1000), fmt.Sprintf("/p%d", i%500), base+int64(i)*100, 1500); err != nil {
			b.Fatal(err)
		}
	}
	url := serveLoopback(b, srv) + "/api/export"
	var bytes int64
	b.ResetTimer()
	for range b.N {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"app":"shop"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		lines := 0
		for sc.Scan() {
			lines++
			bytes += int64(len(sc.Bytes()) + 1)
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil || lines != sessions+tracks+2 {
			b.Fatalf("%d lines (%v), want %d", lines, err, sessions+tracks+2)
		}
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(sessions+tracks)*float64(b.N)/secs, "records/s")
	b.ReportMetric(float64(bytes)/float64(b.N)/float64(sessions+tracks), "B/record")
}

// serveLoopback serves srv on a free loopback port until the benchmark
// ends and returns its base URL.
func serveLoopback(b *testing.B, srv *Server) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}
