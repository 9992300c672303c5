package decoder_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/modelfile"
	"github.com/bci-decode/bci-decode/snn"
)

func TestSaveLoadReproducesPredictions(t *testing.T) {
	ctx := context.Background()
	train := simSet(t, 1, 3000)
	test := simSet(t, 2, 300)
	k, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	require.NoError(t, err)
	ks, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{SteadyState: true})
	require.NoError(t, err)
	w, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{Lags: 3})
	require.NoError(t, err)
	for _, d := range []decoder.Decoder{k, ks, w} {
		t.Run(d.Kind(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.bcim")
			info := decoder.ModelInfo{Targets: []string{"vel_x", "vel_y"}, BinWidthNS: 20e6, Metrics: map[string]float64{"r2": 0.5}}
			hash, err := decoder.Save(path, d, info)
			require.NoError(t, err)
			l, err := decoder.Load(path)
			require.NoError(t, err)
			assert.Equal(t, hash, l.Hash)
			assert.Equal(t, info, l.Info)
			assert.Equal(t, decoder.Predict(d, test), decoder.Predict(l.Decoder, test), "bit-identical after a round trip")
			if c, ok := d.(decoder.Cloner); ok {
				assert.Equal(t, decoder.Predict(d, test), decoder.Predict(c.Clone(), test))
			}
		})
	}
}

func TestLoadRejectsBadModels(t *testing.T) {
	train := simSet(t, 1, 500)
	w, err := decoder.FitWiener(context.Background(), train, decoder.WienerOptions{Lags: 2, Ridge: 1})
	require.NoError(t, err)
	good, _, err := decoder.Encode(w, decoder.ModelInfo{})
	require.NoError(t, err)
	m, err := modelfile.Decode(good)
	require.NoError(t, err)

	reencode := func(kind string, meta json.RawMessage, payload []byte) []byte {
		b, _, err := modelfile.Encode(kind, meta, payload)
		require.NoError(t, err)
		return b
	}
	var short modelfile.Writer
	short.Float64s([]float64{1})
	nanPayload := append([]byte(nil), m.Payload...)
	// first float64 of mu (after its 8-byte length) becomes NaN
	bits := math.Float64bits(math.NaN())
	for i := range 8 {
		nanPayload[8+i] = byte(bits >> (8 * i))
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown kind", reencode("transformer", m.Meta, m.Payload), `unknown decoder kind "transformer"`},
		{"payload of another shape", reencode("wiener", m.Meta, short.Buf), "corrupt model file"},
		{"kalman metadata on wiener payload", reencode("kalman", m.Meta, m.Payload), "corrupt model file"},
		{"NaN parameter", reencode("wiener", m.Meta, nanPayload), "NaN"},
		{"no params", reencode("wiener", json.RawMessage(`{}`), m.Payload), "no decoder parameters"},
		{"target names do not match outputs", reencode("wiener", json.RawMessage(`{"info":{"targets":["a"]},"params":`+string(mustParams(t, m.Meta))+`}`), m.Payload), "1 targets for 2 outputs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.bcim")
			require.NoError(t, os.WriteFile(path, tc.data, 0o644))
			_, err := decoder.Load(path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)
		})
	}
}

func mustParams(t *testing.T, meta json.RawMessage) json.RawMessage {
	var env struct{ Params json.RawMessage }
	require.NoError(t, json.Unmarshal(meta, &env))
	return env.Params
}

// FuzzFromModel feeds every decoder kind's loader arbitrary metadata and
// payloads, past the container's checksum that would reject almost every
// mutation of a whole file: a loader must reject bad input with an error,
// never panic or step a model that disagrees with its sizes.
func FuzzFromModel(f *testing.F) {
	ctx := context.Background()
	train := simSet(f, 1, 300)
	w, err := decoder.FitWiener(ctx, train, decoder.WienerOptions{Lags: 1, Ridge: 1})
	require.NoError(f, err)
	k, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{SteadyState: true})
	require.NoError(f, err)
	seeds := []decoder.Decoder{w, k}
	for _, kind := range []snn.Kind{snn.HIFI, snn.ALIF} {
		d, _, err := decoder.FitSNN(ctx, train, decoder.SNNOptions{Kind: kind, Hidden: []int{4, 3}, Train: snn.TrainOptions{Epochs: 1}})
		require.NoError(f, err)
		seeds = append(seeds, d)
	}
	for _, d := range seeds {
		b, _, err := decoder.Encode(d, decoder.ModelInfo{Targets: []string{"vel_x", "vel_y"}})
		require.NoError(f, err)
		m, err := modelfile.Decode(b)
		require.NoError(f, err)
		f.Add(m.Kind, []byte(m.Meta), m.Payload)
	}
	f.Fuzz(func(t *testing.T, kind string, meta, payload []byte) {
		l, err := decoder.FromModel(&modelfile.Model{Kind: kind, Meta: meta, Payload: payload})
		if err != nil {
			return
		}
		out := make([]float32, l.Outputs())
		in := make([]float32, l.Inputs())
		for i := range in {
			in[i] = float32(i % 3)
		}
		l.Step(in, out)
		l.Step(in, out)
	})
}
