package decoder_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/modelfile"
)

// delayedSet is a trial-structured set of 4 noise channels whose target is
// channel 0 delayed by delay bins (plus a little noise).
func delayedSet(delay int, seed uint64) *dataset.Set {
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &dataset.Set{BinWidth: 20 * time.Millisecond, TargetNames: []string{"y"}}
	for tr := range 120 {
		start := len(s.X)
		for t := range 25 {
			x := make([]float32, 4)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			s.X = append(s.X, x)
			y := float32(0.1 * rng.NormFloat64())
			if t >= delay {
				y += s.X[start+t-delay][0]
			}
			s.Y = append(s.Y, []float32{y})
			s.Trial = append(s.Trial, tr)
		}
	}
	return s
}

// TestWienerChoosesHistoryByValidation: a target that lags its feature by
// 3 bins needs at least 4 bins of history; validation finds that, the
// model file and the fit details say so, and the filter decodes well.
func TestWienerChoosesHistoryByValidation(t *testing.T) {
	ctx := context.Background()
	train, test := delayedSet(3, 1), delayedSet(3, 2)
	w, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, w.Lags(), 4)
	d := w.FitDetails()
	assert.Equal(t, w.Lags(), d["lags"])
	assert.InDelta(t, 20*float64(w.Lags()), d["history_ms"], 1e-9)
	assert.Equal(t, string(dataset.ValTrials), d["val"])
	assert.Greater(t, scoreOn(w, test), 0.9)

	short, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{MaxHistory: 60 * time.Millisecond})
	require.NoError(t, err)
	assert.LessOrEqual(t, short.Lags(), 3, "the history stays within MaxHistory")
	assert.Less(t, scoreOn(short, test), 0.2, "3 bins of history cannot see a 3-bin delay")

	b, _, err := decoder.Encode(w, decoder.ModelInfo{})
	require.NoError(t, err)
	m, err := modelfile.Decode(b)
	require.NoError(t, err)
	var env struct {
		Params map[string]any `json:"params"`
	}
	require.NoError(t, json.Unmarshal(m.Meta, &env))
	meta := env.Params
	assert.EqualValues(t, w.Lags(), meta["lags"])
	assert.Contains(t, meta, "history_ms")
	assert.Contains(t, meta, "val_r2")

	_, err = decoder.FitWiener(ctx, train, decoder.WienerOptions{Lags: -1})
	require.Error(t, err)
}

func scoreOn(d decoder.Decoder, s *dataset.Set) float64 {
	return eval.Score(decoder.Predict(d, s), s.Y).MeanR2()
}
