// Command sessiondemo is a sample web site for Session Server's tracker:
// a small single-page app on its own origin (http://localhost:8001 by
// default) that loads tracker.js from the server, signs its visitors in
// with a token from its own back end (GET /token, as a real site's back
// end would), and shows what the server has recorded (GET /stats, read
// with an admin token that never leaves the back end). `make demo`
// starts it beside the server.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/sessionserver/sessionserver/http/auth"
)

//go:embed page.html
var page string

// validUser is what the demo signs: a short name, nothing to escape.
var validUser = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

type demo struct {
	server string // Session Server's URL
	app    string
	secret []byte
	ttl    time.Duration
	client *http.Client
}

func main() {
	fs := flag.NewFlagSet("sessiondemo", flag.ContinueOnError)
	addr := fs.String("addr", "localhost:8001", "address of the sample site")
	server := fs.String("server", "http://localhost:8000", "Session Server's URL, as the browser reaches it")
	app := fs.String("app", "demo", "the app the site tracks")
	dataDir := fs.String("data-dir", "./data", "the server's data folder (its jwt.secret signs the tokens)")
	secret := fs.String("jwt-secret", os.Getenv("SESSION_JWT_SECRET"), "the server's -jwt-secret, if it has one")
	ttl := fs.Duration("ttl", 2*time.Minute, "lifetime of a visitor's token (the tracker asks again before it ends)")
	wait := fs.Duration("wait", 0, "wait this long for the server's /api/health to answer 200 before starting")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	key := []byte(*secret)
	if len(key) == 0 {
		var err error
		if key, err = auth.LoadOrCreateSecret(*dataDir); err != nil {
			log.Error("no secret to sign with", "err", err)
			os.Exit(1)
		}
	}
	if err := waitHealthy(*server, *wait); err != nil {
		log.Error("server not ready", "server", *server, "err", err)
		os.Exit(1)
	}
	d := &demo{server: strings.TrimSuffix(*server, "/"), app: *app, secret: key, ttl: *ttl, client: &http.Client{Timeout: 5 * time.Second}}
	srv := &http.Server{Addr: *addr, Handler: d.routes(), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	log.Info("sample site up: open it in a browser", "url", "http://"+*addr+"/", "server", d.server, "app", d.app)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("sample site stopped", "err", err)
		os.Exit(1)
	}
}

// errNotReady: the server did not answer 200 on /api/health in time.
var errNotReady = errors.New("no 200 from /api/health")

func waitHealthy(server string, wait time.Duration) error {
	if wait <= 0 {
		return nil
	}
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get(strings.TrimSuffix(server, "/") + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w within %s", errNotReady, wait)
		}
		time.Sleep(200 * time.Millisecond) // polling another process: nothing to wait on
	}
}

func (d *demo) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", d.token)
	mux.HandleFunc("GET /stats", d.stats)
	mux.HandleFunc("GET /", d.page) // every other path is a route of the single-page app
	return mux
}

func (d *demo) page(w http.ResponseWriter, r *http.Request) {
	cfg, _ := json.Marshal(map[string]string{"endpoint": d.server, "app": d.app})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, strings.NewReplacer("{{server}}", d.server, "{{config}}", string(cfg)).Replace(page))
}

// token is the site's token endpoint: a real site signs the user of its
// own login session; the demo signs the name the visitor typed.
func (d *demo) token(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if !validUser.MatchString(user) {
		http.Error(w, "user: 1 to 64 letters, digits, _ . -", http.StatusBadRequest)
		return
	}
	tok, err := auth.Sign(d.secret, user, d.app, "user", d.ttl, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// stats reads the app's summary, pages and newest sessions from the
// server with an admin token, for the page's "recorded" panel.
func (d *demo) stats(w http.ResponseWriter, r *http.Request) {
	admin, err := auth.Sign(d.secret, "demo-site", d.app, "admin", time.Minute, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := map[string]json.RawMessage{}
	for name, path := range map[string]string{
		"summary": "/api/sessions/summary", "pages": "/api/pages/stats", "timeline": "/api/sessions/timeline",
	} {
		raw, err := d.call(r.Context(), path, admin)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out[name] = raw
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func (d *demo) call(ctx context.Context, path, token string) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"app": d.app, "limit": 10000})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.server+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return raw, nil
}
