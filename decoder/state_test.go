package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/snn"
)

// TestCheckpointContinuesStream decodes half a stream, checkpoints, loads
// the model again elsewhere, restores the checkpoint and decodes the rest:
// the outputs equal those of one uninterrupted run, bit for bit.
func TestCheckpointContinuesStream(t *testing.T) {
	ctx := context.Background()
	train := simSet(t, 1, 2000)
	test := simSet(t, 2, 200)
	k, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	require.NoError(t, err)
	w, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{Lags: 3, Ridge: 1})
	require.NoError(t, err)
	s, _, err := decoder.FitSNN(ctx, train, decoder.SNNOptions{Kind: snn.HIFI, Hidden: []int{16}, Train: snn.TrainOptions{Epochs: 1}})
	require.NoError(t, err)
	for _, d := range []decoder.Decoder{k, w, s} {
		t.Run(d.Kind(), func(t *testing.T) {
			b, _, err := decoder.Encode(d, decoder.ModelInfo{})
			require.NoError(t, err)
			whole := make([][]float32, test.Len())
			d.Reset()
			for i, x := range test.X {
				whole[i] = make([]float32, d.Outputs())
				d.Step(x, whole[i])
			}
			d.Reset()
			out := make([]float32, d.Outputs())
			for _, x := range test.X[:100] {
				d.Step(x, out)
			}
			state := d.(decoder.StateSaver).AppendState(nil)
			other, err := decoder.Decode(b)
			require.NoError(t, err)
			require.NoError(t, other.Decoder.(decoder.StateSaver).RestoreState(state))
			for i, x := range test.X[100:] {
				other.Step(x, out)
				assert.Equal(t, whole[100+i], out, "bin %d", 100+i)
			}
			assert.ErrorIs(t, other.Decoder.(decoder.StateSaver).RestoreState(state[:len(state)-1]), decoder.ErrState)
		})
	}
}
