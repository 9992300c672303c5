package lsl

import "math"

// stampProcessor turns the sender's timestamps into ones a real-time
// consumer can use: mapped to the local LSL clock with the measured
// correction, smoothed by a linear fit of stamp against sample index
// (recursive least squares with exponential forgetting, so the fit follows
// slow drift), never decreasing, and with jumps kept out.
//
// For a regular stream each stamp is compared with the fit's prediction:
//   - within the jitter tolerance: normal, the fit is updated;
//   - ahead by k periods (within MaxGap): k samples were lost upstream; a
//     gap is counted and the sample index advances by k;
//   - behind by more than the tolerance, or ahead by more than MaxGap: a
//     jump (a clock step, a restarted sender with another clock). It is
//     counted and not passed on: the fit restarts from this sample, shifted
//     so the output continues one period after the previous output.
//
// Irregular streams are only corrected, checked for backward jumps and
// kept monotonic.
type stampProcessor struct {
	rate      float64
	period    float64
	tolerance float64
	maxGap    float64
	lambda    float64 // forgetting factor per sample

	started bool
	t0      float64 // baseline, for numerical accuracy
	index   float64 // sample index of the next sample
	w0, w1  float64 // fit: stamp = t0 + w0 + w1*index
	p00     float64
	p01     float64
	p11     float64
	shift   float64 // added to the output after jumps
	lastIn  float64 // last corrected input
	lastOut float64

	// events of the last process call
	lost   int
	jumped bool
}

func newStampProcessor(rate float64, tolerance, maxGap, halftime float64) *stampProcessor {
	p := &stampProcessor{rate: rate, tolerance: tolerance, maxGap: maxGap}
	if rate > 0 {
		p.period = 1 / rate
		if halftime > 0 {
			p.lambda = math.Pow(2, -1/(rate*halftime))
		} else {
			p.lambda = 1
		}
	}
	return p
}

// reset forgets the fit (not the last output, so monotony holds across a
// reconnect).
func (p *stampProcessor) restart(x float64) {
	p.t0 = x
	p.index = 0
	p.w0, p.w1 = 0, p.period
	p.p00, p.p01, p.p11 = 1e10, 0, 1e10
}

// process maps one corrected stamp (remote + correction, in local LSL
// seconds) to the output stamp; afterGap marks the first sample after a
// reconnect, whose distance from the previous one is a gap, not a jump.
func (p *stampProcessor) process(x float64, afterGap bool) float64 {
	p.lost, p.jumped = 0, false
	if !p.started {
		p.started = true
		p.restart(x)
		p.lastIn, p.lastOut = x, math.Inf(-1)
		return p.emit(p.fit(x))
	}
	if p.rate <= 0 {
		if x < p.lastIn-p.tolerance && !afterGap {
			p.jumped = true
			p.shift += p.lastIn - x
		}
		p.lastIn = x
		return p.emit(x + p.shift)
	}
	pred := p.t0 + p.w0 + p.w1*p.index + p.shift
	err := x + p.shift - pred
	switch {
	case err >= -p.tolerance && err <= p.tolerance:
	case err > p.tolerance && (err <= p.maxGap || afterGap):
		k := math.Round(err * p.rate)
		if k >= 1 {
			p.lost = int(k)
			p.index += k
		}
	case afterGap && err < -p.tolerance:
		// A restarted sender whose clock is behind: continue the timeline.
		p.jumped = true
		p.shift = p.lastOut + p.period - x
		p.restart(x)
	default:
		p.jumped = true
		p.shift = p.lastOut + p.period - x
		p.restart(x)
	}
	p.lastIn = x
	return p.emit(p.fit(x))
}

// fit updates the regression with stamp x at the current index and returns
// the fitted stamp (plus the shift).
func (p *stampProcessor) fit(x float64) float64 {
	if p.rate <= 0 {
		return x + p.shift
	}
	u := p.index
	p.index++
	y := x - p.t0
	lam := p.lambda
	pi0 := p.p00 + u*p.p01
	pi1 := p.p01 + u*p.p11
	e := y - (p.w0 + u*p.w1)
	g := 1 / (lam + pi0 + pi1*u)
	p.p00 = (p.p00 - pi0*pi0*g) / lam
	p.p01 = (p.p01 - pi0*pi1*g) / lam
	p.p11 = (p.p11 - pi1*pi1*g) / lam
	p.w0 += e * (p.p00 + p.p01*u)
	p.w1 += e * (p.p01 + p.p11*u)
	return p.t0 + p.w0 + p.w1*u + p.shift
}

// emit keeps the output non-decreasing.
func (p *stampProcessor) emit(v float64) float64 {
	if v < p.lastOut {
		v = p.lastOut
	}
	p.lastOut = v
	return v
}
