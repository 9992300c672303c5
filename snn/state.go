package snn

// State is a copy of a Runtime's dynamic state (membranes, last spikes,
// adaptation traces and readout), for checkpointing a stream.
type State struct {
	u, o, a [][]float32
	spikes  [][]int32
	y       []float32
}

// Snapshot copies the runtime's state into s, reusing s's storage; after
// the first call on a given s it does not allocate.
func (r *Runtime) Snapshot(s *State) {
	if len(s.u) != len(r.layers) {
		s.u = make([][]float32, len(r.layers))
		s.o = make([][]float32, len(r.layers))
		s.a = make([][]float32, len(r.layers))
		s.spikes = make([][]int32, len(r.layers))
	}
	for k := range r.layers {
		l := &r.layers[k]
		s.u[k] = append(s.u[k][:0], l.u...)
		s.o[k] = append(s.o[k][:0], l.o...)
		s.a[k] = append(s.a[k][:0], l.a...)
		s.spikes[k] = append(s.spikes[k][:0], l.spikes...)
	}
	s.y = append(s.y[:0], r.y...)
}

// Restore sets the runtime's state from a snapshot taken from a runtime of
// the same architecture; it reports false (and changes nothing) if the
// snapshot does not fit.
func (r *Runtime) Restore(s *State) bool {
	if len(s.u) != len(r.layers) || len(s.y) != len(r.y) {
		return false
	}
	for k := range r.layers {
		if len(s.u[k]) != r.layers[k].n {
			return false
		}
	}
	for k := range r.layers {
		l := &r.layers[k]
		copy(l.u, s.u[k])
		copy(l.o, s.o[k])
		copy(l.a, s.a[k])
		l.spikes = append(l.spikes[:0], s.spikes[k]...)
	}
	copy(r.y, s.y)
	return true
}
