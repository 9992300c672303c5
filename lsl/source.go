package lsl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
)

// The "lsl" source scheme: lsl:PREDICATE (lsl:type='EEG', lsl:name='X',
// any predicate Resolve accepts) decodes the one stream that matches.
// A stream whose nominal rate is one per bin carries binned counts and goes
// straight to the decoder; any other numeric stream is continuous and goes
// through the signal chain. Given the process's NATS connection, the
// source also records its clock readings in the session's events (see
// ClockEvent).
func init() {
	acquire.RegisterScheme("lsl", func(ctx context.Context, arg string, p *acquire.Params) (acquire.Opened, error) {
		cfg, err := configFrom(p.Services)
		if err != nil {
			return acquire.Opened{}, err
		}
		s, err := OpenSource(ctx, cfg, arg, SourceOptions{BinWidth: p.BinWidth})
		if err != nil {
			return acquire.Opened{}, err
		}
		if nc, ok := acquire.Service[*nats.Conn](p); ok && p.Session != "" {
			if err := s.RecordClock(nc, p.Session); err != nil {
				s.Close()
				return acquire.Opened{}, err
			}
		}
		o := acquire.Opened{Live: true, Close: s.Close}
		if s.Binned() {
			o.Bins = s.Bins()
		} else {
			o.Frames = s.Frames()
		}
		return o, nil
	})
}

// configFrom returns the configuration among a process's services, or the
// one liblsl would read (LSLAPICFG, lsl_api.cfg).
func configFrom(services []any) (*Config, error) {
	for _, s := range services {
		if c, ok := s.(*Config); ok {
			return c, nil
		}
	}
	return LoadConfig()
}

// SourceOptions configure OpenSource. EnsureDefaults fills them in.
type SourceOptions struct {
	// BinWidth is the decoder's bin width: a stream at one sample per bin
	// is taken as binned counts (0: every stream is continuous).
	BinWidth time.Duration
	// ResolveTimeout bounds the wait for the stream to answer (default
	// 10 s).
	ResolveTimeout time.Duration
	// MaxBuffered bounds what waits for the decoder (default 500 ms):
	// older samples are dropped and counted, never decoded late.
	MaxBuffered time.Duration
	// Chunk bounds the samples of one continuous frame (default 5 ms of
	// data).
	Chunk time.Duration
}

// EnsureDefaults fills the zero fields of o.
func (o *SourceOptions) EnsureDefaults() {
	if o.ResolveTimeout <= 0 {
		o.ResolveTimeout = 10 * time.Second
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = 500 * time.Millisecond
	}
	if o.Chunk <= 0 {
		o.Chunk = 5 * time.Millisecond
	}
}

// Source is one LSL stream read by the decoder, as frames (Frames) or as
// bins (Bins). Its stamps are the inlet's: this machine's clock, corrected
// for the outlet's clock offset and de-jittered.
type Source struct {
	in     *Inlet
	query  string
	info   StreamInfo
	binned bool
	width  time.Duration
	chunk  int       // samples per frame at most
	scale  []float32 // per channel, to µV; nil when the stream is in µV
	stamps []int64
	seq    uint64
	clock  *clockRecorder // nil unless RecordClock
}

// OpenSource resolves predicate and opens an inlet on the stream. More
// than one match is an error (which one to decode would be a guess), as is
// a string stream or an irregular numeric one, which carry no signal.
func OpenSource(ctx context.Context, cfg *Config, predicate string, opts SourceOptions) (*Source, error) {
	opts.EnsureDefaults()
	info, err := resolveOne(ctx, cfg, predicate, opts.ResolveTimeout)
	if err != nil {
		return nil, err
	}
	switch {
	case info.Format == String:
		return nil, fmt.Errorf("lsl source %s: %q is a string (marker) stream: no signal to decode", predicate, info.Name)
	case info.NominalRate <= 0:
		return nil, fmt.Errorf("lsl source %s: %q has an irregular rate: no signal to decode", predicate, info.Name)
	}
	in, err := OpenInlet(ctx, cfg, info, InletOptions{MaxBuffered: opts.MaxBuffered, Recover: true, Query: predicate})
	if err != nil {
		return nil, fmt.Errorf("lsl source %s: %w", predicate, err)
	}
	s := &Source{in: in, query: predicate, info: in.Info()}
	s.width = time.Duration(math.Round(1e9 / info.NominalRate))
	s.binned = opts.BinWidth > 0 && math.Abs(float64(s.width-opts.BinWidth)) <= 1e-3*float64(opts.BinWidth)
	if s.binned {
		s.width = opts.BinWidth
	}
	s.chunk = max(1, int(math.Ceil(info.NominalRate*opts.Chunk.Seconds())))
	if s.binned {
		s.chunk = 1
	}
	s.stamps = make([]int64, s.chunk)
	s.scale = toMicrovolts(s.info.Channels(), info.ChannelCount)
	return s, nil
}

// resolveOne finds the one stream predicate matches.
func resolveOne(ctx context.Context, cfg *Config, predicate string, timeout time.Duration) (StreamInfo, error) {
	if strings.TrimSpace(predicate) == "" {
		return StreamInfo{}, errors.New("lsl source: want lsl:PREDICATE, e.g. lsl:type='EEG' or lsl:name='X' (see 'bci-decode lsl list')")
	}
	// A little longer than the first answer, so a second match is heard.
	found, err := Resolve(ctx, cfg, predicate, ResolveOptions{Minimum: 1, Timeout: timeout, MinimumTime: 300 * time.Millisecond})
	switch {
	case errors.Is(err, ErrNotFound) || err == nil && len(found) == 0:
		return StreamInfo{}, fmt.Errorf("lsl source %s: no stream matches within %v (see 'bci-decode lsl list')", predicate, timeout)
	case err != nil:
		return StreamInfo{}, fmt.Errorf("lsl source %s: %w", predicate, err)
	case len(found) > 1:
		names := make([]string, len(found))
		for i, f := range found {
			names[i] = fmt.Sprintf("%q (source id %q, host %s)", f.Name, f.SourceID, f.Hostname)
		}
		return StreamInfo{}, fmt.Errorf("lsl source %s: %d streams match: %s; narrow the predicate (and source_id='...')", predicate, len(found), strings.Join(names, ", "))
	}
	return found[0], nil
}

// toMicrovolts returns per-channel factors to µV from the channels' units,
// or nil when none is needed (µV, counts, or no units given).
func toMicrovolts(chs []Channel, n int) []float32 {
	if len(chs) != n {
		return nil
	}
	scale := make([]float32, n)
	scaled := false
	for i, c := range chs {
		scale[i] = 1
		switch strings.ToLower(strings.TrimSpace(c.Unit)) {
		case "v", "volt", "volts":
			scale[i] = 1e6
		case "mv", "millivolt", "millivolts":
			scale[i] = 1e3
		case "nv", "nanovolt", "nanovolts":
			scale[i] = 1e-3
		}
		scaled = scaled || scale[i] != 1
	}
	if !scaled {
		return nil
	}
	return scale
}

// RecordClock publishes the stream's clock readings on session's events
// subject until the source closes: each new clock-offset estimate (looked
// for every TimeUpdateInterval) and a last one at Close. Publishing
// failures are counted in the source's report (ClockEvents).
func (s *Source) RecordClock(nc *nats.Conn, session string) error {
	if s.clock != nil {
		return fmt.Errorf("lsl source %s: already recording its clock", s.query)
	}
	c, err := startClockRecorder(nc, session, s.in, s.in.cfg.TimeUpdateInterval, zerolog.Nop())
	if err != nil {
		return err
	}
	s.clock = c
	return nil
}

// Binned reports whether the stream carries one sample per bin.
func (s *Source) Binned() bool { return s.binned }

// Info returns the stream's full info.
func (s *Source) Info() StreamInfo { return s.info.Clone() }

// Frames returns the stream as continuous frames for the signal chain.
func (s *Source) Frames() *FrameSource { return &FrameSource{s} }

// Bins returns the stream as bins (one sample per bin).
func (s *Source) Bins() *BinSource { return &BinSource{s} }

// labels returns the channel labels, when the description gives one for
// every channel.
func labels(info StreamInfo) []string {
	chs := info.Channels()
	if len(chs) != info.ChannelCount {
		return nil
	}
	out := make([]string, len(chs))
	for i, c := range chs {
		if out[i] = c.Label; c.Label == "" {
			return nil
		}
	}
	return out
}

// pull reads up to len(s.stamps) samples into data.
func (s *Source) pull(ctx context.Context, data []float32) (int, error) {
	n, err := s.in.PullFloat32(ctx, data, s.stamps)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case errors.Is(err, ErrClosed):
		return 0, io.EOF
	default:
		return 0, fmt.Errorf("lsl source %s: %w", s.query, err)
	}
	if s.scale != nil {
		nch := s.info.ChannelCount
		for i := range data[:n*nch] {
			data[i] *= s.scale[i%nch]
		}
	}
	s.seq++
	return n, nil
}

// SourceStats are what the source reports in status messages and the
// session's summary: the inlet's loss, gap and clock counters.
type SourceStats struct {
	Stream        string  `json:"stream"`
	Samples       uint64  `json:"samples"`
	LostSamples   uint64  `json:"lost_samples"`
	DroppedStale  uint64  `json:"dropped_stale"`
	Gaps          uint64  `json:"gaps"`
	Jumps         uint64  `json:"jumps"`
	Reconnects    uint64  `json:"reconnects"`
	BadMessages   uint64  `json:"bad_messages"`
	NewestAgeMS   float64 `json:"newest_age_ms"`
	ClockOffsetMS float64 `json:"clock_offset_ms"`
	RTTMS         float64 `json:"rtt_ms"`
	Connected     bool    `json:"connected"`
	LastError     string  `json:"last_error,omitempty"`
	// ClockEvents count the clock readings published (see RecordClock).
	ClockEvents *EventCounts `json:"clock_events,omitempty"`
}

// Report implements the pipeline's Reporter; it may be called from any
// goroutine.
func (s *Source) Report() (string, any) {
	st := s.in.Stats()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	out := SourceStats{Stream: s.info.Name, Samples: st.Samples, LostSamples: st.LostSamples, DroppedStale: st.DroppedStale,
		Gaps: st.Gaps, Jumps: st.Jumps, Reconnects: st.Reconnects, BadMessages: st.BadMessages,
		NewestAgeMS: ms(st.NewestAge), ClockOffsetMS: ms(st.ClockOffset), RTTMS: ms(st.RTT), Connected: st.Connected}
	if st.LastError != nil {
		out.LastError = st.LastError.Error()
	}
	if s.clock != nil {
		c := s.clock.events.counts()
		out.ClockEvents = &c
	}
	return "lsl", out
}

// Close closes the inlet and then, when recording the stream's clock,
// publishes the last reading.
func (s *Source) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if s.clock == nil {
		return s.in.Close(ctx)
	}
	s.clock.stop()
	err := s.in.Close(ctx)
	s.clock.publishLast() // with a time of its own: a slow bus must not cut the inlet's close short
	return err
}

// FrameSource reads a continuous stream as frames; it implements
// acquire.Source.
type FrameSource struct{ *Source }

// Info implements acquire.Source.
func (s *FrameSource) Info() acquire.Info {
	return acquire.Info{Channels: s.info.ChannelCount, Rate: s.info.NominalRate, Units: "uV", ChannelNames: labels(s.info)}
}

// ReadFrame implements acquire.Source: it returns the samples waiting (a
// few milliseconds at most), blocking until one arrives. The frame's time
// is its first sample's stamp.
func (s *FrameSource) ReadFrame(ctx context.Context, f *acquire.Frame) error {
	nch := s.info.ChannelCount
	if need := s.chunk * nch; cap(f.Data) < need {
		f.Data = make([]float32, need)
	}
	f.Data = f.Data[:s.chunk*nch]
	n, err := s.pull(ctx, f.Data)
	if err != nil {
		return err
	}
	f.Data = f.Data[:n*nch]
	f.Seq, f.Time, f.Rate, f.Channels = s.seq-1, s.stamps[0], s.info.NominalRate, nch
	return nil
}

// BinSource reads a stream of binned counts, one sample per bin; it
// implements acquire.BinSource. A sample's stamp is taken as its bin's end.
type BinSource struct{ *Source }

// Shape implements acquire.BinSource.
func (s *BinSource) Shape() acquire.Shape {
	return acquire.Shape{Channels: s.info.ChannelCount, BinWidth: s.width, ChannelNames: labels(s.info)}
}

// ReadBin implements acquire.BinSource.
func (s *BinSource) ReadBin(ctx context.Context, b *acquire.Bin) error {
	nch := s.info.ChannelCount
	if cap(b.Features) < nch {
		b.Features = make([]float32, nch)
	}
	b.Features = b.Features[:nch]
	if _, err := s.pull(ctx, b.Features); err != nil {
		return err
	}
	b.Seq, b.End, b.Trial, b.Target = s.seq-1, s.stamps[0], -1, b.Target[:0]
	b.Start = b.End - int64(s.width)
	return nil
}
