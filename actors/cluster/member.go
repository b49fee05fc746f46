package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/automanaged"
	"github.com/asynkron/protoactor-go/cluster/identitylookup/disthash"
	"github.com/asynkron/protoactor-go/remote"
	"github.com/labstack/echo"

	"github.com/sessionserver/sessionserver/actors"
	sshttp "github.com/sessionserver/sessionserver/http"
	"github.com/sessionserver/sessionserver/snapshot/jetlog"
)

// kindApp is the grain kind of an app.
const kindApp = "app"

// Defaults of Config.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultRefresh        = 500 * time.Millisecond
	// lease is how long after its last proof of ownership a grain serves
	// reads without checking again (see the package doc, Fencing).
	lease = time.Second
)

// ErrConfig: the member's configuration is incomplete.
var ErrConfig = errors.New("cluster: bad configuration")

// Config configures a Member.
type Config struct {
	Name   string // the cluster's name: members of other clusters are ignored
	Member string // this member's name, unique in the cluster (logs, claims)
	// Host and Port are where this member's actors are reached by the
	// other members (proto.actor remoting, gRPC); loopback in tests.
	Host string
	Port int
	// ManageAddr is this member's automanaged health listener
	// (host:port), Peers every member's (its own included): the static
	// peer list the members poll to see who is alive.
	ManageAddr string
	Peers      []string
	// Refresh is how often the peers are polled; 0 means DefaultRefresh.
	Refresh time.Duration

	Store   *jetlog.Store
	Engine  *actors.Engine
	Journal *Journal // the Engine's journal
	// SnapshotEvery is how often an owned app's snapshot is written when
	// its log grew; 0 writes none.
	SnapshotEvery time.Duration
	// RequestTimeout bounds a request forwarded to the app's owner; 0
	// means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// AppendTimeout bounds one publish of a batch, resent meanwhile; 0
	// means RequestTimeout.
	AppendTimeout time.Duration
	Logger        *slog.Logger
}

// Member is one member of the cluster: its actor system with the app
// grains it hosts, and the front end's placement (it implements
// http.Placement).
type Member struct {
	cfg     Config
	log     *slog.Logger
	system  *actor.ActorSystem
	cluster *cluster.Cluster
	manage  *echo.Echo
	server  atomic.Pointer[sshttp.Server]
	// grains are the app grains active on this member, by app.
	mu     sync.RWMutex
	grains map[string]*appGrain
	closed atomic.Bool
	epoch  time.Time // the monotonic base of the grains' leases
}

// Start joins the cluster. Serve must be called before requests arrive.
func Start(cfg Config) (*Member, error) {
	if cfg.Name == "" || cfg.Member == "" || cfg.ManageAddr == "" || len(cfg.Peers) == 0 ||
		cfg.Store == nil || cfg.Engine == nil || cfg.Journal == nil {
		return nil, fmt.Errorf("%w: name, member, manage address, peers, store, engine and journal are required", ErrConfig)
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.AppendTimeout <= 0 {
		cfg.AppendTimeout = cfg.RequestTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	logger := cfg.Logger
	m := &Member{cfg: cfg, log: logger, grains: make(map[string]*appGrain), epoch: time.Now()}
	// proto.actor's cluster logs every connection and topology step at
	// info: only its warnings and errors are kept.
	quiet := slog.New(minLevel{logger.Handler(), slog.LevelWarn}).With("component", "protoactor-cluster")
	m.system = actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	ln, err := net.Listen("tcp", cfg.ManageAddr)
	if err != nil {
		return nil, fmt.Errorf("cluster: health listener: %w", err)
	}
	_, portText, _ := net.SplitHostPort(ln.Addr().String())
	managePort, _ := strconv.Atoi(portText)
	// The provider's own listener binds every interface; this one is
	// bound where asked (loopback in tests) and answers the same.
	m.manage = echo.New()
	m.manage.HideBanner = true
	m.manage.HidePort = true
	m.manage.Listener = ln
	m.manage.GET("/_health", func(c echo.Context) error {
		host, port, err := m.system.GetHostPort()
		if err != nil {
			return err
		}
		return c.JSON(200, automanaged.NewNode(cfg.Name, m.system.ID, host, port, managePort, []string{kindApp}))
	})
	provider := automanaged.NewWithTesting(cfg.Refresh, managePort, m.manage, cfg.Peers...)
	kind := cluster.NewKind(kindApp, actor.PropsFromProducer(func() actor.Actor { return &appGrain{m: m} }))
	ccfg := cluster.Configure(cfg.Name, provider, disthash.New(), remote.Configure(cfg.Host, cfg.Port),
		cluster.WithKinds(kind), cluster.WithRequestTimeout(cfg.RequestTimeout))
	m.cluster = cluster.New(m.system, ccfg)
	m.cluster.StartMember()
	m.log.Info("cluster member started", "cluster", cfg.Name, "actors", m.system.Address(), "health", ln.Addr().String(), "peers", cfg.Peers)
	return m, nil
}

// Serve hands the member the HTTP server that answers the requests
// forwarded to it.
func (m *Member) Serve(srv *sshttp.Server) { m.server.Store(srv) }

// Close leaves the cluster: the grains stop (their apps are dropped from
// the engine, their writers closed) and the others take the apps over.
func (m *Member) Close() {
	if m.closed.Swap(true) {
		return
	}
	m.cluster.Shutdown(true)
	_ = m.manage.Close()
}

// Owned returns the apps whose grains are active and ready here, for
// health and logs.
func (m *Member) Owned() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.grains))
	for app, g := range m.grains {
		if g.ready.Load() {
			out = append(out, app)
		}
	}
	return out
}

func (m *Member) grain(app string) *appGrain {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.grains[app]
}

func (m *Member) register(g *appGrain) {
	m.mu.Lock()
	m.grains[g.app] = g
	m.mu.Unlock()
}

func (m *Member) unregister(g *appGrain) {
	m.mu.Lock()
	if m.grains[g.app] == g {
		delete(m.grains, g.app)
	}
	m.mu.Unlock()
}

// minLevel is a handler that drops records below its level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.level}
}
func (h minLevel) WithGroup(n string) slog.Handler { return minLevel{h.Handler.WithGroup(n), h.level} }
