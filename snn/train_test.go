package snn

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// synthData simulates cosine-tuned Poisson neurons driven by a smooth 2-D
// velocity, standardised, as segments of segLen bins.
func synthData(seed uint64, inputs, bins, segLen int) *Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	pop := rand.New(rand.NewPCG(99, 1))
	d := &Data{Inputs: inputs, Outputs: 2, X: make([]float64, bins*inputs), Y: make([]float64, bins*2)}
	pdx, pdy := make([]float64, inputs), make([]float64, inputs)
	for i := range inputs {
		th := 2 * math.Pi * pop.Float64()
		pdx[i], pdy[i] = math.Cos(th), math.Sin(th)
	}
	ph := rng.Float64() * 6
	for t := range bins {
		vx := math.Sin(0.07*float64(t)+ph) + 0.5*math.Sin(0.023*float64(t))
		vy := math.Cos(0.05*float64(t)) * math.Sin(0.011*float64(t)+ph)
		d.Y[2*t], d.Y[2*t+1] = vx, vy
		for i := range inputs {
			lam := math.Max(0, 0.5+0.8*(vx*pdx[i]+vy*pdy[i]))
			k := 0
			for p, l := rng.Float64(), math.Exp(-lam); p > l; p *= rng.Float64() {
				k++
			}
			d.X[t*inputs+i] = float64(k) - 0.6
		}
	}
	for s := 0; s < bins; s += segLen {
		d.Segments = append(d.Segments, [2]int{s, min(s+segLen, bins)})
	}
	return d
}

func TestLaplacianGradient(t *testing.T) {
	for _, rec := range []bool{false, true} {
		m, err := NewModel(Config{Kind: HIFI, Inputs: 5, Hidden: []int{6}, Outputs: 2, Recurrent: rec}, 2)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range m.A {
			m.A[i] += 0.05 * rng.NormFloat64()
		}
		lp := newLaplacian(m)
		g := make([]float64, len(m.A))
		lp.addGrad(m, g, 1)
		for i := range m.A {
			old := m.A[i]
			m.A[i] = old + 1e-6
			p := lp.value(m)
			m.A[i] = old - 1e-6
			q := lp.value(m)
			m.A[i] = old
			if fd := (p - q) / 2e-6; math.Abs(fd-g[i]) > 1e-5+1e-4*math.Abs(fd) {
				t.Fatalf("recurrent=%v A[%d]: gradient %v, finite difference %v", rec, i, g[i], fd)
			}
		}
	}
}

func TestTrainLearnsAndMovesGamma(t *testing.T) {
	train := synthData(1, 24, 1600, 400)
	val := synthData(2, 24, 400, 400)
	tests := []struct {
		name  string
		kind  Kind
		opts  TrainOptions
		minR2 float64
	}{
		{"hifi-bilevel", HIFI, TrainOptions{Laplacian: 0.01}, 0.5},
		{"hifi-interval", HIFI, TrainOptions{Schedule: Interval, IntervalEvery: 2}, 0.5},
		{"lif-sgd", LIF, TrainOptions{Optimizer: SGDMomentum}, 0.3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewModel(Config{Kind: tc.kind, Inputs: 24, Hidden: []int{32}, Outputs: 2, Recurrent: true, ReadoutBeta: 0.5}, 1)
			if err != nil {
				t.Fatal(err)
			}
			gamma0 := slices.Clone(m.layers[0].p[Gamma])
			tc.opts.Epochs, tc.opts.Seed = 6, 3
			rep, err := Train(context.Background(), m, train, val, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.BestValR2 < tc.minR2 {
				t.Fatalf("validation R² %.3f after %d epochs, want >= %.2f", rep.BestValR2, len(rep.Epochs), tc.minR2)
			}
			moved := 0.0
			for i, g := range m.layers[0].p[Gamma] {
				moved = math.Max(moved, math.Abs(g-gamma0[i]))
				if r := Ranges[Gamma]; tc.kind == HIFI && (g < r.Lo || g > r.Hi) {
					t.Fatalf("gamma[%d] = %v left its range", i, g)
				}
			}
			if tc.kind == HIFI && moved < 1e-3 {
				t.Fatalf("self-inhibition did not learn: gamma moved at most %g", moved)
			}
			if tc.kind == LIF && moved != 0 {
				t.Fatalf("LIF gamma moved by %g", moved)
			}
		})
	}
}

func TestTrainIsDeterministic(t *testing.T) {
	train := synthData(1, 10, 300, 100)
	val := synthData(2, 10, 100, 100)
	run := func() *Model {
		m, _ := NewModel(Config{Kind: HIFI, Inputs: 10, Hidden: []int{12}, Outputs: 2, Recurrent: true}, 4)
		if _, err := Train(context.Background(), m, train, val, TrainOptions{Epochs: 2, Seed: 5, SeqLen: 20}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := run(), run()
	if !slices.Equal(a.W, b.W) || !slices.Equal(a.A, b.A) {
		t.Fatal("two runs with the same seed differ")
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	m, _ := NewModel(Config{Kind: HIFI, Inputs: 3, Hidden: []int{4}, Outputs: 2}, 1)
	good := synthData(1, 3, 50, 50)
	bad := synthData(1, 3, 50, 50)
	bad.X[7] = math.NaN()
	wrong := synthData(1, 4, 50, 50)
	noSegments := synthData(1, 3, 50, 50)
	noSegments.Segments = nil
	for name, d := range map[string]*Data{"nan": bad, "shape": wrong, "no segments": noSegments} {
		if _, err := Train(context.Background(), m, d, good, TrainOptions{Epochs: 1}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Train(context.Background(), m, good, noSegments, TrainOptions{Epochs: 1}); err == nil {
		t.Error("validation set without segments accepted")
	}
	if _, err := Train(context.Background(), m, good, good, TrainOptions{Epochs: 1, Schedule: "bogus"}); err == nil {
		t.Error("unknown schedule accepted")
	}
}

// BenchmarkTrainEpoch192x256 measures one bi-level epoch of a 192 -> 256
// (recurrent) -> 2 HIFI network on 30000 bins (10 minutes of 20 ms bins)
// with the default options on all workers.
func BenchmarkTrainEpoch192x256(b *testing.B) {
	train := synthData(1, 192, 30000, 3000)
	val := synthData(2, 192, 3000, 3000)
	for b.Loop() {
		m, err := NewModel(Config{Kind: HIFI, Inputs: 192, Hidden: []int{256}, Outputs: 2, Recurrent: true, ReadoutBeta: 0.67}, 1)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Train(context.Background(), m, train, val, TrainOptions{Epochs: 1, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
