package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sessionserver/sessionserver/actors"
	"github.com/sessionserver/sessionserver/actors/cluster"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/metrics"
	"github.com/sessionserver/sessionserver/snapshot/datadir"
	"github.com/sessionserver/sessionserver/snapshot/jetlog"
)

// connectWait bounds the wait for the NATS cluster's JetStream at start:
// its members elect a leader once enough of them are up.
const connectWait = 2 * time.Minute

// serveCluster runs the server as a member of cfg.Cluster until ctx is
// done: each app's log in NATS JetStream, each app on the member the
// cluster places it on (actors/cluster).
func serveCluster(ctx context.Context, cfg Config, logger *slog.Logger, ready chan<- net.Addr) (err error) {
	cc := cfg.Cluster
	if err := cc.check(); err != nil {
		return err
	}
	verifier, err := cfg.Verifier()
	if err != nil {
		return err
	}
	lock, err := datadir.Acquire(cfg.DataDir)
	if err != nil {
		return err
	}
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		_ = lock.Release()
	}()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	name := memberName(cc.Addr)
	logger = logger.With("member", name)
	reg := metrics.New()
	reg.DeclareRoutes(servedRoutes()...)
	srv := sshttp.New(sshttp.Config{
		Metrics:         reg,
		Verifier:        verifier,
		PublicEndpoints: cfg.PublicEndpoints,
		Retention:       cfg.Retention,
		CORSOrigins:     cfg.CORSOrigins,
		PublicRateLimit: cfg.PublicRateLimit,
		MaxConnsPerIP:   zeroIsNone(cfg.MaxConnsPerIP),
		Logger:          logger,
	})
	if cfg.DebugAddr != "" {
		stopDebug, err := startDebug(cfg.DebugAddr, logger)
		if err != nil {
			_ = ln.Close()
			return err
		}
		closers = append(closers, stopDebug)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	closers = append(closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	logger.Info("sessionserver listening; joining the cluster", "addr", ln.Addr().String(), "config", cfg)
	if ready != nil {
		ready <- ln.Addr()
	}

	url := cc.NATSURL
	if url == "" {
		node, err := startNATS(cfg, name, logger)
		if err != nil {
			return err
		}
		closers = append(closers, node.Shutdown)
		url = node.ClientURL()
	}
	cctx, cancel := context.WithTimeout(ctx, connectWait)
	store, err := jetlog.Connect(cctx, jetlog.Config{URL: url, Replicas: cc.replicas(), Logger: logger})
	cancel()
	if err != nil {
		return fmt.Errorf("cluster: JetStream at %s: %w", url, err)
	}
	closers = append(closers, store.Close)
	journal := cluster.NewJournal()
	eng := actors.New(actors.Config{Journal: journal, SessionTimeout: cfg.SessionTimeout, Logger: logger,
		MaxPublicApps: zeroIsNone(cfg.MaxPublicApps), Retention: cfg.Retention})
	closers = append(closers, eng.Close)
	host, port, err := splitPort(cc.Addr)
	if err != nil {
		return err
	}
	member, err := cluster.Start(cluster.Config{
		Name: cc.Name, Member: name, Host: host, Port: port,
		ManageAddr: cc.Health, Peers: cc.Peers,
		Store: store, Engine: eng, Journal: journal,
		SnapshotEvery: cfg.SnapshotInterval, Logger: logger,
	})
	if err != nil {
		return err
	}
	closers = append(closers, member.Close)
	srv.SetPlacement(member)
	member.Serve(srv)
	reg.SetSources(metrics.Sources{Sessions: func() metrics.SessionCounts {
		c := eng.Counts()
		return metrics.SessionCounts{Active: c.Active, Paused: c.Paused, Started: c.Started}
	}})
	srv.Ready(eng)
	logger.Info("cluster member ready", "cluster", cc.Name, "nats", url, "replicas", cc.replicas())
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	logger.Info("shutting down: leaving the cluster")
	return err
}

// startNATS starts the member's embedded NATS server with JetStream, its
// store in the data folder.
func startNATS(cfg Config, name string, logger *slog.Logger) (*jetlog.Node, error) {
	cc := cfg.Cluster
	host, port, err := splitPort(cc.NATSAddr)
	if err != nil {
		return nil, err
	}
	nc := jetlog.NodeConfig{Name: name, Dir: filepath.Join(cfg.DataDir, "nats"), Host: host, Port: port, Logger: logger}
	if cc.NATSClusterAdr != "" {
		nc.ClusterName = cc.Name
		if nc.ClusterHost, nc.ClusterPort, err = splitPort(cc.NATSClusterAdr); err != nil {
			return nil, err
		}
		for _, r := range cc.NATSRoutes {
			nc.Routes = append(nc.Routes, "nats://"+r)
		}
	}
	node, err := jetlog.StartNode(nc)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded NATS: %w", err)
	}
	return node, nil
}

// memberName is a member's name made from its actor address: unique in
// the cluster, and a valid NATS server name.
func memberName(addr string) string {
	return "m-" + strings.NewReplacer(":", "-", ".", "-", "[", "", "]", "").Replace(addr)
}

func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %q: %w", ErrConfig, addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %q: %w", ErrConfig, addr, errors.New("port is not a number"))
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, port, nil
}
