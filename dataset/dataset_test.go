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
