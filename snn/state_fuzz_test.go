package snn

import "testing"

func FuzzStateUnmarshal(f *testing.F) {
	s := State{u: [][]float32{{1, 2}}, o: [][]float32{{0, 1}}, a: [][]float32{{0, 0}}, spikes: [][]int32{{1}}, y: []float32{3}}
	f.Add(s.AppendBinary(nil))
	f.Add([]byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		var s State
		if err := s.UnmarshalBinary(p); err != nil {
			return
		}
		if string(s.AppendBinary(nil)) != string(p) {
			t.Fatal("a parsed state does not re-encode to its bytes")
		}
	})
}
