package jetlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyTimeout bounds how long StartNode waits for the client listener.
const readyTimeout = 10 * time.Second

// NodeConfig configures an embedded NATS server with JetStream. The zero
// value of each optional field is a useful default.
type NodeConfig struct {
	// Name is the server_name, unique per member; required for a
	// JetStream cluster, defaulted by the server otherwise.
	Name string
	// Dir is the JetStream store folder (file storage). Required.
	Dir string
	// Host is the client listener's host ("" = 0.0.0.0).
	Host string
	// Port is the client port; 0 picks a free one (see ClientURL).
	Port int
	// ClusterName names the JetStream cluster; "" runs a single server
	// with no route listener.
	ClusterName string
	// ClusterHost and ClusterPort are the route listener's (port 0: a
	// free one, of little use since the others must know it).
	ClusterHost string
	ClusterPort int
	// Routes are the route URLs of the members, e.g.
	// "nats://127.0.0.1:6222"; the server's own may be among them.
	Routes []string
	// Logger gets the server's warnings and errors (its notices at
	// debug); nil discards them.
	Logger *slog.Logger
}

// Validate reports whether c can start a server.
func (c *NodeConfig) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: node: Dir is required", ErrConfig)
	case c.ClusterName != "" && c.Name == "":
		return fmt.Errorf("%w: node: a cluster member needs a Name", ErrConfig)
	case c.ClusterName == "" && len(c.Routes) > 0:
		return fmt.Errorf("%w: node: Routes without a ClusterName", ErrConfig)
	case c.Port < 0 || c.ClusterPort < 0:
		return fmt.Errorf("%w: node: negative port", ErrConfig)
	}
	return nil
}

// Node is an embedded NATS server with JetStream enabled.
type Node struct {
	srv *server.Server
}

// StartNode starts a server for cfg and waits until it accepts client
// connections. In a cluster JetStream itself may take a few more seconds
// to elect a meta leader; Connect waits for that.
func StartNode(cfg NodeConfig) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	srv, err := server.NewServer(cfg.options())
	if err != nil {
		return nil, fmt.Errorf("jetlog: node %q: %w", cfg.Name, err)
	}
	if cfg.Logger != nil {
		srv.SetLoggerV2(serverLog{cfg.Logger.With("nats_server", cfg.Name)}, false, false, false)
	}
	go srv.Start()
	if !srv.ReadyForConnections(readyTimeout) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("%w: node %q after %v", ErrNotReady, cfg.Name, readyTimeout)
	}
	return &Node{srv: srv}, nil
}

// options maps cfg to the server's options.
func (c *NodeConfig) options() *server.Options {
	o := &server.Options{
		ServerName: c.Name,
		Host:       c.Host,
		Port:       portOrRandom(c.Port),
		JetStream:  true,
		StoreDir:   c.Dir,
		NoSigs:     true,
		NoLog:      c.Logger == nil,
	}
	if c.ClusterName != "" {
		o.Cluster = server.ClusterOpts{
			Name: c.ClusterName,
			Host: c.ClusterHost,
			Port: portOrRandom(c.ClusterPort),
		}
		o.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	}
	return o
}

// portOrRandom maps 0 ("any free port") to the server's RANDOM_PORT:
// to the server 0 means its default port.
func portOrRandom(p int) int {
	if p == 0 {
		return server.RANDOM_PORT
	}
	return p
}

// Name returns the server's name (the stream info's Cluster.Leader names
// the leader by it).
func (n *Node) Name() string { return n.srv.Name() }

// ClientURL returns the URL clients connect to, e.g. nats://127.0.0.1:4222.
func (n *Node) ClientURL() string { return n.srv.ClientURL() }

// Shutdown stops the server and waits until it has stopped.
func (n *Node) Shutdown() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

// serverLog routes the server's log to slog: warnings and errors as
// such, notices at debug, debug and trace lines nowhere.
type serverLog struct{ l *slog.Logger }

func (s serverLog) log(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if s.l.Enabled(ctx, level) {
		s.l.Log(ctx, level, fmt.Sprintf(format, v...))
	}
}

func (s serverLog) Noticef(format string, v ...any) { s.log(slog.LevelDebug, format, v) }
func (s serverLog) Warnf(format string, v ...any)   { s.log(slog.LevelWarn, format, v) }
func (s serverLog) Fatalf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s serverLog) Errorf(format string, v ...any)  { s.log(slog.LevelError, format, v) }
func (s serverLog) Debugf(string, ...any)           {}
func (s serverLog) Tracef(string, ...any)           {}
