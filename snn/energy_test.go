package snn

import (
	"math"
	"testing"
)

// TestActivityCountsOperations checks the AC and MAC counts of Step
// against hand-counted synaptic events on a small network.
func TestActivityCountsOperations(t *testing.T) {
	tests := []struct {
		name      string
		in        []float32
		recurrent bool
	}{
		{"binary and graded inputs, recurrent", []float32{1, 0, 2}, true},
		{"binary only, feed-forward", []float32{1, 1, 0}, false},
		{"silent input", []float32{0, 0, 0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewModel(Config{Kind: HIFI, Inputs: 3, Hidden: []int{4}, Outputs: 2, Recurrent: tc.recurrent, InitGain: 4}, 2)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := m.Compile(Identity(3, 2))
			if err != nil {
				t.Fatal(err)
			}
			var wantAC, wantMAC, wantSpikes uint64
			prev := 0
			out := make([]float32, 2)
			for range 5 {
				for _, x := range tc.in {
					switch {
					case x == 1:
						wantAC += 4
					case x != 0:
						wantMAC += 4
					}
				}
				if tc.recurrent {
					wantAC += uint64(prev * 4)
				}
				rt.Step(tc.in, out)
				s := len(rt.layers[0].spikes)
				wantAC += uint64(s * 2)
				wantSpikes += uint64(s)
				prev = s
			}
			a := rt.Activity()
			if a.AC != wantAC || a.MAC != wantMAC || a.Spikes != wantSpikes || a.Steps != 5 {
				t.Fatalf("activity %+v, want AC %d MAC %d spikes %d over 5 steps", a, wantAC, wantMAC, wantSpikes)
			}
			if tc.in[0] != 0 && wantSpikes == 0 {
				t.Fatal("no spikes: the recurrent and readout counts are not exercised")
			}
			dense := uint64(3*4 + 4*2)
			if tc.recurrent {
				dense += 4 * 4
			}
			if a.DenseMAC != dense {
				t.Fatalf("dense MACs %d, want %d", a.DenseMAC, dense)
			}
			wantNJ := (float64(wantAC)*PicojoulePerAC + float64(wantMAC)*PicojoulePerMAC) / 5 / 1000
			if math.Abs(a.EnergyPerStepNJ()-wantNJ) > 1e-12 {
				t.Fatalf("energy %v nJ/step, want %v", a.EnergyPerStepNJ(), wantNJ)
			}
			rt.ResetActivity()
			if rt.Activity().Steps != 0 {
				t.Fatal("ResetActivity kept counts")
			}
		})
	}
}

// TestActivitySince: the counts between two readings, or the whole later
// reading when the counters restarted in between; EnergyNJ prices them.
func TestActivitySince(t *testing.T) {
	then := Activity{Steps: 10, Spikes: 40, AC: 1000, MAC: 100, DenseMAC: 7}
	now := Activity{Steps: 12, Spikes: 50, AC: 1300, MAC: 120, DenseMAC: 7}
	if got, want := now.Since(then), (Activity{Steps: 2, Spikes: 10, AC: 300, MAC: 20, DenseMAC: 7}); got != want {
		t.Fatalf("Since = %+v, want %+v", got, want)
	}
	restarted := Activity{Steps: 1, Spikes: 3, AC: 90, MAC: 10, DenseMAC: 7}
	if got := restarted.Since(then); got != restarted {
		t.Fatalf("after a restart Since = %+v, want the reading itself", got)
	}
	if got, want := now.Since(then).EnergyNJ(), (300*PicojoulePerAC+20*PicojoulePerMAC)/1000; got != want {
		t.Fatalf("EnergyNJ = %v, want %v", got, want)
	}
}

// TestActivityPerLayer: spikes are also counted per hidden layer, and the
// layers' counts add up to the total, through Since and Add as well.
func TestActivityPerLayer(t *testing.T) {
	m, err := NewModel(Config{Kind: HIFI, Inputs: 3, Hidden: []int{6, 4}, Outputs: 2, Recurrent: true, InitGain: 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := m.Compile(Identity(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 2)
	var want [2]uint64
	var then Activity
	for step := range 20 {
		if step == 10 {
			then = rt.Activity()
		}
		rt.Step([]float32{1, 0.5, 2}, out)
		for k := range want {
			want[k] += uint64(len(rt.layers[k].spikes))
		}
	}
	a := rt.Activity()
	if a.Layers != 2 || a.LayerSpikes[0] != want[0] || a.LayerSpikes[1] != want[1] || a.Spikes != want[0]+want[1] {
		t.Fatalf("layers %d, spikes %v of %d, want %v", a.Layers, a.LayerSpikes[:2], a.Spikes, want)
	}
	if want[0] == 0 || want[1] == 0 {
		t.Fatal("a silent layer: the test exercises nothing")
	}
	d := a.Since(then)
	if d.LayerSpikes[0]+d.LayerSpikes[1] != d.Spikes || d.LayerSpikes[0] != a.LayerSpikes[0]-then.LayerSpikes[0] {
		t.Fatalf("Since: %v of %d", d.LayerSpikes[:2], d.Spikes)
	}
	if s := a.Add(a); s.LayerSpikes[1] != 2*want[1] || s.Spikes != 2*a.Spikes || s.Steps != a.Steps {
		t.Fatalf("Add: %+v", s)
	}
}
