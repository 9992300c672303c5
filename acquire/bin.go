package acquire

import (
	"context"
	"fmt"
	"time"
)

// Bin is one decoder timestep: the features of one bin of time, and in
// recorded training data the behaviour measured during it. Binned sources
// (sorting hardware, datasets, the simulator) deliver Bins directly; the
// signal chain turns continuous Frames into them.
type Bin struct {
	Seq uint64
	// Start and End bound the bin in nanoseconds (Unix time for live
	// sources, time since the start of the recording for files); End is
	// the sample time of the intent decoded from the bin.
	Start, End int64
	// Trial identifies the trial the bin belongs to; -1 when the source has
	// no trial structure.
	Trial int
	// Features holds one value per channel: spike counts or crossing
	// counts, optionally followed by spike-band power.
	Features []float32
	// Target holds the behaviour recorded with the bin (e.g. hand
	// velocity); empty when the source has none.
	Target []float32
}

// Width is the time the bin spans.
func (b *Bin) Width() time.Duration { return time.Duration(b.End - b.Start) }

// CopyFrom makes b a deep copy of src, reusing b's slices.
func (b *Bin) CopyFrom(src *Bin) {
	b.Seq, b.Start, b.End, b.Trial = src.Seq, src.Start, src.End, src.Trial
	b.Features = append(b.Features[:0], src.Features...)
	b.Target = append(b.Target[:0], src.Target...)
}

// Shape is what every bin of a stream shares. A stream states it once, up
// front, and a decoder is checked against it once, where the two meet.
type Shape struct {
	// Channels is the number of features per bin.
	Channels int
	// BinWidth is the time one bin spans.
	BinWidth time.Duration
	// ChannelNames, when known, names each feature.
	ChannelNames []string
	// Targets names each entry of Bin.Target (e.g. "vel_x"); empty when
	// the stream carries no behaviour.
	Targets []string
}

// Limits on a stream's shape: far beyond any electrode array, low enough
// that a lying header cannot make a reader allocate gigabytes per bin.
const (
	MaxChannels = 1 << 20
	MaxTargets  = 1 << 10
)

// Validate reports a shape that no stream can have.
func (s Shape) Validate() error {
	switch {
	case s.Channels < 1 || s.Channels > MaxChannels:
		return fmt.Errorf("%w: %d channels (want 1-%d)", ErrFormat, s.Channels, MaxChannels)
	case s.BinWidth <= 0:
		return fmt.Errorf("%w: bin width %v is not positive", ErrFormat, s.BinWidth)
	case len(s.ChannelNames) != 0 && len(s.ChannelNames) != s.Channels:
		return fmt.Errorf("%w: %d channel names for %d channels", ErrFormat, len(s.ChannelNames), s.Channels)
	case len(s.Targets) > MaxTargets:
		return fmt.Errorf("%w: %d targets (at most %d)", ErrFormat, len(s.Targets), MaxTargets)
	}
	return nil
}

// BinSource is a stream of bins.
//
// ReadBin fills b, reusing the capacity of its slices, and returns io.EOF
// once the stream is exhausted. Every bin has the stream's Shape: Channels
// features and len(Targets) target values. A source that waits returns
// ctx's error when ctx ends first.
type BinSource interface {
	Shape() Shape
	ReadBin(ctx context.Context, b *Bin) error
}

// TargetIndex says where each named target sits in the stream's bins; ok
// is false when one of them is missing or no names are given.
func (s Shape) TargetIndex(names []string) (idx []int, ok bool) {
	idx = make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, t := range s.Targets {
			if t == n {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, false
		}
	}
	return idx, len(names) > 0
}
