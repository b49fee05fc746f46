package http

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConnsPerIP is the most connections one client address may
// hold open when none is configured. It is far above what one browser
// opens (6 per host) and leaves room for a few NATs and proxies, while a
// single address can take at most 1/16 of the server's DefaultMaxConns.
// Behind a reverse proxy, every connection comes from the proxy's
// address: raise it there (-max-conns-per-ip), or 0 for no limit.
const DefaultMaxConnsPerIP = 1024

// HeadTimeout is how long a request's head (request line and headers) may
// take from its first byte (or from the connection's opening for the
// first request); the body then gets BodyTimeout. A client trickling its
// head a byte at a time holds its connection for this long at most.
const (
	HeadTimeout = 5 * time.Second
	BodyTimeout = 30 * time.Second
)

// maxRefusing bounds the connections being refused at once (each one is
// answered, then drained for up to refuseLinger so that the client reads
// the answer instead of a reset); beyond it a refused connection is
// closed at once.
const (
	maxRefusing  = 4096
	refuseLinger = 250 * time.Millisecond
)

// limitListener admits a connection only while its address holds fewer
// than perIP and the server fewer than total; any other is answered in
// the envelope with Retry-After and closed, without reaching fasthttp
// (whose own refusals are plain text).
type limitListener struct {
	net.Listener
	perIP, total int // perIP <= 0: no per-address limit

	mu   sync.Mutex
	byIP map[netip.Addr]int
	open int

	refusing chan struct{}
}

func newLimitListener(ln net.Listener, perIP, total int) *limitListener {
	return &limitListener{Listener: ln, perIP: perIP, total: total, byIP: make(map[netip.Addr]int), refusing: make(chan struct{}, maxRefusing)}
}

// Accept returns the next admitted connection.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c)
		switch l.admit(ip) {
		case admitted:
			return &limitedConn{Conn: c, l: l, ip: ip}, nil
		case overIP:
			l.refuse(c, refusalAnswer(429, "Too Many Requests", "too many open connections from this address; retry shortly"))
		case overTotal:
			l.refuse(c, refusalAnswer(503, "Service Unavailable", "the server is at its connection limit; retry shortly"))
		}
	}
}

type admission int

const (
	admitted admission = iota
	overIP
	overTotal
)

func (l *limitListener) admit(ip netip.Addr) admission {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.total:
		return overTotal
	case l.perIP > 0 && l.byIP[ip] >= l.perIP:
		return overIP
	}
	l.open++
	l.byIP[ip]++
	return admitted
}

func (l *limitListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if n := l.byIP[ip] - 1; n > 0 {
		l.byIP[ip] = n
	} else {
		delete(l.byIP, ip)
	}
}

// refuse writes answer on c and closes it, off the accept loop.
func (l *limitListener) refuse(c net.Conn, answer []byte) {
	select {
	case l.refusing <- struct{}{}:
	default:
		_ = c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(refuseLinger))
		if _, err := c.Write(answer); err != nil {
			return
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		buf := make([]byte, 512)
		for { // drain what the client sent until it closes or the linger ends
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
}

// refusalAnswer is a whole HTTP/1.1 answer in the envelope.
func refusalAnswer(code int, reason, message string) []byte {
	body := `{"status":"error","message":"` + message + `","details":"connections"}`
	return []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + reason + "\r\n" +
		"Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

func remoteIP(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// limitedConn gives its place back when closed, and knows whether its
// client ever sent a byte.
type limitedConn struct {
	net.Conn
	l    *limitListener
	ip   netip.Addr
	once sync.Once
	sent atomic.Bool
}

func (c *limitedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.sent.Load() {
		c.sent.Store(true)
	}
	return n, err
}

// silent reports whether c is a connection whose client sent nothing.
func silent(c net.Conn) bool {
	lc, ok := c.(*limitedConn)
	return ok && !lc.sent.Load()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
