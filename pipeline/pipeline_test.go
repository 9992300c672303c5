package pipeline_test

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/pipeline"
)

// fitKalman fits a Kalman filter to simulated calibration data; its model
// is named hash.
func fitKalman(t testing.TB, channels int, hash string) *decoder.Loaded {
	m := testkit.Kalman(t, acquire.SimConfig{Seed: 1, Channels: channels, Bins: 5000})
	m.Hash = hash
	return m
}

// collect is a sink that keeps copies of what it is given.
type collect struct {
	intents []decoder.Intent
	targets [][]float32
}

func (c *collect) Consume(in *decoder.Intent, b *acquire.Bin) {
	var cp decoder.Intent
	cp.CopyFrom(in)
	c.intents = append(c.intents, cp)
	c.targets = append(c.targets, append([]float32(nil), b.Target...))
}

func TestPipelineDecodesSimulator(t *testing.T) {
	dec := fitKalman(t, 96, "h1")
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, Bins: 500})
	require.NoError(t, err)
	var c collect
	p, err := pipeline.New(sim, dec, pipeline.Options{}, &c)
	require.NoError(t, err)
	require.NoError(t, p.Run(context.Background()))
	require.Len(t, c.intents, 500)
	for i, in := range c.intents {
		assert.Equal(t, uint64(i), in.Seq)
		assert.Equal(t, "h1", in.Model)
		assert.Equal(t, decoder.StatusOK, in.Status)
		assert.Len(t, in.Values, 2)
		assert.Equal(t, int64(i+1)*20e6, in.SampleTime)
	}
	assert.Equal(t, uint64(500), p.Stats().Bins)
}

func TestPipelineRejectsChannelMismatch(t *testing.T) {
	dec := fitKalman(t, 32, "")
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, Channels: 96})
	require.NoError(t, err)
	_, err = pipeline.New(sim, dec, pipeline.Options{})
	require.ErrorIs(t, err, decoder.ErrShape)
	assert.Contains(t, err.Error(), "expects 32 features per bin, the stream has 96")

	slow, err := acquire.NewSimulator(acquire.SimConfig{Seed: 2, Channels: 32, BinWidth: 50 * time.Millisecond})
	require.NoError(t, err)
	_, err = pipeline.New(slow, dec, pipeline.Options{})
	require.ErrorIs(t, err, decoder.ErrShape)
	assert.Contains(t, err.Error(), "was trained on 20ms bins, the stream has 50ms bins")
}

// nanSource injects non-finite features into a simulated stream.
type nanSource struct{ r acquire.BinSource }

func (n nanSource) Shape() acquire.Shape { return n.r.Shape() }

func (n nanSource) ReadBin(ctx context.Context, b *acquire.Bin) error {
	if err := n.r.ReadBin(ctx, b); err != nil {
		return err
	}
	if b.Seq%10 == 3 {
		b.Features[5] = float32(math.NaN())
		b.Features[6] = float32(math.Inf(-1))
	}
	return nil
}

func TestPipelineSanitisesNonFiniteInput(t *testing.T) {
	dec := fitKalman(t, 96, "")
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 3, Bins: 100})
	require.NoError(t, err)
	var c collect
	p, err := pipeline.New(nanSource{sim}, dec, pipeline.Options{}, &c)
	require.NoError(t, err)
	require.NoError(t, p.Run(context.Background()))
	assert.Equal(t, uint64(20), p.Stats().BadFeatures)
	for _, in := range c.intents {
		for _, v := range in.Values {
			assert.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
		}
	}
}

func TestPipelineSwapAtBinBoundary(t *testing.T) {
	a, b := fitKalman(t, 96, "old"), fitKalman(t, 96, "new")
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 4, Bins: 20})
	require.NoError(t, err)
	var c collect
	p, err := pipeline.New(sim, a, pipeline.Options{}, &c)
	require.NoError(t, err)
	ctx := context.Background()
	for range 10 {
		require.NoError(t, p.Step(ctx))
	}
	require.NoError(t, p.Swap(b))
	require.NoError(t, p.Run(ctx))
	require.Len(t, c.intents, 20)
	for i, in := range c.intents {
		want := "old"
		if i >= 10 {
			want = "new"
		}
		assert.Equal(t, want, in.Model, "bin %d", i)
	}
	assert.Equal(t, uint64(1), p.Stats().Swaps)
	wrong := fitKalman(t, 32, "bad")
	assert.ErrorIs(t, p.Swap(wrong), decoder.ErrShape)
}

// discard is a sink that keeps nothing.
type discard struct{ n int }

func (d *discard) Consume(*decoder.Intent, *acquire.Bin) { d.n++ }

func TestPipelineStepDoesNotAllocate(t *testing.T) {
	ctx := context.Background()
	wiener, err := decoder.FitWiener(ctx, testkit.VelocitySet(t, acquire.SimConfig{Seed: 1, Bins: 3000}), decoder.WienerOptions{Lags: 5, Ridge: 1})
	require.NoError(t, err)
	for _, dec := range []*decoder.Loaded{fitKalman(t, 96, "h"), testkit.Loaded(t, wiener, decoder.ModelInfo{})} {
		t.Run(dec.Kind(), func(t *testing.T) {
			sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: 5})
			require.NoError(t, err)
			p, err := pipeline.New(sim, dec, pipeline.Options{}, &discard{})
			require.NoError(t, err)
			require.NoError(t, p.Step(ctx)) // first bin sizes the buffers
			allocs := testing.AllocsPerRun(1000, func() {
				if err := p.Step(ctx); err != nil && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs, "allocations per bin")
		})
	}
}
