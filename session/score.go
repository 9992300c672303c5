package session

import (
	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
)

// scorer is a sink that scores decoded values against the bins' recorded
// targets, live, when the stream carries the targets the model decodes
// (the simulator, recordings): the session's R² appears in status messages
// and the summary.
type scorer struct {
	idx   []int // bin target index of each decoder output
	truth []float32
	live  *eval.Live
}

// newScorer returns a scorer of outputs against the stream's targets, or
// nil when some output is not among them.
func newScorer(outputs []string, shape acquire.Shape) *scorer {
	idx, ok := shape.TargetIndex(outputs)
	if !ok {
		return nil
	}
	return &scorer{idx: idx, truth: make([]float32, len(idx)), live: eval.NewLive(len(idx))}
}

// Consume implements pipeline.Sink.
func (s *scorer) Consume(in *decoder.Intent, b *acquire.Bin) {
	if in.Status != decoder.StatusOK || len(b.Target) == 0 {
		return
	}
	for i, j := range s.idx {
		s.truth[i] = b.Target[j]
	}
	s.live.Add(in.Values, s.truth)
}

// Score is a session's live accuracy against the stream's targets.
type Score struct {
	R2       float64   `json:"r2"`
	R2PerDim []float64 `json:"r2_per_dim"`
	RPerDim  []float64 `json:"r_per_dim"`
	N        int       `json:"n"`
}

// score returns the accuracy so far, or nil while it is undefined (too few
// bins, a target without variance).
func (s *scorer) score() *Score {
	if s == nil {
		return nil
	}
	r := s.live.Result()
	if !r.Defined() {
		return nil
	}
	return &Score{R2: r.MeanR2(), R2PerDim: r.R2, RPerDim: r.R, N: r.N}
}
