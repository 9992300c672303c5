package snn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func randomNorm(rng *rand.Rand, in, out int) Norm {
	n := Identity(in, out)
	for i := range n.InMu {
		n.InMu[i], n.InSd[i] = rng.Float64(), 0.5+rng.Float64()
	}
	for i := range n.OutMu {
		n.OutMu[i], n.OutSd[i] = rng.NormFloat64(), 1+rng.Float64()
	}
	return n
}

// TestRuntimeMatchesModel compares the float32 event-driven Step and the
// dense baseline with the float64 training forward pass on the same input.
func TestRuntimeMatchesModel(t *testing.T) {
	for _, kind := range Kinds {
		for _, soft := range []bool{false, true} {
			t.Run(string(kind), func(t *testing.T) {
				cfg := Config{Kind: kind, Inputs: 12, Hidden: []int{16, 8}, Outputs: 2, Recurrent: true, ReadoutBeta: 0.7, SoftReset: soft, InitGain: 2}
				m, err := NewModel(cfg, 5)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(1, 2))
				norm := randomNorm(rng, cfg.Inputs, cfg.Outputs)
				rt, err := m.Compile(norm)
				if err != nil {
					t.Fatal(err)
				}
				dn, err := NewDense(m, norm)
				if err != nil {
					t.Fatal(err)
				}
				steps := 40
				raw := make([]float32, steps*cfg.Inputs)
				z := make([]float64, steps*cfg.Inputs)
				for i := range raw {
					switch rng.IntN(4) {
					case 0:
						raw[i] = 1
					case 1:
						raw[i] = float32(rng.IntN(4))
					}
					j := i % cfg.Inputs
					z[i] = (float64(raw[i]) - norm.InMu[j]) / norm.InSd[j]
				}
				tp := m.newTape(steps)
				m.forward(tp, z, steps, false, nil)
				out, outD := make([]float32, 2), make([]float32, 2)
				spikes := 0
				for t0 := range steps {
					rt.Step(raw[t0*cfg.Inputs:(t0+1)*cfg.Inputs], out)
					dn.Step(raw[t0*cfg.Inputs:(t0+1)*cfg.Inputs], outD)
					for o := range out {
						want := tp.y[t0*2+o]*norm.OutSd[o] + norm.OutMu[o]
						if math.Abs(float64(out[o])-want) > 1e-3*(1+math.Abs(want)) {
							t.Fatalf("step %d output %d: runtime %v, model %v", t0, o, out[o], want)
						}
						if math.Abs(float64(outD[o]-out[o])) > 1e-3*(1+math.Abs(want)) {
							t.Fatalf("step %d output %d: dense %v, event-driven %v", t0, o, outD[o], out[o])
						}
					}
					spikes += len(tp.ls[0].active[t0])
				}
				if spikes == 0 || spikes == steps*16 {
					t.Fatalf("%d spikes in %d steps: the comparison does not exercise spiking", spikes, steps)
				}
				a := rt.Activity()
				if a.Steps != uint64(steps) || a.Spikes == 0 || a.AC == 0 || a.MAC == 0 {
					t.Fatalf("activity %+v", a)
				}
				if a.EnergyPerStepNJ() >= a.DenseEnergyPerStepNJ() {
					t.Errorf("sparse energy %v nJ not below dense %v nJ", a.EnergyPerStepNJ(), a.DenseEnergyPerStepNJ())
				}
			})
		}
	}
}

func benchNet(tb testing.TB, activity float64) (*Runtime, *Dense, [][]float32) {
	cfg := Config{Kind: HIFI, Inputs: 192, Hidden: []int{256}, Outputs: 2, Recurrent: true, ReadoutBeta: 0.8}
	m, err := NewModel(cfg, 1)
	if err != nil {
		tb.Fatal(err)
	}
	norm := Identity(cfg.Inputs, cfg.Outputs)
	rt, err := m.Compile(norm)
	if err != nil {
		tb.Fatal(err)
	}
	dn, err := NewDense(m, norm)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ins := make([][]float32, 1024)
	for i := range ins {
		ins[i] = make([]float32, cfg.Inputs)
		for j := range ins[i] {
			if rng.Float64() < activity {
				ins[i][j] = 1
			}
		}
	}
	return rt, dn, ins
}

func TestStepDoesNotAllocate(t *testing.T) {
	rt, dn, ins := benchNet(t, 0.1)
	out := make([]float32, 2)
	var s State
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		rt.Step(ins[i%len(ins)], out)
		dn.Step(ins[i%len(ins)], out)
		i++
	})
	if allocs != 0 {
		t.Fatalf("Step allocates %v times per call", allocs)
	}
	rt.Snapshot(&s)
	allocs = testing.AllocsPerRun(100, func() {
		rt.Snapshot(&s)
		rt.Restore(&s)
	})
	if allocs != 0 {
		t.Fatalf("Snapshot/Restore allocate %v times", allocs)
	}
}

func TestSnapshotRestoreReplaysExactly(t *testing.T) {
	rt, _, ins := benchNet(t, 0.2)
	out := make([]float32, 2)
	for _, in := range ins[:50] {
		rt.Step(in, out)
	}
	var s State
	rt.Snapshot(&s)
	first := make([]float32, 0, 100)
	for _, in := range ins[50:100] {
		rt.Step(in, out)
		first = append(first, out...)
	}
	if !rt.Restore(&s) {
		t.Fatal("restore rejected its own snapshot")
	}
	for k, in := range ins[50:100] {
		rt.Step(in, out)
		if out[0] != first[2*k] || out[1] != first[2*k+1] {
			t.Fatalf("step %d after restore: %v, first run %v", k, out, first[2*k:2*k+2])
		}
	}
	rt.Reset()
	if !rt.Restore(&s) || rt.Restore(&State{}) {
		t.Fatal("restore of a foreign snapshot must fail")
	}
}

// BenchmarkStep measures the event-driven step of a 192 -> 256
// (recurrent) -> 2 HIFI network at 10% binary input activity.
func BenchmarkStep(b *testing.B) {
	rt, _, ins := benchNet(b, 0.1)
	out := make([]float32, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rt.Step(ins[i&1023], out)
		i++
	}
	b.ReportMetric(rt.Activity().SpikesPerStep(), "spikes/step")
}

// BenchmarkStepDense measures the same network stepped with dense
// matrix-vector products, the baseline for BenchmarkStep.
func BenchmarkStepDense(b *testing.B) {
	_, dn, ins := benchNet(b, 0.1)
	out := make([]float32, 2)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dn.Step(ins[i&1023], out)
		i++
	}
}

// TestVectorRowsMatchPortable checks the AVX2 row kernels against the
// portable loops bit for bit, for lengths around the vector width.
func TestVectorRowsMatchPortable(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 kernel on this machine")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 15, 16, 17, 31, 48, 256, 259} {
		row := make([]float32, n)
		base := make([]float32, n)
		for i := range row {
			row[i], base[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for _, x := range []float32{1, 2.5} {
			vec := append([]float32(nil), base...)
			useAVX2 = true
			if x == 1 {
				addRow(vec, row)
			} else {
				axpyRow(x, vec, row)
			}
			useAVX2 = false
			ref := append([]float32(nil), base...)
			if x == 1 {
				addRow(ref, row)
			} else {
				axpyRow(x, ref, row)
			}
			useAVX2 = true
			for i := range ref {
				if math.Float32bits(ref[i]) != math.Float32bits(vec[i]) {
					t.Fatalf("n=%d x=%v element %d: vector %v, portable %v", n, x, i, vec[i], ref[i])
				}
			}
		}
	}
}

// TestVectorStepMatchesPortable runs one network twice, with and without
// the AVX2 kernels, and requires bit-identical outputs and spikes.
func TestVectorStepMatchesPortable(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 kernel on this machine")
	}
	defer func() { useAVX2 = true }()
	for _, tc := range []struct {
		kind   Kind
		hidden []int
		soft   bool
	}{{HIFI, []int{256}, false}, {HIFI, []int{37, 13}, true}, {ALIF, []int{40}, false}, {LIF, []int{64}, false}} {
		m, err := NewModel(Config{Kind: tc.kind, Inputs: 50, Hidden: tc.hidden, Outputs: 3, Recurrent: true, ReadoutBeta: 0.6, SoftReset: tc.soft, InitGain: 3}, 8)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(2, 3))
		norm := randomNorm(rng, 50, 3)
		vec, _ := m.Compile(norm)
		ref, _ := m.Compile(norm)
		in := make([]float32, 50)
		a, b := make([]float32, 3), make([]float32, 3)
		spikes := 0
		for step := range 300 {
			for i := range in {
				in[i] = float32(rng.IntN(3)) * float32(rng.IntN(2))
			}
			useAVX2 = true
			vec.Step(in, a)
			useAVX2 = false
			ref.Step(in, b)
			for o := range a {
				if math.Float32bits(a[o]) != math.Float32bits(b[o]) {
					t.Fatalf("%s step %d output %d: vector %v, portable %v", tc.kind, step, o, a[o], b[o])
				}
			}
			for k := range vec.layers {
				for i, v := range vec.layers[k].u {
					if math.Float32bits(v) != math.Float32bits(ref.layers[k].u[i]) {
						t.Fatalf("%s step %d layer %d membrane %d: vector %v, portable %v", tc.kind, step, k, i, v, ref.layers[k].u[i])
					}
				}
				if !slices.Equal(vec.layers[k].spikes, ref.layers[k].spikes) {
					t.Fatalf("%s step %d layer %d: spikes %v, portable %v", tc.kind, step, k, vec.layers[k].spikes, ref.layers[k].spikes)
				}
				spikes += len(vec.layers[k].spikes)
			}
		}
		if spikes == 0 {
			t.Fatalf("%s: no spikes", tc.kind)
		}
	}
}
