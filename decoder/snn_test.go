package decoder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/modelfile"
	"github.com/bci-decode/bci-decode/snn"
)

func fitSmallSNN(t *testing.T, kind snn.Kind) *decoder.SNN {
	t.Helper()
	train := simSet(t, 1, 1500)
	d, rep, err := decoder.FitSNN(context.Background(), train, decoder.SNNOptions{
		Kind: kind, Hidden: []int{24}, Seed: 1, Train: snn.TrainOptions{Epochs: 10, Batch: 4, ValBatch: 4, LRW: 1e-2, Warmup: 5, Seed: 2},
	})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Epochs)
	return d
}

func TestSNNSaveLoadRoundTrip(t *testing.T) {
	test := simSet(t, 2, 300)
	for _, kind := range []snn.Kind{snn.HIFI, snn.ALIF} {
		t.Run(string(kind), func(t *testing.T) {
			d := fitSmallSNN(t, kind)
			path := filepath.Join(t.TempDir(), "m.bcim")
			info := decoder.ModelInfo{Targets: []string{"vel_x", "vel_y"}, BinWidthNS: 20e6}
			hash, err := decoder.Save(path, d, info)
			require.NoError(t, err)
			l, err := decoder.Load(path)
			require.NoError(t, err)
			assert.Equal(t, hash, l.Hash)
			assert.Equal(t, string(kind), l.Kind())
			want := decoder.Predict(d, test)
			assert.Equal(t, want, decoder.Predict(l.Decoder, test), "bit-identical after a round trip")
			assert.Equal(t, want, decoder.Predict(d.Clone(), test))
			if kind == snn.HIFI {
				assert.Greater(t, eval.Score(want, test.Y).MeanR2(), 0.2, "a trained HIFI decoder tracks velocity")
			}

			b, err := os.ReadFile(path)
			require.NoError(t, err)
			for name, bad := range map[string][]byte{
				"truncated": b[:len(b)/2],
				"bit flip":  flip(b, len(b)/2),
				"empty":     nil,
			} {
				_, err := decoder.Decode(bad)
				require.Error(t, err, name)
				assert.True(t, errors.Is(err, modelfile.ErrCorrupt), "%s: %v", name, err)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x10
	return c
}

// TestSNNLoadRejectsInconsistentPayloads re-seals payloads that pass the
// checksum but do not match the architecture.
func TestSNNLoadRejectsInconsistentPayloads(t *testing.T) {
	d := fitSmallSNN(t, snn.HIFI)
	meta, payload, err := d.MarshalModel()
	require.NoError(t, err)
	var short modelfile.Writer
	short.Float64s([]float64{1, 2, 3})
	cases := map[string][]byte{
		"truncated payload": payload[:len(payload)-5],
		"wrong sizes":       short.Buf,
		"trailing bytes":    append(append([]byte(nil), payload...), 1, 2, 3),
	}
	for name, p := range cases {
		b, _, err := modelfile.Encode("hifi", map[string]any{"info": decoder.ModelInfo{}, "params": meta}, p)
		require.NoError(t, err)
		_, err = decoder.Decode(b)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, modelfile.ErrCorrupt), "%s: %v", name, err)
	}
}

func TestSNNStepDoesNotAllocate(t *testing.T) {
	d := fitSmallSNN(t, snn.HIFI)
	test := simSet(t, 3, 100)
	out := make([]float32, 2)
	i := 0
	allocs := testing.AllocsPerRun(200, func() {
		d.Step(test.X[i%test.Len()], out)
		i++
	})
	assert.Zero(t, allocs)
	assert.Positive(t, d.Activity().Steps)
	for _, k := range decoder.SNNKinds {
		assert.Contains(t, decoder.Kinds(), k)
	}
}

// TestSNNConstantTargetsStillSave trains on a target without variance (R²
// undefined) and checks the model still saves and loads.
func TestSNNConstantTargetsStillSave(t *testing.T) {
	train := simSet(t, 1, 400)
	for i := range train.Y {
		train.Y[i][1] = 3
	}
	d, _, err := decoder.FitSNN(context.Background(), train, decoder.SNNOptions{Hidden: []int{8}, Train: snn.TrainOptions{Epochs: 1}})
	require.NoError(t, err)
	b, _, err := decoder.Encode(d, decoder.ModelInfo{})
	require.NoError(t, err)
	_, err = decoder.Decode(b)
	require.NoError(t, err)
}
