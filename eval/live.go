package eval

import (
	"math"
	"sync/atomic"
)

// Live scores a stream like an Accumulator while other goroutines read the
// scores so far: one goroutine calls Add, any goroutine may call Result.
// Add neither locks nor allocates, so a decoding loop can score every bin;
// a Result taken while Add runs may miss that one sample.
type Live struct {
	dim  int
	n    atomic.Int64
	sums []atomic.Uint64 // float64 bits: sy, syy, sp, spp, spy, sres per dimension
}

// NewLive returns a live scorer of dim-dimensional outputs.
func NewLive(dim int) *Live { return &Live{dim: dim, sums: make([]atomic.Uint64, 6*dim)} }

// Add scores one prediction against its truth (see Accumulator.Add).
func (l *Live) Add(pred, truth []float32) {
	for d := range l.dim {
		p, y := float64(pred[d]), float64(truth[d])
		if math.IsNaN(p) || math.IsInf(p, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			return
		}
	}
	for d := range l.dim {
		p, y := float64(pred[d]), float64(truth[d])
		s := l.sums[6*d : 6*d+6]
		for i, v := range [6]float64{y, y * y, p, p * p, p * y, (y - p) * (y - p)} {
			s[i].Store(math.Float64bits(math.Float64frombits(s[i].Load()) + v))
		}
	}
	l.n.Add(1)
}

// Result returns the scores so far.
func (l *Live) Result() Regression {
	a := NewAccumulator(l.dim)
	a.n = int(l.n.Load())
	for d := range l.dim {
		s := l.sums[6*d : 6*d+6]
		v := func(i int) float64 { return math.Float64frombits(s[i].Load()) }
		a.sy[d], a.syy[d], a.sp[d], a.spp[d], a.spy[d], a.sres[d] = v(0), v(1), v(2), v(3), v(4), v(5)
	}
	return a.Result()
}
