package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Behaviour recorded beside a neural stream (a cursor, a hand, a
// joystick) labels its bins with targets for calibration. It comes from a
// spec as sources do:
//
//	lsl:name='Cursor'    a second Lab Streaming Layer stream
//	file:beh.csv, beh.csv a table of timestamped samples (see
//	                      BehaviourTable)
//
// Schemes register with RegisterTargets, in their own files.

// TargetSource is a stream of timestamped behaviour samples.
type TargetSource interface {
	// Names names the values of each sample (e.g. vel_x, vel_y).
	Names() []string
	// ReadSample fills v, len(Names()) values, with the next sample and
	// returns its time in nanoseconds on the bins' clock (Unix time for
	// live streams, time since the start of the recording for files), or
	// io.EOF at the end. Times never decrease.
	ReadSample(ctx context.Context, v []float32) (int64, error)
}

// OpenedTargets is an open behaviour stream.
type OpenedTargets struct {
	Samples TargetSource
	Close   func() error
}

// TargetOpener opens behaviour streams of one scheme.
type TargetOpener func(ctx context.Context, arg string, p *Params) (OpenedTargets, error)

var targetSchemes = map[string]TargetOpener{}

// RegisterTargets makes the behaviour streams of a scheme openable. It is
// meant for init functions; registering a scheme twice panics.
func RegisterTargets(scheme string, open TargetOpener) {
	addScheme(targetSchemes, "RegisterTargets", scheme, open)
}

// OpenTargets opens the behaviour stream spec names: a registered scheme,
// or a behaviour table file.
func OpenTargets(ctx context.Context, spec string, p Params) (OpenedTargets, error) {
	p.EnsureDefaults()
	open, scheme, arg, ok := lookupScheme(targetSchemes, spec)
	path := spec
	switch {
	case ok:
		return open(ctx, arg, &p)
	case scheme == "file":
		path = arg
	case spec == "":
		return OpenedTargets{}, fmt.Errorf("%w: empty behaviour spec", ErrSpec)
	}
	t, err := OpenBehaviour(path)
	if err != nil {
		return OpenedTargets{}, err
	}
	return OpenedTargets{Samples: t, Close: t.Close}, nil
}

// Labelled gives every bin of a stream the behaviour measured during it,
// aligned by time: the mean of the samples stamped within the bin
// (Start, End], or, when the behaviour is slower than the bins and none
// is, the latest sample before the bin's end. Bins before the first sample
// are skipped (counted); the stream ends when either does (the last bin
// with behaviour samples in it is kept). It
// implements BinSource; the source's own targets are replaced.
type Labelled struct {
	src     BinSource
	t       TargetSource
	shape   Shape
	next    []float32 // the first sample not yet used (nextOK)
	nextT   int64
	nextOK  bool
	last    []float32 // the latest sample used (lastOK)
	lastOK  bool
	ended   bool // the behaviour stream ended
	skipped uint64
}

// WithTargets labels src's bins with t's samples.
func WithTargets(src BinSource, t TargetSource) (*Labelled, error) {
	names := t.Names()
	shape := src.Shape()
	shape.Targets = append([]string(nil), names...)
	if err := shape.Validate(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: a behaviour stream without values", ErrFormat)
	}
	return &Labelled{src: src, t: t, shape: shape, next: make([]float32, len(names)), last: make([]float32, len(names))}, nil
}

// Shape implements BinSource.
func (l *Labelled) Shape() Shape { return l.shape }

// Skipped counts the bins dropped for want of an earlier behaviour sample.
func (l *Labelled) Skipped() uint64 { return l.skipped }

// ReadBin implements BinSource.
func (l *Labelled) ReadBin(ctx context.Context, b *Bin) error {
	for {
		if err := l.src.ReadBin(ctx, b); err != nil {
			return err
		}
		ok, err := l.label(ctx, b)
		if err != nil || ok {
			return err
		}
		l.skipped++
	}
}

// label sets b's targets; false when no sample precedes the bin's end.
func (l *Labelled) label(ctx context.Context, b *Bin) (bool, error) {
	n := len(l.next)
	b.Target = resize(b.Target, n)
	clear(b.Target)
	used := 0
	for {
		if !l.nextOK && !l.ended {
			t, err := l.t.ReadSample(ctx, l.next)
			switch {
			case errors.Is(err, io.EOF):
				l.ended = true
			case err != nil:
				return false, err
			default:
				l.nextT, l.nextOK = t, true
			}
		}
		if l.ended || l.nextT > b.End {
			break
		}
		if l.nextT > b.Start {
			for i, v := range l.next {
				b.Target[i] += v
			}
			used++
		}
		copy(l.last, l.next)
		l.lastOK, l.nextOK = true, false
	}
	switch {
	case used > 0:
		for i := range b.Target {
			b.Target[i] /= float32(used)
		}
	case l.ended:
		return false, io.EOF // nothing measured this bin, or after
	case l.lastOK:
		copy(b.Target, l.last)
	default:
		return false, nil
	}
	return true, nil
}
