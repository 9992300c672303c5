package modelfile

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Writer appends little-endian numbers to a payload.
type Writer struct{ Buf []byte }

// Int appends v as an int64.
func (w *Writer) Int(v int) { w.Buf = binary.LittleEndian.AppendUint64(w.Buf, uint64(int64(v))) }

// Float64s appends a length-prefixed float64 slice.
func (w *Writer) Float64s(v []float64) {
	w.Int(len(v))
	for _, x := range v {
		w.Buf = binary.LittleEndian.AppendUint64(w.Buf, math.Float64bits(x))
	}
}

// Float32s appends a length-prefixed float32 slice.
func (w *Writer) Float32s(v []float32) {
	w.Int(len(v))
	for _, x := range v {
		w.Buf = binary.LittleEndian.AppendUint32(w.Buf, math.Float32bits(x))
	}
}

// Reader consumes what Writer wrote. After the first error every call
// returns zero values; check Err once at the end.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader reads from p.
func NewReader(p []byte) *Reader { return &Reader{buf: p} }

// Err reports the first decoding error, or an error if bytes remain unread.
func (r *Reader) Err() error {
	if r.err == nil && r.off != len(r.buf) {
		return fmt.Errorf("%w: payload has %d trailing bytes at offset %d", ErrCorrupt, len(r.buf)-r.off, r.off)
	}
	return r.err
}

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.buf)-r.off {
		r.err = fmt.Errorf("%w: payload truncated at offset %d (need %d more bytes)", ErrCorrupt, r.off, n)
		return nil
	}
	p := r.buf[r.off : r.off+n]
	r.off += n
	return p
}

// Int reads an int64 written by Writer.Int.
func (r *Reader) Int() int {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return int(int64(binary.LittleEndian.Uint64(p)))
}

// length reads a slice length and checks that elem*length bytes remain.
func (r *Reader) length(elem int) int {
	n := r.Int()
	if r.err == nil && (n < 0 || n > (len(r.buf)-r.off)/elem) {
		r.err = fmt.Errorf("%w: slice length %d at offset %d exceeds the payload", ErrCorrupt, n, r.off-8)
		return 0
	}
	return n
}

// Float64s reads a slice written by Writer.Float64s.
func (r *Reader) Float64s() []float64 {
	n := r.length(8)
	p := r.take(8 * n)
	if p == nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
	return v
}

// Float32s reads a slice written by Writer.Float32s.
func (r *Reader) Float32s() []float32 {
	n := r.length(4)
	p := r.take(4 * n)
	if p == nil {
		return nil
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return v
}
