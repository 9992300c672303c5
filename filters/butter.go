package filters

import (
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"sort"
)

// Section is one second-order section, [b0 b1 b2 a0 a1 a2] with a0 = 1.
type Section [6]float64

// SOS is a cascade of second-order sections.
type SOS []Section

// ErrDesign is wrapped by errors about filter specifications.
var ErrDesign = errors.New("invalid filter design")

// Butterworth designs a digital Butterworth filter of the given kind
// ("lowpass", "highpass", "bandpass" or "bandstop") and order (1-10) for
// sampling rate fs, with one cutoff (Hz) for low/high-pass and two for
// band-pass/stop. Band filters have 2·order poles, as in SciPy.
func Butterworth(kind string, order int, fs float64, cutoffs ...float64) (SOS, error) {
	if order < 1 || order > 10 {
		return nil, fmt.Errorf("%w: order %d, want 1-10", ErrDesign, order)
	}
	if !(fs > 0) || math.IsInf(fs, 0) {
		return nil, fmt.Errorf("%w: sampling rate %v", ErrDesign, fs)
	}
	want := 1
	if kind == "bandpass" || kind == "bandstop" {
		want = 2
	}
	if len(cutoffs) != want {
		return nil, fmt.Errorf("%w: %s takes %d cutoff(s), got %d", ErrDesign, kind, want, len(cutoffs))
	}
	for i, c := range cutoffs {
		if !(c > 0 && c < fs/2) {
			return nil, fmt.Errorf("%w: cutoff %v Hz must lie in (0, %v) for fs %v Hz", ErrDesign, c, fs/2, fs)
		}
		if i > 0 && c <= cutoffs[i-1] {
			return nil, fmt.Errorf("%w: band edges %v must increase", ErrDesign, cutoffs)
		}
	}
	// Pre-warp to the analogue frequencies the bilinear transform (with
	// its sampling rate normalised to 2) maps onto the cutoffs.
	warp := func(f float64) float64 { return 4 * math.Tan(math.Pi*f/fs) }

	// Analogue prototype: poles on the left half of the unit circle.
	var z []complex128
	p := make([]complex128, order)
	for i := range order {
		m := float64(-order + 1 + 2*i)
		p[i] = -cmplx.Exp(complex(0, math.Pi*m/float64(2*order)))
	}
	k := 1.0
	switch kind {
	case "lowpass":
		z, p, k = lp2lp(z, p, k, warp(cutoffs[0]))
	case "highpass":
		z, p, k = lp2hp(z, p, k, warp(cutoffs[0]))
	case "bandpass":
		w1, w2 := warp(cutoffs[0]), warp(cutoffs[1])
		z, p, k = lp2bp(z, p, k, math.Sqrt(w1*w2), w2-w1)
	case "bandstop":
		w1, w2 := warp(cutoffs[0]), warp(cutoffs[1])
		z, p, k = lp2bs(z, p, k, math.Sqrt(w1*w2), w2-w1)
	default:
		return nil, fmt.Errorf("%w: kind %q, want lowpass, highpass, bandpass or bandstop", ErrDesign, kind)
	}
	z, p, k = bilinear(z, p, k, 2)
	return zpk2sos(z, p, k), nil
}

func lp2lp(z, p []complex128, k, wo float64) ([]complex128, []complex128, float64) {
	deg := len(p) - len(z)
	zl, pl := scale(z, wo), scale(p, wo)
	return zl, pl, k * math.Pow(wo, float64(deg))
}

func lp2hp(z, p []complex128, k, wo float64) ([]complex128, []complex128, float64) {
	deg := len(p) - len(z)
	zh, ph := make([]complex128, 0, len(p)), make([]complex128, len(p))
	for _, v := range z {
		zh = append(zh, complex(wo, 0)/v)
	}
	for i, v := range p {
		ph[i] = complex(wo, 0) / v
	}
	for range deg {
		zh = append(zh, 0)
	}
	return zh, ph, k * real(prodNeg(z)/prodNeg(p))
}

func lp2bp(z, p []complex128, k, wo, bw float64) ([]complex128, []complex128, float64) {
	deg := len(p) - len(z)
	split := func(r []complex128) []complex128 {
		out := make([]complex128, 0, 2*len(r))
		for _, v := range r {
			v *= complex(bw/2, 0)
			d := cmplx.Sqrt(v*v - complex(wo*wo, 0))
			out = append(out, v+d, v-d)
		}
		return out
	}
	zb, pb := split(z), split(p)
	for range deg {
		zb = append(zb, 0)
	}
	return zb, pb, k * math.Pow(bw, float64(deg))
}

func lp2bs(z, p []complex128, k, wo, bw float64) ([]complex128, []complex128, float64) {
	deg := len(p) - len(z)
	split := func(r []complex128) []complex128 {
		out := make([]complex128, 0, 2*len(r))
		for _, v := range r {
			v = complex(bw/2, 0) / v
			d := cmplx.Sqrt(v*v - complex(wo*wo, 0))
			out = append(out, v+d, v-d)
		}
		return out
	}
	zs, ps := split(z), split(p)
	for range deg {
		zs = append(zs, complex(0, wo), complex(0, -wo))
	}
	return zs, ps, k * real(prodNeg(z)/prodNeg(p))
}

// bilinear maps analogue zeros, poles and gain to the z-plane with the
// bilinear transform at sampling rate fs.
func bilinear(z, p []complex128, k, fs float64) ([]complex128, []complex128, float64) {
	deg := len(p) - len(z)
	fs2 := complex(2*fs, 0)
	zz, pz := make([]complex128, 0, len(p)), make([]complex128, len(p))
	num, den := complex(1, 0), complex(1, 0)
	for _, v := range z {
		zz = append(zz, (fs2+v)/(fs2-v))
		num *= fs2 - v
	}
	for i, v := range p {
		pz[i] = (fs2 + v) / (fs2 - v)
		den *= fs2 - v
	}
	for range deg {
		zz = append(zz, -1)
	}
	return zz, pz, k * real(num/den)
}

func scale(r []complex128, w float64) []complex128 {
	out := make([]complex128, len(r))
	for i, v := range r {
		out[i] = v * complex(w, 0)
	}
	return out
}

func prodNeg(r []complex128) complex128 {
	out := complex(1, 0)
	for _, v := range r {
		out *= -v
	}
	return out
}

// rootGroup is one or two roots that make up one factor of a section: a
// complex-conjugate pair, two real roots, or a single real root.
type rootGroup []complex128

// groups splits roots into conjugate pairs and pairs of real roots (one real
// root may be left alone).
func groups(r []complex128) []rootGroup {
	const tol = 1e-10
	var out []rootGroup
	var reals []float64
	used := make([]bool, len(r))
	for i, v := range r {
		if used[i] {
			continue
		}
		if math.Abs(imag(v)) <= tol*math.Max(1, cmplx.Abs(v)) {
			reals = append(reals, real(v))
			used[i] = true
			continue
		}
		// find its conjugate
		best, bestd := -1, math.Inf(1)
		for j := i + 1; j < len(r); j++ {
			if !used[j] {
				if d := cmplx.Abs(r[j] - cmplx.Conj(v)); d < bestd {
					best, bestd = j, d
				}
			}
		}
		used[i] = true
		if best >= 0 {
			used[best] = true
		}
		out = append(out, rootGroup{complex(real(v), math.Abs(imag(v))), complex(real(v), -math.Abs(imag(v)))})
	}
	sort.Float64s(reals)
	for i := 0; i < len(reals); i += 2 {
		if i+1 < len(reals) {
			out = append(out, rootGroup{complex(reals[i], 0), complex(reals[i+1], 0)})
		} else {
			out = append(out, rootGroup{complex(reals[i], 0)})
		}
	}
	return out
}

// poly returns [1, c1, c2] of the monic polynomial with the group's roots
// (c2 = 0 for a single root).
func (g rootGroup) poly() [3]float64 {
	switch len(g) {
	case 0:
		return [3]float64{1, 0, 0}
	case 1:
		return [3]float64{1, -real(g[0]), 0}
	}
	return [3]float64{1, -real(g[0] + g[1]), real(g[0] * g[1])}
}

// zpk2sos pairs poles and zeros into second-order sections. Poles closest
// to the unit circle (the most resonant) go last, and each pole group takes
// the zero group nearest to it, so intermediate signals stay well scaled.
func zpk2sos(z, p []complex128, k float64) SOS {
	pg, zg := groups(p), groups(z)
	dist := func(g rootGroup) float64 { return math.Abs(1 - cmplx.Abs(g[0])) }
	sort.SliceStable(pg, func(i, j int) bool {
		if len(pg[i]) != len(pg[j]) {
			return len(pg[i]) < len(pg[j]) // a lone real pole first
		}
		return dist(pg[i]) > dist(pg[j])
	})
	sos := make(SOS, len(pg))
	usedZ := make([]bool, len(zg))
	for i, g := range pg {
		best, bestd := -1, math.Inf(1)
		for j, h := range zg {
			if usedZ[j] || len(h) > len(g) && len(g) == 1 {
				continue
			}
			if d := cmplx.Abs(h[0] - g[0]); d < bestd {
				best, bestd = j, d
			}
		}
		var zp [3]float64 = rootGroup(nil).poly()
		if best >= 0 {
			usedZ[best] = true
			zp = zg[best].poly()
		}
		pp := g.poly()
		sos[i] = Section{zp[0], zp[1], zp[2], pp[0], pp[1], pp[2]}
	}
	sos[0][0] *= k
	sos[0][1] *= k
	sos[0][2] *= k
	return sos
}

// Response filters x from a zero state and returns the output; a
// convenience for offline use and tests.
func (s SOS) Response(x []float64) []float64 {
	y := make([]float64, len(x))
	z := make([][2]float64, len(s))
	for n, v := range x {
		for i, sec := range s {
			out := sec[0]*v + z[i][0]
			z[i][0] = sec[1]*v - sec[4]*out + z[i][1]
			z[i][1] = sec[2]*v - sec[5]*out
			v = out
		}
		y[n] = v
	}
	return y
}

// Gain returns |H(f)| at frequency f (Hz) for sampling rate fs.
func (s SOS) Gain(f, fs float64) float64 {
	w := cmplx.Exp(complex(0, -2*math.Pi*f/fs))
	h := complex(1, 0)
	for _, sec := range s {
		num := complex(sec[0], 0) + complex(sec[1], 0)*w + complex(sec[2], 0)*w*w
		den := complex(sec[3], 0) + complex(sec[4], 0)*w + complex(sec[5], 0)*w*w
		h *= num / den
	}
	return cmplx.Abs(h)
}
