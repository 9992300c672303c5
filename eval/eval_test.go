package eval_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bci-decode/bci-decode/eval"
)

func col(v ...float32) [][]float32 {
	out := make([][]float32, len(v))
	for i, x := range v {
		out[i] = []float32{x}
	}
	return out
}

func TestScore(t *testing.T) {
	truth := col(1, 2, 3, 4, 5)
	tests := []struct {
		name  string
		pred  [][]float32
		r2, r float64
	}{
		{"perfect", col(1, 2, 3, 4, 5), 1, 1},
		{"mean", col(3, 3, 3, 3, 3), 0, math.NaN()},
		{"scaled", col(2, 4, 6, 8, 10), 1 - 55.0/10, 1},
		{"anti", col(5, 4, 3, 2, 1), 1 - 40.0/10, -1},
		{"offset", col(2, 3, 4, 5, 6), 0.5, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := eval.Score(tc.pred, truth)
			assert.InDelta(t, tc.r2, s.R2[0], 1e-9)
			if math.IsNaN(tc.r) {
				assert.True(t, math.IsNaN(s.R[0]))
			} else {
				assert.InDelta(t, tc.r, s.R[0], 1e-9)
			}
			assert.Equal(t, 5, s.N)
		})
	}
}

func TestScoreUndefined(t *testing.T) {
	s := eval.Score(col(1, 2, 3), col(7, 7, 7))
	assert.True(t, math.IsNaN(s.R2[0]))
	assert.False(t, s.Defined())
	assert.True(t, eval.Score(col(1, 2, 3), col(1, 2, 4)).Defined())
}

func TestMeanDefinedR2SkipsConstantTargets(t *testing.T) {
	// The second target never moves: it has no R², and the mean is the
	// first's alone rather than NaN or its rounding noise.
	pred := [][]float32{{1, 0.1}, {2, 0.2}, {3, 0.3}, {4, 0.4}}
	truth := [][]float32{{1, 0.5}, {2, 0.5}, {3, 0.5}, {5, 0.5}}
	s := eval.Score(pred, truth)
	assert.True(t, math.IsNaN(s.MeanR2()))
	assert.InDelta(t, s.R2[0], s.MeanDefinedR2(), 1e-12)
	assert.InDelta(t, 1-1.0/8.75, s.MeanDefinedR2(), 1e-9)
	assert.True(t, math.IsNaN(eval.Score(col(1, 2), col(3, 3)).MeanDefinedR2()), "no target moves")
}

func TestAccumulatorSkipsNonFinite(t *testing.T) {
	a := eval.NewAccumulator(1)
	a.Add([]float32{1}, []float32{1})
	a.Add([]float32{float32(math.NaN())}, []float32{2})
	a.Add([]float32{3}, []float32{3})
	assert.Equal(t, 2, a.Result().N)
	assert.InDelta(t, 1, a.Result().R2[0], 1e-9)
}

func TestClasses(t *testing.T) {
	// class 0 is common and always right, class 1 rare and always wrong
	pred := []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	truth := []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1}
	c := eval.Classes(pred, truth, 2)
	assert.InDelta(t, 0.8, c.Accuracy, 1e-12)
	assert.InDelta(t, 0.5, c.BalancedAccuracy, 1e-12)
}
