// Package dataset holds binned recordings in memory for fitting and scoring
// decoders: features and behavioural targets per bin, with trial labels, and
// the splits that keep evaluation honest (by trial, or by time, never
// shuffled across a split).
package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/internal/budget"
)

// Set is a binned recording: X[i] are the features of bin i, Y[i] its
// targets, Trial[i] its trial (-1 when the recording has no trials).
// Bins of one trial are contiguous and in time order.
type Set struct {
	X            [][]float32
	Y            [][]float32
	Trial        []int
	BinWidth     time.Duration
	FeatureNames []string
	TargetNames  []string
}

// Len is the number of bins.
func (s *Set) Len() int { return len(s.X) }

// Inputs is the number of features per bin.
func (s *Set) Inputs() int {
	if len(s.X) == 0 {
		return len(s.FeatureNames)
	}
	return len(s.X[0])
}

// Outputs is the number of targets per bin.
func (s *Set) Outputs() int {
	if len(s.Y) == 0 {
		return len(s.TargetNames)
	}
	return len(s.Y[0])
}

// Segments returns [start, end) index ranges of runs of contiguous bins: one
// per trial, or the whole set when it has no trials. Models with memory
// (lags, state, membranes) restart at each segment.
func (s *Set) Segments() [][2]int {
	var out [][2]int
	start := 0
	for i := 1; i <= len(s.X); i++ {
		if i == len(s.X) || s.Trial[i] != s.Trial[i-1] {
			if i > start {
				out = append(out, [2]int{start, i})
			}
			start = i
		}
	}
	return out
}

// subset returns the bins in the given segments, sharing row storage.
func (s *Set) subset(segs [][2]int) *Set {
	out := &Set{BinWidth: s.BinWidth, FeatureNames: s.FeatureNames, TargetNames: s.TargetNames}
	for _, g := range segs {
		out.X = append(out.X, s.X[g[0]:g[1]]...)
		out.Y = append(out.Y, s.Y[g[0]:g[1]]...)
		out.Trial = append(out.Trial, s.Trial[g[0]:g[1]]...)
	}
	return out
}

// SplitByTrial puts every testEvery-th segment (trial) into test and the rest
// into train. With testEvery 5, trials 4, 9, 14... (0-based) are held out.
func (s *Set) SplitByTrial(testEvery int) (train, test *Set) {
	segs := s.Segments()
	var tr, te [][2]int
	for i, g := range segs {
		if testEvery > 0 && i%testEvery == testEvery-1 {
			te = append(te, g)
		} else {
			tr = append(tr, g)
		}
	}
	return s.subset(tr), s.subset(te)
}

// SplitByTime returns the first (1-frac) of the bins as head and the last
// frac as tail. When the set has trials, the cut moves to the nearest trial
// boundary so no trial is split.
func (s *Set) SplitByTime(frac float64) (head, tail *Set) {
	n := len(s.X)
	cut := int(float64(n) * (1 - frac))
	segs := s.Segments()
	if len(segs) > 1 {
		best, bestd := n, n+1
		for _, g := range segs {
			d := g[0] - cut
			if d < 0 {
				d = -d
			}
			if d < bestd && g[0] > 0 {
				best, bestd = g[0], d
			}
		}
		cut = best
	}
	var h, t [][2]int
	for _, g := range segs {
		switch {
		case g[1] <= cut:
			h = append(h, g)
		case g[0] >= cut:
			t = append(t, g)
		default:
			h = append(h, [2]int{g[0], cut})
			t = append(t, [2]int{cut, g[1]})
		}
	}
	return s.subset(h), s.subset(t)
}

// SelectTargets returns a view of s keeping only the named targets, in the
// order given.
func (s *Set) SelectTargets(names ...string) (*Set, error) {
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, t := range s.TargetNames {
			if t == n {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("dataset: no target %q (have %v)", n, s.TargetNames)
		}
	}
	out := *s
	out.TargetNames = append([]string(nil), names...)
	out.Y = make([][]float32, len(s.Y))
	flat := make([]float32, len(s.Y)*len(idx))
	for i, y := range s.Y {
		row := flat[i*len(idx) : (i+1)*len(idx) : (i+1)*len(idx)]
		for k, j := range idx {
			row[k] = y[j]
		}
		out.Y[i] = row
	}
	return &out, nil
}

// Read drains a bin source into a Set. It stops at io.EOF; any other error
// is returned with the bins read so far.
func Read(ctx context.Context, src acquire.BinSource) (*Set, error) {
	sh := src.Shape()
	s := &Set{BinWidth: sh.BinWidth, FeatureNames: sh.ChannelNames, TargetNames: sh.Targets}
	var b acquire.Bin
	for {
		err := src.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		if n := len(s.X); n&(n-1) == 0 { // as the set doubles
			if err := budget.Check(fmt.Sprintf("reading %d bins of %d features", 2*n, sh.Channels), uint64(2*n), 4*uint64(sh.Channels+len(sh.Targets))+64); err != nil {
				return s, err
			}
		}
		if len(b.Features) != sh.Channels || len(b.Target) != len(sh.Targets) {
			return s, fmt.Errorf("bin %d has %d features and %d targets, the stream %d and %d: %w", b.Seq, len(b.Features), len(b.Target), sh.Channels, len(sh.Targets), acquire.ErrFormat)
		}
		s.X = append(s.X, append([]float32(nil), b.Features...))
		s.Y = append(s.Y, append([]float32(nil), b.Target...))
		s.Trial = append(s.Trial, b.Trial)
	}
}
