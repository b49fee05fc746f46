package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// WaitReady polls GET <target>/api/health every 50ms until it answers 200
// (the server has recovered its state) or timeout passes.
func WaitReady(ctx context.Context, targetURL string, timeout time.Duration) error {
	t, err := parseTarget(targetURL)
	if err != nil {
		return err
	}
	hc := &fasthttp.HostClient{Addr: t.addr, IsTLS: t.tls, Name: "sessionbench", ReadTimeout: time.Second, WriteTimeout: time.Second}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		status, _, err := hc.Get(nil, "http://"+t.host+"/api/health")
		if err == nil && status == fasthttp.StatusOK {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: %s not ready (last status %d, error %v): %w", targetURL, status, err, ctx.Err())
		case <-tick.C:
		}
	}
}
