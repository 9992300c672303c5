package dataset

import "math"

// ValSplit names how SplitValidation chose the validation bins.
type ValSplit string

// Validation splits.
const (
	// ValTrials holds out whole trials interleaved across the set, so the
	// validation trials span the recording and every condition in it,
	// whatever order the trials were recorded or sorted in.
	ValTrials ValSplit = "interleaved-trials"
	// ValTime holds out the end of the set by time, as a continuous
	// session must be validated: on what comes after, so drift counts.
	ValTime ValSplit = "time"
)

// minValTrials is the fewest validation trials an interleaved split takes;
// with fewer trials the set is validated by time.
const minValTrials = 3

// SplitValidation holds out about frac of s for model selection (early
// stopping, penalties, neuron parameters). A trial-structured set (bins
// labelled with trial ids, enough trials for minValTrials of them) gives
// up every k-th trial, k = round(1/frac), starting at trial k/2, so
// validation represents every part of the set: trials sorted by condition
// would otherwise leave validation with one condition. A continuous set
// (no trial labels) is split by time with SplitByTime.
func (s *Set) SplitValidation(frac float64) (fit, val *Set, split ValSplit) {
	segs := s.Segments()
	k := int(math.Round(1 / frac))
	if k < 2 || !s.hasTrials() || len(segs) < minValTrials*k {
		fit, val = s.SplitByTime(frac)
		return fit, val, ValTime
	}
	var tr, va [][2]int
	for i, g := range segs {
		if i%k == k/2 {
			va = append(va, g)
		} else {
			tr = append(tr, g)
		}
	}
	return s.subset(tr), s.subset(va), ValTrials
}

// hasTrials reports whether the bins carry trial labels.
func (s *Set) hasTrials() bool {
	for _, t := range s.Trial {
		if t >= 0 {
			return true
		}
	}
	return false
}
