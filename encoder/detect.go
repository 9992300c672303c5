package encoder

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// Options configures an Encoder. Zero fields take the defaults of
// DefaultOptions, filled in by EnsureDefaults.
type Options struct {
	// BinWidth is the width of one bin (default 20 ms), rounded to whole
	// samples.
	BinWidth time.Duration
	// K sets the threshold at -K·sigma (default 4.5).
	K float64
	// Refractory is the dead time after a crossing (default 1 ms).
	Refractory time.Duration
	// Calibration is the window over which sigma is first estimated as
	// median(|x|)/0.6745 (default 1 s); no crossings are counted in it.
	Calibration time.Duration
	// Track is the time constant with which sigma then follows slow
	// changes of the noise (default 60 s).
	Track time.Duration
	// Power appends spike-band power (mean squared signal per bin, µV²) per
	// channel after the crossing counts.
	Power bool
	// OnCrossing, when set, is told of every crossing (channel and sample
	// index from the start of the stream), e.g. to score detection.
	OnCrossing func(channel int, sample int64)
}

// DefaultOptions are the encoder's defaults.
var DefaultOptions = Options{BinWidth: 20 * time.Millisecond, K: 4.5, Refractory: time.Millisecond, Calibration: time.Second, Track: time.Minute}

// EnsureDefaults fills the zero fields of o with DefaultOptions'.
func (o *Options) EnsureDefaults() {
	d := DefaultOptions
	def := func(v *time.Duration, dv time.Duration) {
		if *v == 0 {
			*v = dv
		}
	}
	def(&o.BinWidth, d.BinWidth)
	def(&o.Refractory, d.Refractory)
	def(&o.Calibration, d.Calibration)
	def(&o.Track, d.Track)
	if o.K == 0 {
		o.K = d.K
	}
}

// Validate reports settings that mean nothing. It checks the values as
// they are, so a zero that EnsureDefaults would fill is an error here.
func (o *Options) Validate() error {
	switch {
	case o.BinWidth <= 0 || o.BinWidth > time.Minute:
		return fmt.Errorf("encoder: bin width %v: want more than 0 and at most 1m", o.BinWidth)
	case !(o.K > 0 && o.K <= 100):
		return fmt.Errorf("encoder: threshold factor k %v: want more than 0 and at most 100", o.K)
	case o.Refractory < 0 || o.Refractory > time.Second:
		return fmt.Errorf("encoder: refractory period %v: want 0-1s", o.Refractory)
	case o.Calibration <= 0 || o.Track <= 0:
		return fmt.Errorf("encoder: calibration %v and tracking %v must be positive", o.Calibration, o.Track)
	}
	return nil
}

// Bits of float32 values for the branch-free median tracking.
const (
	signBit = 1 << 31
	one     = 0x3f800000 // 1.0
)

// calibStride keeps every calibStride-th sample for the calibration median:
// 3000 samples a second per channel at 30 kHz estimate it well at a tenth
// of the memory.
const calibStride = 10

// Encoder detects threshold crossings in filtered frames and bins them.
// Bins are aligned to the sample index from the stream's first sample, not
// to the wall clock, so a live run and its replay produce the same bins.
type Encoder struct {
	opts     Options
	channels int
	rate     float64
	width    int64 // samples per bin
	refr     int32 // refractory samples

	n         int64 // samples seen
	t0        int64 // time of sample 0, ns
	started   bool
	skew      int64        // largest tolerated frame time error, ns
	jumps     atomic.Int64 // time discontinuities re-anchored
	jumped    atomic.Int64 // their total, ns
	calibN    int64        // samples of calibration
	calib     []float32
	calibRows int
	sigmaMed  []float32 // tracked median |x| per channel
	thr       []float32 // threshold per channel (negative)
	eta       float32   // tracking step per update
	dead      []int32   // refractory countdown per channel
	armed     []int32   // -1 when the signal has been above the threshold since the last crossing, else 0 (a vector mask)
	counts    []float32
	power     []float64
	binIndex  int64

	ready []acquire.Bin // completed bins not yet taken
	head  int
}

// NewEncoder returns an encoder for a stream of channels at rate Hz.
func NewEncoder(channels int, rate float64, opts Options) (*Encoder, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if channels < 1 || channels > acquire.MaxChannels || !(rate > 0 && rate <= 1e6) {
		return nil, fmt.Errorf("encoder: %d channels at %v Hz", channels, rate)
	}
	width := int64(math.Round(rate * opts.BinWidth.Seconds()))
	if width < 1 {
		return nil, fmt.Errorf("encoder: bin width %v is shorter than one sample at %v Hz", opts.BinWidth, rate)
	}
	calibN := int64(math.Round(rate * opts.Calibration.Seconds()))
	rows := int(calibN/calibStride) + 1
	e := &Encoder{
		opts: opts, channels: channels, rate: rate, width: width,
		// Frame times may jitter (a bridge stamping arrival times); a
		// discontinuity is anything beyond two bins or 20 ms.
		skew:     max(2*int64(opts.BinWidth), int64(20*time.Millisecond)),
		refr:     int32(math.Round(rate * opts.Refractory.Seconds())),
		calibN:   calibN,
		calib:    make([]float32, rows*channels),
		sigmaMed: make([]float32, channels),
		thr:      make([]float32, channels),
		dead:     make([]int32, channels),
		armed:    make([]int32, channels),
		counts:   make([]float32, channels),
		power:    make([]float64, channels),
		// one update every calibStride samples; time constant Track
		eta: float32(calibStride / (rate * opts.Track.Seconds())),
	}
	for c := range e.thr {
		e.thr[c] = float32(math.Inf(-1)) // nothing crosses until calibrated
	}
	return e, nil
}

// Features is the number of features per bin.
func (e *Encoder) Features() int {
	if e.opts.Power {
		return 2 * e.channels
	}
	return e.channels
}

// BinWidth is the bin width, a whole number of samples.
func (e *Encoder) BinWidth() time.Duration {
	return time.Duration(math.Round(float64(e.width) / e.rate * 1e9))
}

// Sigma returns the current noise estimate of each channel (µV), zero
// before calibration ends.
func (e *Encoder) Sigma(dst []float32) []float32 {
	dst = dst[:0]
	for _, m := range e.sigmaMed {
		dst = append(dst, m/0.6745)
	}
	return dst
}

// ErrNonFinite is wrapped when a frame holds NaN or Inf samples.
var ErrNonFinite = errors.New("non-finite sample")

// Process consumes one filtered frame. Completed bins are queued for Next.
func (e *Encoder) Process(fr *acquire.Frame) error {
	C := e.channels
	if fr.Channels != C {
		return fmt.Errorf("encoder: frame %d has %d channels, the encoder %d", fr.Seq, fr.Channels, C)
	}
	if !e.started {
		e.t0, e.started = fr.Time, true
	}
	e.anchor(fr.Time)
	for s := 0; s+C <= len(fr.Data); s += C {
		row := fr.Data[s : s+C : s+C]
		switch {
		case e.n < e.calibN:
			if err := e.calibrate(row, fr, s/C); err != nil {
				return err
			}
		default:
			e.detect(row)
		}
		if e.opts.Power {
			for c, v := range row {
				e.power[c] += float64(v) * float64(v)
			}
		}
		e.n++
		if e.n%e.width == 0 {
			e.finishBin()
		}
	}
	return nil
}

// anchor keeps bin times on the source's clock. Bins are counted by sample
// index, but when a frame's own time disagrees with the time its index
// gives by more than the tolerated skew (input paused, frames lost), the
// time base moves to the frame's time and the jump is counted: later bins
// carry true acquisition times instead of lagging by the pause.
func (e *Encoder) anchor(t int64) {
	want := e.t0 + int64(math.Round(float64(e.n)/e.rate*1e9))
	if d := t - want; d > e.skew || d < -e.skew {
		e.t0 += d
		e.jumps.Add(1)
		e.jumped.Add(d)
	}
}

// Jumps reports the time discontinuities the encoder re-anchored to: how
// many, and their sum. It may be called from any goroutine.
func (e *Encoder) Jumps() (n int64, total time.Duration) {
	return e.jumps.Load(), time.Duration(e.jumped.Load())
}

func (e *Encoder) calibrate(row []float32, fr *acquire.Frame, s int) error {
	for c, v := range row {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("encoder: frame %d sample %d channel %d: %w %v during noise calibration", fr.Seq, s, c, ErrNonFinite, v)
		}
	}
	if e.n%calibStride == 0 {
		dst := e.calib[e.calibRows*e.channels : (e.calibRows+1)*e.channels]
		for c, v := range row {
			dst[c] = float32(math.Abs(float64(v)))
		}
		e.calibRows++
	}
	if e.n == e.calibN-1 {
		e.endCalibration()
	}
	return nil
}

// endCalibration sets each channel's noise from the median of |x| over the
// calibration window.
func (e *Encoder) endCalibration() {
	col := make([]float32, e.calibRows) // once per stream, not per sample
	for c := range e.channels {
		for r := range e.calibRows {
			col[r] = e.calib[r*e.channels+c]
		}
		m := median(col)
		e.sigmaMed[c] = m
		e.thr[c] = -float32(e.opts.K) * m / 0.6745
	}
	e.calib = nil
}

func (e *Encoder) detect(row []float32) {
	thr := e.thr[:len(row)]
	from := 0
	if e.opts.OnCrossing == nil {
		from = detectVector(row, thr, e.dead, e.counts, e.armed, e.refr)
	}
	dead, counts, armed := e.dead[:len(row)], e.counts[:len(row)], e.armed[:len(row)]
	for c := from; c < len(row); c++ {
		if dead[c] > 0 {
			dead[c]--
		}
		if !(row[c] < thr[c]) {
			armed[c] = -1
			continue
		}
		// A crossing is a transition from above the threshold to below
		// it, outside the refractory period: a filtered spike that stays
		// below the threshold for longer than the refractory period is
		// still one spike.
		if armed[c] != 0 && dead[c] == 0 {
			counts[c]++
			dead[c] = e.refr
			if e.opts.OnCrossing != nil {
				e.opts.OnCrossing(c, e.n)
			}
		}
		armed[c] = 0
	}
	if e.n%calibStride == 0 {
		// Frugal streaming estimate of the median of |x|: a step up or
		// down proportional to the estimate follows slow noise changes
		// and ignores spikes, which are rare.
		// The step's sign comes from the sign bit of |x| - m, without a
		// branch: half of these comparisons go each way, and mispredicted
		// branches would cost more than the rest of the loop.
		k := -float32(e.opts.K) / 0.6745
		med := e.sigmaMed[:len(row)]
		for c, v := range row {
			m := med[c]
			a := math.Float32frombits(math.Float32bits(v) &^ signBit)
			sign := math.Float32frombits(math.Float32bits(a-m)&signBit | one)
			m += e.eta * m * sign
			med[c] = m
			thr[c] = k * m
		}
	}
}

// finishBin queues the bin that just completed.
func (e *Encoder) finishBin() {
	if e.head > 0 && e.head == len(e.ready) {
		e.ready, e.head = e.ready[:0], 0
	}
	if len(e.ready) == cap(e.ready) {
		e.ready = append(e.ready, acquire.Bin{}) // grows once, to the bins per frame
	} else {
		e.ready = e.ready[:len(e.ready)+1]
	}
	b := &e.ready[len(e.ready)-1]
	k := e.binIndex
	b.Seq, b.Trial = uint64(k), -1
	b.Start = e.t0 + int64(math.Round(float64(k*e.width)/e.rate*1e9))
	b.End = e.t0 + int64(math.Round(float64((k+1)*e.width)/e.rate*1e9))
	b.Features = append(b.Features[:0], e.counts...)
	if e.opts.Power {
		for _, p := range e.power {
			b.Features = append(b.Features, float32(p/float64(e.width)))
		}
		clear(e.power)
	}
	b.Target = b.Target[:0]
	clear(e.counts)
	e.binIndex++
}

// Next moves the oldest completed bin into b and reports whether there was
// one.
func (e *Encoder) Next(b *acquire.Bin) bool {
	if e.head >= len(e.ready) {
		return false
	}
	src := &e.ready[e.head]
	b.CopyFrom(src)
	e.head++
	return true
}

// median returns the median of v, reordering it.
func median(v []float32) float32 {
	if len(v) == 0 {
		return 0
	}
	k := len(v) / 2
	slices.Sort(v) // once per stream

	if len(v)%2 == 1 {
		return v[k]
	}
	return (v[k-1] + v[k]) / 2
}
