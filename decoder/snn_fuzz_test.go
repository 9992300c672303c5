package decoder_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/modelfile"
	"github.com/bci-decode/bci-decode/snn"
)

// FuzzSNNFromModel feeds the spiking decoders' loader arbitrary metadata
// and payloads past the container checksum: it must reject them with an
// error, never panic or step a network that disagrees with its sizes.
func FuzzSNNFromModel(f *testing.F) {
	train := simSet(f, 1, 300)
	for _, kind := range []snn.Kind{snn.HIFI, snn.ALIF} {
		d, _, err := decoder.FitSNN(context.Background(), train, decoder.SNNOptions{Kind: kind, Hidden: []int{4, 3}, Train: snn.TrainOptions{Epochs: 1}})
		require.NoError(f, err)
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
