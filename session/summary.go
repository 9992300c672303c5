package session

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/bci-decode/bci-decode/bus"
)

// MarshalJSON writes the summary with the elapsed time in seconds, the
// headline figures and the headline outputs' reports at the top level.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	out := struct {
		plain
		Bins      uint64            `json:"bins"`
		Intents   uint64            `json:"intents"`
		Dropped   uint64            `json:"intents_dropped"`
		Faults    uint64            `json:"faults"`
		BadInputs uint64            `json:"bad_features"`
		R2        *float64          `json:"r2,omitempty"`
		P50us     float64           `json:"latency_p50_us"`
		P99us     float64           `json:"latency_p99_us"`
		Latency   bus.LatencyReport `json:"latency_us"`
		Seconds   float64           `json:"elapsed_s"`
	}{plain: plain(r), Bins: r.Stats.Bins, Intents: r.Publish.Published, Dropped: r.Publish.Dropped, Faults: r.Stats.Faults,
		BadInputs: r.Stats.BadFeatures, P50us: r.Publish.Latency.P50, P99us: r.Publish.Latency.P99, Latency: r.Publish.Latency,
		Seconds: r.Elapsed.Seconds()}
	if r.Score != nil {
		out.R2 = &r.Score.R2
	}
	b, err := json.Marshal(out)
	if err != nil || len(r.Headlines) == 0 {
		return b, err
	}
	b = b[:len(b)-1] // the closing brace: the headlines follow
	for _, name := range slices.Sorted(maps.Keys(r.Headlines)) {
		v, err := json.Marshal(r.Headlines[name])
		if err != nil {
			return nil, fmt.Errorf("session summary: %s: %w", name, err)
		}
		b = append(strconv.AppendQuote(append(b, ','), name), ':')
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// WriteText prints the summary for a person.
func (r Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "session %s: %d bins decoded by %s (model %.12s), %d intents published on %s, %d dropped\n",
		r.Session, r.Stats.Bins, r.Decoder, r.Model, r.Publish.Published, bus.IntentSubject(r.Session), r.Publish.Dropped)
	if r.Stats.Swaps > 0 {
		fmt.Fprintf(w, "%d model swaps\n", r.Stats.Swaps)
	}
	if s := r.Score; s != nil {
		fmt.Fprintf(w, "velocity R² %.3f (per dimension %.3f), r %.3f\n", s.R2, s.R2PerDim, s.RPerDim)
	}
	if l := r.Publish.Latency; l.Count > 0 {
		fmt.Fprintf(w, "decode latency (bin end -> intent): p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d intents\n", l.P50, l.P99, l.Max, l.Count)
	} else {
		fmt.Fprintln(w, "decode latency: not measured (bins carry recorded, not live, times)")
	}
	for _, name := range slices.Sorted(maps.Keys(r.Headlines)) {
		if t, ok := r.Headlines[name].(interface{ WriteText(io.Writer) }); ok {
			t.WriteText(w)
		}
	}
	if r.Record != nil {
		fmt.Fprintf(w, "recorded %d bins in stream %s (%d gaps)\n", r.Record.Recorded, bus.StreamName(r.Session), r.Record.Gaps)
	}
	if r.RawRecord != nil {
		fmt.Fprintf(w, "recorded %d raw frames (%d gaps)\n", r.RawRecord.Recorded, r.RawRecord.Gaps)
	}
	if r.Watchdog.Stale > 0 || r.Watchdog.Halted > 0 {
		fmt.Fprintf(w, "input watchdog: %d stale and %d halted intents published while input was missing\n", r.Watchdog.Stale, r.Watchdog.Halted)
	}
	if r.Source != nil {
		if b, err := json.Marshal(r.Source); err == nil && string(b) != "null" {
			fmt.Fprintf(w, "source: %s\n", b)
		}
	}
	if r.Stats.Faults > 0 || r.Stats.BadFeatures > 0 {
		fmt.Fprintf(w, "faults: %d non-finite decoder outputs halted, %d non-finite input features zeroed\n", r.Stats.Faults, r.Stats.BadFeatures)
	}
}
