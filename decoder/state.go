package decoder

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bci-decode/bci-decode/snn"
)

// StateSaver is a decoder whose running state (filter estimate, lag
// history, membranes) can be checkpointed and restored, so that another
// process can continue a stream where this one stopped.
type StateSaver interface {
	// AppendState appends the state to dst; it does not allocate when dst
	// has room.
	AppendState(dst []byte) []byte
	// RestoreState sets the state from a checkpoint of a decoder of the
	// same model; on error the state is unchanged.
	RestoreState(p []byte) error
}

// ErrState is wrapped by errors about checkpoints that do not fit.
var ErrState = errors.New("decoder state checkpoint does not fit")

func appendF64(dst []byte, v []float64) []byte {
	for _, x := range v {
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
	}
	return dst
}

func readF64(dst []float64, p []byte) {
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
}

// AppendState implements StateSaver: the state estimate and its covariance.
func (k *Kalman) AppendState(dst []byte) []byte { return appendF64(appendF64(dst, k.x), k.p) }

// RestoreState implements StateSaver.
func (k *Kalman) RestoreState(p []byte) error {
	if len(p) != 8*(len(k.x)+len(k.p)) {
		return fmt.Errorf("%w: kalman state of %d bytes, want %d", ErrState, len(p), 8*(len(k.x)+len(k.p)))
	}
	readF64(k.x, p)
	readF64(k.p, p[8*len(k.x):])
	return nil
}

// AppendState implements StateSaver: the lag history, newest first.
func (w *Wiener) AppendState(dst []byte) []byte {
	for l := range w.lags {
		dst = appendF64(dst, w.hist[((w.head+l)%w.lags)*w.in:][:w.in])
	}
	return dst
}

// RestoreState implements StateSaver.
func (w *Wiener) RestoreState(p []byte) error {
	if len(p) != 8*len(w.hist) {
		return fmt.Errorf("%w: wiener state of %d bytes, want %d", ErrState, len(p), 8*len(w.hist))
	}
	w.head = 0
	readF64(w.hist, p)
	return nil
}

// AppendState implements StateSaver: membranes, spikes, adaptation and
// readout; an ensemble's members each after the length of their state.
func (d *SNN) AppendState(dst []byte) []byte {
	if len(d.rts) == 1 {
		d.rt.Snapshot(&d.snap)
		return d.snap.AppendBinary(dst)
	}
	for _, rt := range d.rts {
		rt.Snapshot(&d.snap)
		at := len(dst)
		dst = binary.LittleEndian.AppendUint32(dst, 0)
		dst = d.snap.AppendBinary(dst)
		binary.LittleEndian.PutUint32(dst[at:], uint32(len(dst)-at-4))
	}
	return dst
}

// RestoreState implements StateSaver.
func (d *SNN) RestoreState(p []byte) error {
	if len(d.rts) == 1 {
		return restoreRuntime(d.rt, p)
	}
	for i, rt := range d.rts {
		if len(p) < 4 || uint64(len(p)-4) < uint64(binary.LittleEndian.Uint32(p)) {
			return fmt.Errorf("%w: the checkpoint ends inside member %d", ErrState, i)
		}
		n := int(binary.LittleEndian.Uint32(p))
		if err := restoreRuntime(rt, p[4:4+n]); err != nil {
			return err
		}
		p = p[4+n:]
	}
	if len(p) != 0 {
		return fmt.Errorf("%w: %d bytes after the last member", ErrState, len(p))
	}
	return nil
}

func restoreRuntime(rt *snn.Runtime, p []byte) error {
	var s snn.State
	if err := s.UnmarshalBinary(p); err != nil {
		return fmt.Errorf("%w: %v", ErrState, err)
	}
	if !rt.Restore(&s) {
		return fmt.Errorf("%w: the checkpoint is of another network", ErrState)
	}
	return nil
}
