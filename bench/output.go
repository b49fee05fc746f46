package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Settings are the settings of a measurement, as the report shows them.
type Settings struct {
	Scenario    Scenario `json:"scenario"`
	Mode        string   `json:"mode"` // "closed" or "open"
	Connections int      `json:"connections"`
	Rate        float64  `json:"rate,omitempty"`
	DurationS   float64  `json:"duration_s"`
	WarmupS     float64  `json:"warmup_s"`
	Users       int      `json:"users"`
	Apps        int      `json:"apps"`
	ReadRatio   float64  `json:"read_ratio"`
	Target      string   `json:"target"`
	CPUs        int      `json:"cpus"`
}

// Report is every figure of a measurement: the target's, and with a
// baseline the baseline's and the ratios of the two.
type Report struct {
	Settings Settings `json:"settings"`
	Target   *Result  `json:"target"`
	Baseline *Result  `json:"baseline,omitempty"`
	Ratios   []Ratio  `json:"ratio_to_baseline,omitempty"`
}

// Ratio compares an endpoint's figures with the baseline's: throughput as
// target ÷ baseline (the share of the machine's limit reached), latency as
// target ÷ baseline (how many times slower). 0 where the baseline has no
// figure.
type Ratio struct {
	Endpoint     string  `json:"endpoint"`
	RequestsPerS float64 `json:"requests_per_s"`
	P50          float64 `json:"p50"`
	P90          float64 `json:"p90"`
	P99          float64 `json:"p99"`
	P999         float64 `json:"p99_9"`
	Max          float64 `json:"max"`
}

// Compare returns the ratios of target to baseline, for every endpoint of
// target and the total.
func Compare(target, baseline *Result) []Ratio {
	base := map[string]Figures{baseline.Total.Endpoint: baseline.Total}
	for _, f := range baseline.Endpoints {
		base[f.Endpoint] = f
	}
	var out []Ratio
	for _, f := range append(append([]Figures(nil), target.Endpoints...), target.Total) {
		b, ok := base[f.Endpoint]
		if !ok {
			continue
		}
		out = append(out, Ratio{
			Endpoint:     f.Endpoint,
			RequestsPerS: ratio(f.RequestsPerS, b.RequestsPerS),
			P50:          ratio(float64(f.LatencyUs.P50), float64(b.LatencyUs.P50)),
			P90:          ratio(float64(f.LatencyUs.P90), float64(b.LatencyUs.P90)),
			P99:          ratio(float64(f.LatencyUs.P99), float64(b.LatencyUs.P99)),
			P999:         ratio(float64(f.LatencyUs.P999), float64(b.LatencyUs.P999)),
			Max:          ratio(float64(f.LatencyUs.Max), float64(b.LatencyUs.Max)),
		})
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("bench: writing JSON: %w", err)
	}
	return nil
}

// WriteTable writes the report as a table: a line per endpoint and the
// total, each followed by the baseline's line and the ratios when there is
// a baseline. In the open loop a line "… sent" under each gives the
// latency from the actual send, and the harness's timer lateness follows
// the table. Latencies are in milliseconds.
func (r *Report) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintln(w, r.Settings.describe()); err != nil {
		return fmt.Errorf("bench: writing table: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "endpoint\trun\trequests\treq/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors")
	ratios := map[string]Ratio{}
	for _, x := range r.Ratios {
		ratios[x.Endpoint] = x
	}
	for _, f := range append(append([]Figures(nil), r.Target.Endpoints...), r.Target.Total) {
		writeRows(tw, f.Endpoint, r.Target.Label, f)
		if r.Baseline == nil {
			continue
		}
		if b, ok := r.Baseline.find(f.Endpoint); ok {
			writeRows(tw, "", r.Baseline.Label, b)
		}
		if x, ok := ratios[f.Endpoint]; ok {
			fmt.Fprintf(tw, "\tratio\t\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
				times(x.RequestsPerS), times(x.P50), times(x.P90), times(x.P99), times(x.P999), times(x.Max))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("bench: writing table: %w", err)
	}
	for _, res := range []*Result{r.Target, r.Baseline} {
		if res != nil && res.TimerLatenessUs != nil {
			l := res.TimerLatenessUs
			fmt.Fprintf(w, "%s: harness timer lateness p50 %s ms, p99 %s ms, max %s ms (included in the open-loop latencies)\n",
				res.Label, fmtMs(l.P50), fmtMs(l.P99), fmtMs(l.Max))
		}
	}
	return nil
}

// writeRows writes f's line and, in the open loop, its line of latencies
// from the actual send.
func writeRows(w io.Writer, name, label string, f Figures) {
	l := f.LatencyUs
	fmt.Fprintf(w, "%s\t%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%s\t%s\n", name, label, f.Requests, f.RequestsPerS,
		fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max), errorText(f.Errors))
	if s := f.ServiceUs; s != nil {
		fmt.Fprintf(w, "\t%s sent\t\t\t%s\t%s\t%s\t%s\t%s\t\n", label,
			fmtMs(s.P50), fmtMs(s.P90), fmtMs(s.P99), fmtMs(s.P999), fmtMs(s.Max))
	}
}

func times(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "x" }

// errorText is "0", or the error classes and counts: "409:3 timeout:1".
func errorText(errs map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(errs) {
		parts = append(parts, k+":"+strconv.FormatInt(errs[k], 10))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, " ")
}

func (r *Result) find(endpoint string) (Figures, bool) {
	if endpoint == r.Total.Endpoint {
		return r.Total, true
	}
	for _, f := range r.Endpoints {
		if f.Endpoint == endpoint {
			return f, true
		}
	}
	return Figures{}, false
}

func (s Settings) describe() string {
	load := fmt.Sprintf("closed loop, %d connections", s.Connections)
	if s.Mode == "open" {
		load = fmt.Sprintf("open loop at %.0f req/s over %d connections (latency from the intended send time)", s.Rate, s.Connections)
	}
	return fmt.Sprintf("scenario %s, %s, %gs measured after %gs warm-up, %d users in %d apps, read ratio %g, target %s, %d CPUs",
		s.Scenario, load, s.DurationS, s.WarmupS, s.Users, s.Apps, s.ReadRatio, s.Target, s.CPUs)
}
