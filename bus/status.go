package bus

import (
	"encoding/json"
	"time"

	"github.com/bci-decode/bci-decode/pipeline"
)

// Status is the periodic health message on bci.<session>.status.
type Status struct {
	Session          string          `json:"session"`
	Time             int64           `json:"time"`
	UptimeSeconds    float64         `json:"uptime_s"`
	Decoder          string          `json:"decoder,omitempty"`
	Model            string          `json:"model"`
	IntentsPublished uint64          `json:"intents_published"`
	IntentsDropped   uint64          `json:"intents_dropped"`
	PublishErrors    uint64          `json:"publish_errors"`
	RateHz           float64         `json:"rate_hz"`
	Latency          LatencyReport   `json:"latency_us"`
	Pipeline         *pipeline.Stats `json:"pipeline,omitempty"`
	// Outputs holds the reports of the session's other outputs (recording
	// gaps, watchdog, ...) by name.
	Outputs map[string]any `json:"outputs,omitempty"`
	// Source holds the source's own counters (lost frames, clock
	// offsets), when it keeps any.
	Source any `json:"source,omitempty"`
}

// publishStatus sends one status message. It runs on the publishing
// goroutine, which owns the histogram.
func (p *Publisher) publishStatus() {
	now := time.Now()
	up := now.Sub(p.start).Seconds()
	sum := p.Summary()
	st := Status{
		Session:          p.opts.Session,
		Time:             now.UnixNano(),
		UptimeSeconds:    up,
		Model:            p.model,
		IntentsPublished: sum.Published,
		IntentsDropped:   sum.Dropped,
		PublishErrors:    sum.Errors,
		Latency:          p.latency(),
	}
	if up > 0 {
		st.RateHz = float64(st.IntentsPublished) / up
	}
	if p.opts.Status != nil {
		p.opts.Status(&st)
	}
	b, err := json.Marshal(st)
	if err != nil {
		p.opts.Log.Error().Err(err).Msg("encode status")
		return
	}
	if err := p.nc.Publish(StatusSubject(p.opts.Session), b); err != nil {
		p.opts.Log.Warn().Err(err).Msg("publish status failed")
	}
}
