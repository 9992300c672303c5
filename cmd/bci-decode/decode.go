package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// stream is one decoding job: a source of bins, the model that decodes it
// and where its intents go.
type stream struct {
	src      pipeline.BinReader
	channels int
	// targets names the source's bin targets; outputs whose names appear
	// among them are scored against them.
	targets  []string
	model    *decoder.Loaded
	nc       *nats.Conn
	session  string
	binWidth int64
	// lossless makes publishing wait instead of dropping (for runs that go
	// as fast as possible rather than in real time).
	lossless bool
	output   decoder.OutputOptions
	// record keeps the session in JetStream (overwrite replaces an earlier
	// recording); control serves the control verbs.
	record, overwrite, control bool
	replicas                   int
	watchdog                   session.WatchdogOptions
	raw                        interface{ Tap(func(*acquire.Frame)) }
}

// streamResult summarises a decoding job.
type streamResult struct {
	Session   string                `json:"session"`
	Decoder   string                `json:"decoder"`
	Model     string                `json:"model"`
	Bins      uint64                `json:"bins"`
	Intents   uint64                `json:"intents"`
	Dropped   uint64                `json:"intents_dropped"`
	Faults    uint64                `json:"faults"`
	BadInputs uint64                `json:"bad_features"`
	R2        *float64              `json:"r2,omitempty"`
	R2PerDim  []float64             `json:"r2_per_dim,omitempty"`
	RPerDim   []float64             `json:"r_per_dim,omitempty"`
	P50us     float64               `json:"latency_p50_us"`
	P99us     float64               `json:"latency_p99_us"`
	Latency   bus.LatencyReport     `json:"latency_us"`
	Seconds   float64               `json:"elapsed_s"`
	Recording *bus.RecordingStats   `json:"recording,omitempty"`
	RawRecord *bus.RecordingStats   `json:"raw_recording,omitempty"`
	Watchdog  session.WatchdogStats `json:"watchdog"`
}

// scorer is a sink that scores decoded values against the bin's targets.
type scorer struct {
	idx   []int // bin target index of each decoder output
	truth []float32
	acc   *eval.Accumulator
}

func newScorer(outputs, sourceTargets []string) *scorer {
	if len(outputs) == 0 {
		return nil
	}
	idx := make([]int, len(outputs))
	for i, o := range outputs {
		idx[i] = -1
		for j, t := range sourceTargets {
			if t == o {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil
		}
	}
	return &scorer{idx: idx, truth: make([]float32, len(idx)), acc: eval.NewAccumulator(len(idx))}
}

func (s *scorer) Consume(in *decoder.Intent, b *encoder.Bin) {
	if in.Status != decoder.StatusOK || len(b.Target) == 0 {
		return
	}
	for i, j := range s.idx {
		s.truth[i] = b.Target[j]
	}
	s.acc.Add(in.Values, s.truth)
}

// run decodes the stream to its end (or until ctx is done) and publishes
// every intent.
func (s *stream) run(ctx context.Context) (streamResult, error) {
	var sinks []pipeline.Sink
	sc := newScorer(s.model.Info.Targets, s.targets)
	if sc != nil && s.output.Integrate {
		sc = nil // positions are not comparable with velocity targets
	}
	if sc != nil {
		sinks = append(sinks, sc)
	}
	log.Info().Str("session", s.session).Str("subject", bus.IntentSubject(s.session)).
		Str("decoder", s.model.Kind()).Str("model", s.model.Hash).Bool("record", s.record).Msg("decoding")
	out, err := session.Run(ctx, session.Options{
		Session: s.session, Conn: s.nc, Source: s.src, Channels: s.channels, BinWidth: s.binWidth, Targets: s.targets,
		Model: s.model, Output: s.output, Lossless: s.lossless,
		Record: s.record, Overwrite: s.overwrite, Replicas: s.replicas, Raw: s.raw, Control: s.control, Watchdog: s.watchdog, Sinks: sinks, Log: log.Logger,
	})
	if err != nil {
		return streamResult{}, err
	}
	res := streamResult{
		Session: s.session, Decoder: s.model.Kind(), Model: s.model.Hash,
		Bins: out.Stats.Bins, Intents: out.Publish.Published, Dropped: out.Publish.Dropped, Faults: out.Stats.Faults, BadInputs: out.Stats.BadFeatures,
		P50us: out.Publish.Latency.P50, P99us: out.Publish.Latency.P99, Latency: out.Publish.Latency,
		Seconds: out.Elapsed.Seconds(), Recording: out.Record, RawRecord: out.RawRecord, Watchdog: out.Watchdog,
	}
	if sc != nil {
		if r := sc.acc.Result(); r.Defined() {
			m := r.MeanR2()
			res.R2, res.R2PerDim, res.RPerDim = &m, r.R2, r.R
		} else {
			log.Warn().Msg("R² is undefined for this run: a target had no variance (run longer)")
		}
	}
	return res, nil
}

func (r streamResult) print(w interface{ Write([]byte) (int, error) }) {
	fmt.Fprintf(w, "session %s: %d bins decoded by %s (model %.12s), %d intents published on %s, %d dropped\n",
		r.Session, r.Bins, r.Decoder, r.Model, r.Intents, bus.IntentSubject(r.Session), r.Dropped)
	if r.R2 != nil {
		fmt.Fprintf(w, "velocity R² %.3f (per dimension %.3f), r %.3f\n", *r.R2, r.R2PerDim, r.RPerDim)
	}
	if r.Latency.Count > 0 {
		fmt.Fprintf(w, "decode latency (bin end -> intent): p50 %.0f µs, p99 %.0f µs, max %.0f µs over %d intents\n",
			r.Latency.P50, r.Latency.P99, r.Latency.Max, r.Latency.Count)
	} else {
		fmt.Fprintln(w, "decode latency: not measured (bins carry recorded, not live, times)")
	}
	if r.Recording != nil {
		fmt.Fprintf(w, "recorded %d bins in stream %s (%d gaps)\n", r.Recording.Recorded, bus.StreamName(r.Session), r.Recording.Gaps)
	}
	if r.RawRecord != nil {
		fmt.Fprintf(w, "recorded %d raw frames (%d gaps)\n", r.RawRecord.Recorded, r.RawRecord.Gaps)
	}
	if r.Watchdog.Stale > 0 || r.Watchdog.Halted > 0 {
		fmt.Fprintf(w, "input watchdog: %d stale and %d halted intents published while input was missing\n", r.Watchdog.Stale, r.Watchdog.Halted)
	}
	if r.Faults > 0 || r.BadInputs > 0 {
		fmt.Fprintf(w, "faults: %d non-finite decoder outputs halted, %d non-finite input features zeroed\n", r.Faults, r.BadInputs)
	}
}
