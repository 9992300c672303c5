package dataset_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/dataset"
)

// trials builds a set whose feature is the bin index and whose trial ids
// are given.
func trials(ids ...int) *dataset.Set {
	s := &dataset.Set{TargetNames: []string{"a", "b"}}
	for i, id := range ids {
		s.X = append(s.X, []float32{float32(i)})
		s.Y = append(s.Y, []float32{float32(i), -float32(i)})
		s.Trial = append(s.Trial, id)
	}
	return s
}

func first(s *dataset.Set) []float32 {
	var out []float32
	for _, x := range s.X {
		out = append(out, x[0])
	}
	return out
}

func TestSegments(t *testing.T) {
	s := trials(0, 0, 1, 1, 1, 2, -1, -1)
	assert.Equal(t, [][2]int{{0, 2}, {2, 5}, {5, 6}, {6, 8}}, s.Segments())
	assert.Empty(t, trials().Segments())
}

func TestSplitByTrial(t *testing.T) {
	s := trials(0, 0, 1, 2, 2, 3, 4, 4)
	train, test := s.SplitByTrial(2)
	assert.Equal(t, []float32{0, 1, 3, 4, 6, 7}, first(train))
	assert.Equal(t, []float32{2, 5}, first(test))
}

func TestSplitByTime(t *testing.T) {
	// no trials: a plain cut
	s := trials(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1)
	head, tail := s.SplitByTime(0.2)
	assert.Equal(t, []float32{0, 1, 2, 3, 4, 5, 6, 7}, first(head))
	assert.Equal(t, []float32{8, 9}, first(tail))
	// with trials the cut moves to the nearest trial boundary
	s = trials(0, 0, 0, 1, 1, 1, 1, 2, 2, 2)
	head, tail = s.SplitByTime(0.2)
	assert.Equal(t, []float32{7, 8, 9}, first(tail))
	assert.Len(t, head.X, 7)
}

func TestSelectTargets(t *testing.T) {
	s := trials(0, 0)
	sel, err := s.SelectTargets("b")
	require.NoError(t, err)
	assert.Equal(t, [][]float32{{0}, {-1}}, sel.Y)
	assert.Equal(t, [][]float32{{0, 0}, {1, -1}}, s.Y, "the original is untouched")
	_, err = s.SelectTargets("c")
	assert.ErrorContains(t, err, `no target "c"`)
}

func TestSplitValidationTrialsInterleaved(t *testing.T) {
	// 40 trials of 2 bins, sorted by "condition" (the trial id here): a
	// time split would validate on the last condition only.
	var ids []int
	for tr := range 40 {
		ids = append(ids, tr, tr)
	}
	s := trials(ids...)
	fit, val, split := s.SplitValidation(0.1)
	assert.Equal(t, dataset.ValTrials, split)
	assert.Equal(t, []int{5, 5, 15, 15, 25, 25, 35, 35}, val.Trial)
	assert.Equal(t, 72, fit.Len())
	for _, tr := range fit.Trial {
		assert.NotEqual(t, 5, tr%10, "trial %d is in both splits", tr)
	}
}

func TestSplitValidationContinuousByTime(t *testing.T) {
	ids := make([]int, 100)
	for i := range ids {
		ids[i] = -1
	}
	fit, val, split := trials(ids...).SplitValidation(0.1)
	assert.Equal(t, dataset.ValTime, split)
	assert.Equal(t, []float32{90, 91, 92, 93, 94, 95, 96, 97, 98, 99}, first(val))
	assert.Equal(t, 90, fit.Len())
	// too few trials to interleave: by time too
	_, _, split = trials(0, 0, 1, 1, 2, 2).SplitValidation(0.1)
	assert.Equal(t, dataset.ValTime, split)
}
