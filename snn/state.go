package snn

import (
	"encoding/binary"
	"errors"
	"math"
)

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
		n := r.layers[k].n
		if len(s.u[k]) != n || len(s.o[k]) != len(r.layers[k].o) || len(s.a[k]) != len(r.layers[k].a) {
			return false
		}
		for _, i := range s.spikes[k] {
			if i < 0 || int(i) >= n {
				return false
			}
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

// AppendBinary appends the state in a little-endian binary form that
// UnmarshalBinary reads back, for checkpoints kept outside the process.
func (s *State) AppendBinary(dst []byte) []byte {
	le := binary.LittleEndian
	dst = le.AppendUint32(dst, uint32(len(s.u)))
	for k := range s.u {
		for _, v := range [][]float32{s.u[k], s.o[k], s.a[k]} {
			dst = appendFloats(dst, v)
		}
		dst = le.AppendUint32(dst, uint32(len(s.spikes[k])))
		for _, i := range s.spikes[k] {
			dst = le.AppendUint32(dst, uint32(i))
		}
	}
	return appendFloats(dst, s.y)
}

func appendFloats(dst []byte, v []float32) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	return dst
}

// errState reports a checkpoint that does not parse.
var errState = errors.New("snn: malformed state checkpoint")

// UnmarshalBinary reads a state written by AppendBinary. Whether it fits a
// runtime is checked by Restore.
func (s *State) UnmarshalBinary(p []byte) error {
	le := binary.LittleEndian
	off := 0
	u32 := func() (int, bool) {
		if len(p)-off < 4 {
			return 0, false
		}
		v := le.Uint32(p[off:])
		off += 4
		return int(v), v < 1<<24
	}
	floats := func() ([]float32, bool) {
		n, ok := u32()
		if !ok || len(p)-off < 4*n {
			return nil, false
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(p[off+4*i:]))
		}
		off += 4 * n
		return out, true
	}
	layers, ok := u32()
	if !ok || layers > 64 {
		return errState
	}
	*s = State{u: make([][]float32, layers), o: make([][]float32, layers), a: make([][]float32, layers), spikes: make([][]int32, layers)}
	for k := range layers {
		for _, dst := range []*[]float32{&s.u[k], &s.o[k], &s.a[k]} {
			if *dst, ok = floats(); !ok {
				return errState
			}
		}
		n, ok := u32()
		if !ok || len(p)-off < 4*n {
			return errState
		}
		s.spikes[k] = make([]int32, n)
		for i := range n {
			v := int32(le.Uint32(p[off+4*i:]))
			if v < 0 || int(v) >= len(s.u[k]) {
				return errState
			}
			s.spikes[k][i] = v
		}
		off += 4 * n
	}
	if s.y, ok = floats(); !ok || off != len(p) {
		return errState
	}
	return nil
}
