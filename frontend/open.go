package frontend

import (
	"context"
	"errors"
	"fmt"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/encoder"
)

// Pace says how fast a stream is read.
type Pace string

// Paces.
const (
	// PaceAuto reads live sources and the simulator in real time and
	// recordings as fast as possible.
	PaceAuto Pace = ""
	// PaceRealtime releases each bin no earlier than its end.
	PaceRealtime Pace = "realtime"
	// PaceFast reads as fast as the source delivers.
	PaceFast Pace = "fast"
)

// OpenOptions configures Open.
type OpenOptions struct {
	// Source is handed to the source's opener.
	Source acquire.Params
	// Chain conditions continuous sources.
	Chain Options
	// Pace is how fast the stream is read.
	Pace Pace
}

// Stream is an opened source as the pipeline reads it: bins, through the
// signal chain when the source is continuous, paced in real time when
// asked. It implements acquire.BinSource.
type Stream struct {
	acquire.BinSource
	// Realtime is set when bins come no faster than real time (a live
	// source, or pacing): outputs must then never wait.
	Realtime bool
	frames   *encoder.FrameReader // nil for binned sources
	source   any                  // the opened source, for its report
	close    func() error
}

// Open opens the source spec names (see acquire.Open) as a stream of bins.
func Open(ctx context.Context, spec string, o OpenOptions) (*Stream, error) {
	if o.Pace != PaceAuto && o.Pace != PaceRealtime && o.Pace != PaceFast {
		return nil, fmt.Errorf("pace %q: want realtime or fast", o.Pace)
	}
	if o.Source.BinWidth == 0 {
		chain := o.Chain
		chain.EnsureDefaults()
		o.Source.BinWidth = chain.Encoder.BinWidth
	}
	src, err := acquire.Open(ctx, spec, o.Source)
	if err != nil {
		return nil, err
	}
	s, err := stream(src, o)
	if err != nil {
		_ = src.Close()
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	return s, nil
}

func stream(src acquire.Opened, o OpenOptions) (*Stream, error) {
	if src.Live && o.Pace == PaceFast {
		return nil, errors.New("a live source cannot be read faster than real time")
	}
	s := &Stream{Realtime: src.Live || o.Pace == PaceRealtime || o.Pace == PaceAuto && src.Rebase, close: src.Close}
	var bins acquire.BinSource
	if src.Frames != nil {
		r, err := Reader(src.Frames, o.Chain)
		if err != nil {
			return nil, err
		}
		s.frames, s.source, bins = r, src.Frames, r
	} else {
		s.source, bins = src.Bins, src.Bins
	}
	if err := bins.Shape().Validate(); err != nil {
		return nil, err
	}
	if s.Realtime && !src.Live {
		bins = acquire.Paced(bins, src.Rebase)
	}
	s.BinSource = bins
	return s, nil
}

// Continuous reports whether the stream runs through the signal chain.
func (s *Stream) Continuous() bool { return s.frames != nil }

// Tap hands every raw frame of a continuous stream to f before it is
// filtered (to record it); it does nothing for a binned stream.
func (s *Stream) Tap(f func(*acquire.Frame)) {
	if s.frames != nil {
		s.frames.Tap(f)
	}
}

// Encoder is the signal chain's encoder (noise estimates, thresholds), nil
// for a binned stream.
func (s *Stream) Encoder() *encoder.Encoder {
	if s.frames == nil {
		return nil
	}
	return s.frames.Encoder()
}

// StreamStats is what a stream reports: the source's own counters (lost
// frames, clock offsets), and the time jumps the signal chain re-anchored
// to (input paused, frames lost).
type StreamStats struct {
	Source       any     `json:"source,omitempty"`
	TimeJumps    int64   `json:"time_jumps"`
	TimeJumpedMS float64 `json:"time_jumped_ms"`
}

// Report implements the pipeline's Reporter; it may be called from any
// goroutine.
func (s *Stream) Report() (string, any) {
	var st StreamStats
	if r, ok := s.source.(interface{ Report() (string, any) }); ok {
		_, st.Source = r.Report()
	}
	if s.frames != nil {
		n, total := s.frames.Encoder().Jumps()
		st.TimeJumps, st.TimeJumpedMS = n, float64(total)/1e6
	}
	return "source", st
}

// Close releases the source.
func (s *Stream) Close() error { return s.close() }

// ReadSet reads the whole stream spec names, as fast as it can, into a
// dataset keeping the named targets (all when none are named), for
// training and evaluation.
func ReadSet(ctx context.Context, spec string, o OpenOptions, targets ...string) (*dataset.Set, error) {
	o.Pace = PaceFast
	s, err := Open(ctx, spec, o)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	set, err := dataset.Read(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec, err)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("%s: no bins", spec)
	}
	if len(targets) == 0 {
		return set, nil
	}
	return set.SelectTargets(targets...)
}
