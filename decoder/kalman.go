package decoder

import (
	"context"
	"encoding/json"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/internal/budget"
	"github.com/bci-decode/bci-decode/modelfile"
)

// MaxKalmanState bounds the state dimension: kinematic states (position,
// velocity, force per axis) stay far below it, and it bounds the work of
// loading a model (the steady-state recursion is O(d³) per iteration).
const MaxKalmanState = 16

// steadyIterations bounds the steady-state covariance recursion; it
// converges in tens of iterations for fitted models.
const steadyIterations = 2000

// KalmanOptions configures FitKalman.
type KalmanOptions struct {
	// SteadyState runs the filter with its converged gain (the usual choice
	// in closed-loop BCIs: cheaper and identical after a few seconds).
	SteadyState bool
	// Ridge regularises the least-squares fits of A and H (default 1e-6,
	// relative to the mean variance of the regressors).
	Ridge float64
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *KalmanOptions) EnsureDefaults() {
	if o.Ridge == 0 {
		o.Ridge = 1e-6
	}
}

// Kalman is the linear-Gaussian state-space decoder of intracortical BCI
// practice (Wu et al. 2006): the state is the kinematic target vector (e.g.
// hand velocity), x[t] = A x[t-1] + w with w ~ N(0, W), and the features
// observe it as z[t] = H x[t] + q with q ~ N(0, Q). All four matrices are fit
// by least squares on training data. The update uses the information form,
// so each step costs O(m·d + d³) for m features and d state dimensions
// instead of inverting an m×m innovation covariance.
type Kalman struct {
	d, m   int
	steady bool
	mx, mz []float64 // state and feature means
	a, w   []float64 // d×d
	h      []float64 // m×d
	qih    []float64 // m×d, Q⁻¹H
	htqih  []float64 // d×d, HᵀQ⁻¹H
	p0     []float64 // d×d initial covariance
	pss    []float64 // d×d steady-state posterior covariance

	// state and scratch, reset by Reset
	x, p         []float64
	xp, g, tmp   []float64
	pp, pinv, m2 []float64
	piv          []int
}

// FitKalman fits a Kalman filter to the training set; its state is the
// set's targets.
func FitKalman(ctx context.Context, train *dataset.Set, opts KalmanOptions) (*Kalman, error) {
	if err := checkSet(train); err != nil {
		return nil, fmt.Errorf("kalman: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	d, m, n := train.Outputs(), train.Inputs(), train.Len()
	if d > MaxKalmanState {
		return nil, fmt.Errorf("kalman: %d targets, at most %d", d, MaxKalmanState)
	}
	// The fit holds the features (n×m), their residual covariance (m×m)
	// and its inverse.
	if err := budget.Check(fmt.Sprintf("kalman: fitting %d features over %d bins", m, n), uint64(n)*uint64(m)+3*uint64(m)*uint64(m), 8); err != nil {
		return nil, err
	}
	X := mat.NewDense(n, d, nil)
	Z := mat.NewDense(n, m, nil)
	for t := range n {
		for k, v := range train.Y[t] {
			X.Set(t, k, float64(v))
		}
		for i, v := range train.X[t] {
			Z.Set(t, i, float64(v))
		}
	}
	mx, mz := colMeans(X), colMeans(Z)
	centre(X, mx)
	centre(Z, mz)

	// Transition pairs never cross a segment boundary.
	var prev, next []int
	for _, g := range train.Segments() {
		for t := g[0] + 1; t < g[1]; t++ {
			prev, next = append(prev, t-1), append(next, t)
		}
	}
	if len(prev) < d+1 {
		return nil, fmt.Errorf("kalman: %d transitions, too few to fit a %d-dimensional state", len(prev), d)
	}
	x1, x2 := rows(X, prev), rows(X, next)
	at, err := ridge(x1, x2, opts.Ridge*meanVar(x1)*float64(len(prev)))
	if err != nil {
		return nil, fmt.Errorf("kalman: fit A: %w", err)
	}
	W := residualCov(x2, x1, at)
	ht, err := ridge(X, Z, opts.Ridge*meanVar(X)*float64(n))
	if err != nil {
		return nil, fmt.Errorf("kalman: fit H: %w", err)
	}
	Q := residualCov(Z, X, ht)
	// Silent or perfectly predicted channels make Q singular; a floor
	// relative to the average noise keeps it invertible.
	floor := 1e-6 * mat.Trace(Q) / float64(m)
	if floor <= 0 {
		floor = 1e-9
	}
	for i := range m {
		Q.Set(i, i, Q.At(i, i)+floor)
	}
	var qi mat.Dense
	if err := qi.Inverse(Q); err != nil {
		return nil, fmt.Errorf("kalman: invert observation noise: %w", err)
	}
	var qih, htqih mat.Dense
	qih.Mul(&qi, ht.T()) // m×d
	htqih.Mul(ht, &qih)  // d×d
	var p0 mat.Dense
	p0.Mul(X.T(), X)
	p0.Scale(1/float64(n), &p0)

	k := &Kalman{d: d, m: m, steady: opts.SteadyState, mx: mx, mz: mz,
		a: flatten(at.T()), w: flatten(W), h: flatten(ht.T()),
		qih: flatten(&qih), htqih: flatten(&htqih), p0: flatten(&p0)}
	if err := k.init(); err != nil {
		return nil, err
	}
	return k, nil
}

func rows(m *mat.Dense, idx []int) *mat.Dense {
	_, c := m.Dims()
	out := mat.NewDense(len(idx), c, nil)
	for i, r := range idx {
		copy(out.RawRowView(i), m.RawRowView(r))
	}
	return out
}

func meanVar(m *mat.Dense) float64 {
	r, c := m.Dims()
	s := 0.0
	for i := range r {
		for _, v := range m.RawRowView(i) {
			s += v * v
		}
	}
	if s == 0 {
		return 1
	}
	return s / float64(r*c)
}

// residualCov returns the covariance of y - x·b.
func residualCov(y, x, b *mat.Dense) *mat.Dense {
	var res mat.Dense
	res.Mul(x, b)
	res.Sub(y, &res)
	r, _ := res.Dims()
	var cov mat.Dense
	cov.Mul(res.T(), &res)
	cov.Scale(1/float64(r), &cov)
	return &cov
}

func flatten(m mat.Matrix) []float64 {
	r, c := m.Dims()
	out := make([]float64, r*c)
	for i := range r {
		for j := range c {
			out[i*c+j] = m.At(i, j)
		}
	}
	return out
}

// init allocates state and scratch and, for the steady-state filter, runs
// the covariance recursion to convergence.
func (k *Kalman) init() error {
	d := k.d
	k.x, k.xp, k.g, k.tmp = make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d)
	k.p, k.pp, k.pinv, k.m2 = make([]float64, d*d), make([]float64, d*d), make([]float64, d*d), make([]float64, d*d)
	k.piv = make([]int, d)
	k.Reset()
	if !k.steady {
		return nil
	}
	for range steadyIterations {
		prev := append([]float64(nil), k.p...)
		if !k.predictCov() {
			return fmt.Errorf("kalman: covariance became singular while converging")
		}
		diff := 0.0
		for i := range k.p {
			diff = max(diff, abs(k.p[i]-prev[i]))
		}
		if diff < 1e-12*(1+abs(k.p[0])) {
			break
		}
	}
	k.pss = append([]float64(nil), k.p...)
	return nil
}

// predictCov advances P through one predict and update:
// P⁻ = A P Aᵀ + W, P = ((P⁻)⁻¹ + HᵀQ⁻¹H)⁻¹.
func (k *Kalman) predictCov() bool {
	d := k.d
	// m2 = A P
	for i := range d {
		for j := range d {
			s := 0.0
			for l := range d {
				s += k.a[i*d+l] * k.p[l*d+j]
			}
			k.m2[i*d+j] = s
		}
	}
	// pp = m2 Aᵀ + W
	for i := range d {
		for j := range d {
			s := k.w[i*d+j]
			for l := range d {
				s += k.m2[i*d+l] * k.a[j*d+l]
			}
			k.pp[i*d+j] = s
		}
	}
	copy(k.pinv, k.pp)
	if !invertSmall(k.pinv, d, k.piv) {
		return false
	}
	for i := range k.pinv {
		k.p[i] = k.pinv[i] + k.htqih[i]
	}
	return invertSmall(k.p, d, k.piv)
}

// Kind implements Decoder.
func (k *Kalman) Kind() string { return "kalman" }

// Inputs implements Decoder.
func (k *Kalman) Inputs() int { return k.m }

// Outputs implements Decoder.
func (k *Kalman) Outputs() int { return k.d }

// Reset implements Decoder: the state returns to the training mean with
// the training covariance.
func (k *Kalman) Reset() {
	clear(k.x)
	copy(k.p, k.p0)
	if k.pss != nil {
		copy(k.p, k.pss)
	}
}

// Step implements Decoder.
func (k *Kalman) Step(features, out []float32) {
	d, m := k.d, k.m
	for i := range d {
		s := 0.0
		for l := range d {
			s += k.a[i*d+l] * k.x[l]
		}
		k.xp[i] = s
	}
	if !k.steady {
		if !k.predictCov() {
			// A singular covariance cannot happen with positive definite
			// W; recover rather than emit garbage.
			copy(k.p, k.p0)
		}
	}
	// g = (Q⁻¹H)ᵀ (z - mz - H xp)
	clear(k.g)
	for i := range m {
		hx := 0.0
		hrow := k.h[i*d : (i+1)*d]
		for l, v := range hrow {
			hx += v * k.xp[l]
		}
		innov := float64(features[i]) - k.mz[i] - hx
		qrow := k.qih[i*d : (i+1)*d]
		for l, v := range qrow {
			k.g[l] += v * innov
		}
	}
	for i := range d {
		s := k.xp[i]
		for l := range d {
			s += k.p[i*d+l] * k.g[l]
		}
		k.x[i] = s
		out[i] = float32(s + k.mx[i])
	}
}

// Clone implements Cloner.
func (k *Kalman) Clone() Decoder {
	c := *k
	_ = c.init()
	return &c
}

type kalmanMeta struct {
	Inputs      int  `json:"inputs"`
	Outputs     int  `json:"outputs"`
	SteadyState bool `json:"steady_state"`
}

// MarshalModel implements Marshaler.
func (k *Kalman) MarshalModel() (any, []byte, error) {
	var p modelfile.Writer
	for _, v := range [][]float64{k.mx, k.mz, k.a, k.w, k.h, k.qih, k.htqih, k.p0} {
		p.Float64s(v)
	}
	return kalmanMeta{Inputs: k.m, Outputs: k.d, SteadyState: k.steady}, p.Buf, nil
}

func loadKalman(meta json.RawMessage, payload []byte) (Decoder, error) {
	var m kalmanMeta
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	r := modelfile.NewReader(payload)
	k := &Kalman{d: m.Outputs, m: m.Inputs, steady: m.SteadyState,
		mx: r.Float64s(), mz: r.Float64s(), a: r.Float64s(), w: r.Float64s(),
		h: r.Float64s(), qih: r.Float64s(), htqih: r.Float64s(), p0: r.Float64s()}
	if err := r.Err(); err != nil {
		return nil, err
	}
	d, n := m.Outputs, m.Inputs
	if d < 1 || d > MaxKalmanState || n < 1 || len(k.mx) != d || len(k.mz) != n || len(k.a) != d*d || len(k.w) != d*d ||
		len(k.h) != n*d || len(k.qih) != n*d || len(k.htqih) != d*d || len(k.p0) != d*d {
		return nil, fmt.Errorf("%w: kalman parameters do not match %d features -> %d states", modelfile.ErrCorrupt, n, d)
	}
	if err := checkFinite(k.mx, k.mz, k.a, k.w, k.h, k.qih, k.htqih, k.p0); err != nil {
		return nil, err
	}
	if err := k.init(); err != nil {
		return nil, err
	}
	return k, nil
}

func init() {
	Register(Plugin{Kind: "kalman", Doc: "Kalman filter (state = targets, least squares, information-form update)", Load: loadKalman, SeedFree: true,
		Fit: func(ctx context.Context, train *dataset.Set, _ FitOptions) (Decoder, error) {
			return FitKalman(ctx, train, KalmanOptions{})
		}})
}
