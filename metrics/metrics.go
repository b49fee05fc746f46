// Package metrics exposes Session Server's Prometheus metrics on the
// server's own registry (nothing is registered globally).
//
//	m := metrics.New()
//	m.DeclareRoutes("/api/sessions/start", ...)            // series at 0 from the start
//	m.ObserveRequest("/api/sessions/start", 200, elapsed)  // from the HTTP layer
//	m.SetSources(metrics.Sources{Sessions: eng.Counts, Log: dd.LogStats, ...})
//	body, contentType := m.Render()                         // GET /metrics
//
// Every family is exposed from the first scrape on, before any source is
// set (while the server recovers) and before any request: counters and
// gauges at 0, histograms with zero counts, the routes given to
// DeclareRoutes with status="200" at 0, and the snapshot figures at 0 (no
// snapshot) until a source tells them.
//
// Families: sessionserver_http_requests_total{route,status},
// sessionserver_http_request_duration_seconds{route},
// sessionserver_sessions{state}, sessionserver_sessions_started_total,
// sessionserver_log_{appends,bytes,batches,fsyncs}_total,
// sessionserver_log_fsync_seconds_total, sessionserver_log_last_batch_records,
// the histograms sessionserver_log_fsync_duration_seconds and
// sessionserver_log_batch_records,
// sessionserver_snapshot_{size_bytes,duration_seconds,last_success_timestamp_seconds},
// sessionserver_recovery_duration_seconds, sessionserver_admission_rejections_total,
// and the Go runtime and process collectors.
package metrics

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// SessionCounts are the engine's session gauges.
type SessionCounts struct {
	Active, Paused, Started int64
}

// LogCounts are the append log's counters.
type LogCounts struct {
	Appends, Bytes, Batches, Fsyncs uint64
	FsyncSeconds                    float64
	LastBatch                       uint64
	// FsyncLatency (seconds per fsync) and BatchRecords (records per
	// batch) are histograms; a zero Hist is left out.
	FsyncLatency, BatchRecords Hist
}

// Hist is a histogram read from its owner: Counts[i] observations were
// <= Bounds[i] (cumulative), Count in all, summing to Sum.
type Hist struct {
	Bounds []float64
	Counts []uint64
	Count  uint64
	Sum    float64
}

// SnapshotInfo describes the newest snapshot: written by this process, or
// loaded at its start (At is then the file's time, Duration 0).
type SnapshotInfo struct {
	SizeBytes int64
	Duration  time.Duration
	At        time.Time // zero: there is none
}

// Sources are read at every scrape; any may be nil.
type Sources struct {
	Sessions func() SessionCounts
	Log      func() LogCounts
	Snapshot func() SnapshotInfo
}

// Metrics is the server's registry and its instruments.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	rejected prometheus.Counter
	recovery prometheus.Gauge
	sources  atomic.Pointer[Sources]
	// byRoute caches the children of requests and latency per route and
	// status (routeKey -> *routeSeries): resolving label values on every
	// request hashes and validates them each time.
	byRoute sync.Map
}

type routeKey struct {
	route  string
	status int
}

type routeSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// New returns Metrics with every family registered on a new registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sessionserver_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sessionserver_http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sessionserver_admission_rejections_total", Help: "Requests refused at once because the server was at its admission limit.",
		}),
		recovery: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sessionserver_recovery_duration_seconds", Help: "How long the last start took to load the snapshot and replay the log.",
		}),
	}
	m.sources.Store(&Sources{})
	m.reg.MustRegister(m.requests, m.latency, m.rejected, m.recovery, newSourceCollector(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetSources sets where the engine, log and snapshot figures come from.
func (m *Metrics) SetSources(s Sources) { m.sources.Store(&s) }

// ObserveRequest counts one answered request.
func (m *Metrics) ObserveRequest(route string, status int, elapsed time.Duration) {
	rs := m.series(route, status)
	rs.requests.Inc()
	rs.latency.Observe(elapsed.Seconds())
}

// DeclareRoutes creates the status-200 request counter and the latency
// histogram of each route at zero. A family with no series is not exposed
// at all, so without this sessionserver_http_requests_total and
// sessionserver_http_request_duration_seconds would be missing until the
// first request; other statuses appear with their first answer.
func (m *Metrics) DeclareRoutes(routes ...string) {
	for _, r := range routes {
		m.series(r, 200)
	}
}

// series returns the cached children of route and status.
func (m *Metrics) series(route string, status int) *routeSeries {
	k := routeKey{route, status}
	v, ok := m.byRoute.Load(k)
	if !ok {
		v, _ = m.byRoute.LoadOrStore(k, &routeSeries{
			requests: m.requests.WithLabelValues(route, strconv.Itoa(status)),
			latency:  m.latency.WithLabelValues(route),
		})
	}
	return v.(*routeSeries)
}

// Rejected counts one admission rejection.
func (m *Metrics) Rejected() { m.rejected.Inc() }

// SetRecovery records how long recovery took.
func (m *Metrics) SetRecovery(d time.Duration) { m.recovery.Set(d.Seconds()) }

// Registry is the server's registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Render gathers every family in the Prometheus text format.
func (m *Metrics) Render() ([]byte, string, error) {
	families, err := m.reg.Gather()
	if err != nil {
		return nil, "", fmt.Errorf("metrics: gather: %w", err)
	}
	var buf bytes.Buffer
	format := expfmt.FmtText
	enc := expfmt.NewEncoder(&buf, format)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, "", fmt.Errorf("metrics: encode: %w", err)
		}
	}
	return buf.Bytes(), string(format), nil
}

// histogram sends h as a constant histogram. A Hist without bounds (a
// source not set yet) has only its +Inf bucket, at zero; one whose counts
// do not match its bounds is left out.
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, h Hist) {
	if len(h.Counts) != len(h.Bounds) {
		return
	}
	b := make(map[float64]uint64, len(h.Bounds))
	for i, ub := range h.Bounds {
		b[ub] = h.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(d, h.Count, h.Sum, b)
}

// sourceCollector reads the Sources at scrape time.
type sourceCollector struct {
	m                                                                                               *Metrics
	sessions, started, appends, bytes, batches, fsyncs, fsyncSecs, batch, snapSize, snapDur, snapAt *prometheus.Desc
	fsyncHist, batchHist                                                                            *prometheus.Desc
}

func newSourceCollector(m *Metrics) *sourceCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &sourceCollector{
		m:         m,
		sessions:  d("sessionserver_sessions", "Open sessions by state.", "state"),
		started:   d("sessionserver_sessions_started_total", "Sessions started (since the data folder was created)."),
		appends:   d("sessionserver_log_appends_total", "Records appended to the log since start."),
		bytes:     d("sessionserver_log_bytes_total", "Bytes written to the log since start."),
		batches:   d("sessionserver_log_batches_total", "Batches written (one write call each, group commit)."),
		fsyncs:    d("sessionserver_log_fsyncs_total", "Log fsyncs since start."),
		fsyncSecs: d("sessionserver_log_fsync_seconds_total", "Time spent in log fsyncs."),
		batch:     d("sessionserver_log_last_batch_records", "Records in the last batch written."),
		snapSize:  d("sessionserver_snapshot_size_bytes", "Size on disk of the newest snapshot."),
		snapDur:   d("sessionserver_snapshot_duration_seconds", "How long the newest snapshot took."),
		snapAt:    d("sessionserver_snapshot_last_success_timestamp_seconds", "When the newest snapshot was written."),
		fsyncHist: d("sessionserver_log_fsync_duration_seconds", "Latency of the log's fsyncs."),
		batchHist: d("sessionserver_log_batch_records", "Records per batch written to the log (group commit)."),
	}
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.started, c.appends, c.bytes, c.batches, c.fsyncs, c.fsyncSecs, c.batch, c.snapSize, c.snapDur, c.snapAt, c.fsyncHist, c.batchHist} {
		ch <- d
	}
}

// Collect reports every family at every scrape, from the first one on
// (issue 10, finding 7: an alert on a missing or stale snapshot fired
// after each restart): a source not set yet (the server is recovering)
// reports zeros, and the snapshot figures are those of the snapshot the
// start loaded until this process writes one (time 0: there is none).
func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.m.sources.Load()
	var n SessionCounts
	if s.Sessions != nil {
		n = s.Sessions()
	}
	ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(n.Active), "active")
	ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(n.Paused), "paused")
	ch <- prometheus.MustNewConstMetric(c.started, prometheus.CounterValue, float64(n.Started))
	var l LogCounts
	if s.Log != nil {
		l = s.Log()
	}
	ch <- prometheus.MustNewConstMetric(c.appends, prometheus.CounterValue, float64(l.Appends))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(l.Bytes))
	ch <- prometheus.MustNewConstMetric(c.batches, prometheus.CounterValue, float64(l.Batches))
	ch <- prometheus.MustNewConstMetric(c.fsyncs, prometheus.CounterValue, float64(l.Fsyncs))
	ch <- prometheus.MustNewConstMetric(c.fsyncSecs, prometheus.CounterValue, l.FsyncSeconds)
	ch <- prometheus.MustNewConstMetric(c.batch, prometheus.GaugeValue, float64(l.LastBatch))
	histogram(ch, c.fsyncHist, l.FsyncLatency)
	histogram(ch, c.batchHist, l.BatchRecords)
	var sn SnapshotInfo
	if s.Snapshot != nil {
		sn = s.Snapshot()
	}
	at := 0.0
	if !sn.At.IsZero() {
		at = float64(sn.At.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.snapSize, prometheus.GaugeValue, float64(sn.SizeBytes))
	ch <- prometheus.MustNewConstMetric(c.snapDur, prometheus.GaugeValue, sn.Duration.Seconds())
	ch <- prometheus.MustNewConstMetric(c.snapAt, prometheus.GaugeValue, at)
}
