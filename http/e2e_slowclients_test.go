package http_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sshttp "github.com/sessionserver/sessionserver/http"
)

// slowConns opens n connections to addr from 127.0.0.1 and trickles a
// request head into each, a byte every interval, until ctx ends. It
// returns the connections (the caller reads what the server answered).
func slowConns(t *testing.T, ctx context.Context, addr string, n int, interval time.Duration) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("slow connection %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	head := "POST /api/pages/track HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 64)
	go func() {
		for i := 0; ctx.Err() == nil; i = (i + 1) % len(head) {
			for _, c := range conns {
				_ = c.SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
				_, _ = c.Write([]byte{head[i]})
			}
			select {
			case <-ctx.Done():
			case <-time.After(interval): // the trickle is the behaviour under test
			}
		}
	}()
	return conns
}

// fromOtherAddr is a client whose connections come from 127.0.0.2.
func fromOtherAddr() *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestE2ESlowClients is issue 10's finding 5: connections that trickle a
// header byte at a time from one address filled the connection cap, and
// every other client got fasthttp's plain-text 503 for about 30 s. Now
// one address holds at most MaxConnsPerIP connections (beyond: 429 in the
// envelope with Retry-After), a head must arrive within HeadTimeout (408
// in the envelope), and a client on another address is answered normally
// throughout. SLOWCLIENTS=16384 runs it with 16k slow connections and the
// default per-address limit.
func TestE2ESlowClients(t *testing.T) {
	n, perIP := 600, 100
	if s := os.Getenv("SLOWCLIENTS"); s != "" {
		n, _ = strconv.Atoi(s)
		perIP = 0 // the default
	}
	ts := startServer(t, func(o *serverOptions) { o.http.MaxConnsPerIP = perIP; o.realClock = true })
	if perIP == 0 {
		perIP = sshttp.DefaultMaxConnsPerIP
	}
	addr := strings.TrimPrefix(ts.URL, "http://")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	began := time.Now()
	quiet, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	conns := slowConns(t, ctx, addr, n, 200*time.Millisecond)

	// The refused ones are answered at once: 429 in the envelope (or, past
	// the refusals the server answers at once, closed).
	var answered, closed, timedOut int
	var trickling []net.Conn
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			mu.Lock()
			defer mu.Unlock()
			if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
				trickling = append(trickling, c) // admitted, still sending its head
				return
			}
			if err != nil {
				closed++
				return
			}
			body, _ := io.ReadAll(resp.Body)
			switch {
			case resp.StatusCode == 408: // admitted, its head took too long already
				timedOut++
			case resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), `"status":"error"`):
				t.Errorf("refused connection: %d %v %s", resp.StatusCode, resp.Header, body)
			default:
				answered++
			}
		}()
	}
	wg.Wait()
	t.Logf("%d slow connections: %d refused with 429, %d closed unanswered, %d admitted (%d already 408)", n, answered, closed, len(trickling)+timedOut, timedOut)
	if got, want := answered+closed, n-perIP; got != want {
		t.Errorf("%d connections refused, want %d (%d opened, %d per address)", got, want, n, perIP)
	}
	if n <= 1000 && closed > 0 {
		t.Errorf("%d refused connections closed without an answer", closed)
	}

	// Another address is answered normally, and at once.
	other := fromOtherAddr()
	for i := range 20 {
		t0 := time.Now()
		resp, err := other.Post(ts.URL+"/api/pages/track", "application/json",
			strings.NewReader(`{"app":"slow","user":"u","page":"/p","timespent":1}`))
		if err != nil {
			t.Fatalf("request %d from 127.0.0.2: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d from 127.0.0.2: %d", i, resp.StatusCode)
		}
		if i == 0 {
			t.Logf("first request from 127.0.0.2 beside %d slow connections: %v", n, time.Since(t0))
		}
	}

	// A connection that sends nothing is closed after HeadTimeout, unanswered.
	_ = quiet.SetReadDeadline(time.Now().Add(sshttp.HeadTimeout + 10*time.Second))
	if b, err := io.ReadAll(quiet); err != nil || len(b) > 0 {
		t.Errorf("a silent connection got %q, %v; want it closed unanswered", b, err)
	}

	// The admitted slow ones get 408 in the envelope once their head has
	// taken HeadTimeout.
	if len(trickling) == 0 {
		return // all answered 408 while the 16k connections were opened
	}
	c := trickling[0]
	_ = c.SetReadDeadline(time.Now().Add(sshttp.HeadTimeout + 10*time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("a trickled head got no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 408 || !strings.Contains(string(body), `"details":"timeout"`) {
		t.Fatalf("trickled head: %d %s", resp.StatusCode, body)
	}
	t.Logf("trickled head answered 408 after %v", time.Since(began))
}
