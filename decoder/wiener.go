package decoder

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/internal/budget"
	"github.com/bci-decode/bci-decode/modelfile"
)

// WienerOptions configures FitWiener. Zero fields take defaults.
type WienerOptions struct {
	// Lags is the number of bins of history, the current bin included. 0
	// chooses it by validation, with the ridge penalty, among 1 to the
	// number of bins in MaxHistory.
	Lags int
	// MaxHistory bounds the history the automatic choice considers
	// (default 500 ms, at most MaxLagBins bins; 10 bins when the bin width
	// is unknown).
	MaxHistory time.Duration
	// Ridge is the L2 penalty per bin on standardised features. 0 chooses it
	// from RidgeGrid by validation.
	Ridge float64
	// RidgeGrid lists the candidates for the automatic choice.
	RidgeGrid []float64
	// ValFrac is the share of training data held out to choose Lags and
	// Ridge (default 0.2): interleaved whole trials, or the end of a
	// continuous session (dataset.SplitValidation). The filter is then
	// refit on all the training data.
	ValFrac float64
}

// MaxLagBins caps the history of the automatic choice, which keeps the
// normal equations (lags × channels)² small enough to solve in seconds.
const MaxLagBins = 10

func (o WienerOptions) withDefaults() WienerOptions {
	if o.MaxHistory == 0 {
		o.MaxHistory = 500 * time.Millisecond
	}
	if len(o.RidgeGrid) == 0 {
		o.RidgeGrid = []float64{0.01, 0.1, 1, 10, 100, 1000}
	}
	if o.ValFrac == 0 {
		o.ValFrac = 0.2
	}
	return o
}

// lagCandidates lists the histories the automatic choice tries: every
// length up to 6 bins, then every other one up to the longest.
func (o WienerOptions) lagCandidates(bin time.Duration) []int {
	if o.Lags > 0 {
		return []int{o.Lags}
	}
	longest := 10
	if bin > 0 {
		longest = int(o.MaxHistory / bin)
	}
	longest = min(max(longest, 1), MaxLagBins)
	var out []int
	for l := 1; l <= longest; l++ {
		if l <= 6 || l%2 == 0 || l == longest {
			out = append(out, l)
		}
	}
	return out
}

// Wiener is a linear decoder on a window of lagged bins (ridge regression),
// the simplest baseline of intracortical BCIs. Features are standardised
// with training statistics; history before the start of a stream is zero
// (the training mean).
type Wiener struct {
	lags, in, out int
	mu, sd        []float64 // feature standardisation
	w             []float64 // out × (lags·in), lag-major: w[k][l*in+i]
	b             []float64 // out intercepts
	hist          []float64 // ring of lags standardised feature vectors
	head          int       // slot of the newest vector in hist
	ridge         float64
	meta          wienerMeta
}

// FitWiener fits a Wiener filter to the training set, choosing its history
// and ridge penalty by validation unless opts fixes them.
func FitWiener(ctx context.Context, train *dataset.Set, opts WienerOptions) (*Wiener, error) {
	opts = opts.withDefaults()
	if opts.Lags < 0 || opts.MaxHistory < 0 || opts.Ridge < 0 || !(opts.ValFrac > 0 && opts.ValFrac < 1) {
		return nil, fmt.Errorf("wiener: lags %d, history %v, ridge %v and validation share %v: want non-negative values and a share in (0, 1)",
			opts.Lags, opts.MaxHistory, opts.Ridge, opts.ValFrac)
	}
	if err := checkSet(train); err != nil {
		return nil, fmt.Errorf("wiener: %w", err)
	}
	lagsC, grid := opts.lagCandidates(train.BinWidth), opts.RidgeGrid
	if opts.Ridge > 0 {
		grid = []float64{opts.Ridge}
	}
	longest := lagsC[len(lagsC)-1]
	if err := checkWienerBudget(train, longest); err != nil {
		return nil, err
	}
	mu, sd := featureStats(train)
	meta := wienerMeta{Inputs: train.Inputs(), Outputs: train.Outputs(), Lags: lagsC[0], Ridge: grid[0]}
	var all *normal
	if len(lagsC) == 1 && len(grid) == 1 {
		all = normalOf(lagDesign(train, longest, mu, sd))
	} else {
		fit, val, split := train.SplitValidation(opts.ValFrac)
		if fit.Len() <= longest || val.Len() == 0 {
			return nil, fmt.Errorf("wiener: %d bins are too few to choose the history and ridge penalty", train.Len())
		}
		nf := normalOf(lagDesign(fit, longest, mu, sd))
		xv, _ := lagDesign(val, longest, mu, sd)
		best, err := chooseWiener(ctx, nf, xv, val.Y, lagsC, grid)
		if err != nil {
			return nil, err
		}
		meta.Lags, meta.Ridge, meta.ValSplit, meta.ValR2 = best.lags, best.ridge, split, &best.r2
		all = nf.add(normalOf(lagDesign(val, longest, mu, sd)))
	}
	return newWiener(all, meta, mu, sd, train.BinWidth)
}

// wienerChoice is a candidate history and penalty with its validation R².
type wienerChoice struct {
	lags  int
	ridge float64
	r2    float64
}

// chooseWiener fits every candidate on nf and scores it on the validation
// design xv (its targets yv), returning the best.
func chooseWiener(ctx context.Context, nf *normal, xv *mat.Dense, yv [][]float32, lags []int, grid []float64) (wienerChoice, error) {
	best := wienerChoice{r2: math.Inf(-1)}
	nv, in := len(yv), nf.sx.Len()/lags[len(lags)-1]
	pred := make([][]float32, nv)
	for i := range pred {
		pred[i] = make([]float32, nf.xty.RawMatrix().Cols)
	}
	for _, l := range lags {
		for _, lambda := range grid {
			if err := ctx.Err(); err != nil {
				return best, err
			}
			beta, b, err := nf.solve(l*in, lambda)
			if err != nil {
				continue
			}
			var p mat.Dense
			p.Mul(xv.Slice(0, nv, 0, l*in), beta)
			for i := range pred {
				for k := range pred[i] {
					pred[i][k] = float32(p.At(i, k) + b[k])
				}
			}
			if r2 := eval.Score(pred, yv).MeanR2(); r2 > best.r2 {
				best = wienerChoice{lags: l, ridge: lambda, r2: r2}
			}
		}
	}
	if math.IsInf(best.r2, -1) {
		return best, fmt.Errorf("wiener: no history in %v with a ridge penalty in %v gave a solvable system", lags, grid)
	}
	return best, nil
}

// newWiener solves the normal equations of all the training data for the
// history and penalty in meta.
func newWiener(all *normal, meta wienerMeta, mu, sd []float64, bin time.Duration) (*Wiener, error) {
	in, out, lags := meta.Inputs, meta.Outputs, meta.Lags
	beta, b, err := all.solve(lags*in, meta.Ridge)
	if err != nil {
		return nil, fmt.Errorf("wiener: %w", err)
	}
	if bin > 0 {
		meta.HistoryMS = float64(lags) * float64(bin) / float64(time.Millisecond)
	}
	w := &Wiener{lags: lags, in: in, out: out, mu: mu, sd: sd, ridge: meta.Ridge, b: b,
		w: make([]float64, out*lags*in), hist: make([]float64, lags*in), meta: meta}
	for k := range out {
		for j := range lags * in {
			w.w[k*lags*in+j] = beta.At(j, k)
		}
	}
	return w, nil
}

// lagDesign builds the lag-major design matrix of s (standardised features
// of the current bin, then of 1, 2 ... lags-1 bins before, zero before a
// segment's start) and its targets.
func lagDesign(s *dataset.Set, lags int, mu, sd []float64) (x, y *mat.Dense) {
	in, out, n := s.Inputs(), s.Outputs(), s.Len()
	x = mat.NewDense(n, lags*in, nil)
	y = mat.NewDense(n, out, nil)
	for _, g := range s.Segments() {
		for t := g[0]; t < g[1]; t++ {
			row := x.RawRowView(t)
			for l := 0; l < lags && t-l >= g[0]; l++ {
				for i, v := range s.X[t-l] {
					row[l*in+i] = (float64(v) - mu[i]) / sd[i]
				}
			}
			for k, v := range s.Y[t] {
				y.Set(t, k, float64(v))
			}
		}
	}
	return x, y
}

// normal holds the sufficient statistics of a ridge fit on a lag-major
// design: XᵀX, XᵀY, the column sums of X and Y and the row count. Those of
// fewer lags are its leading blocks, so one pass over the data serves
// every candidate history, and the statistics of two sets add.
type normal struct {
	xtx    *mat.SymDense
	xty    *mat.Dense
	sx, sy *mat.VecDense
	n      float64
}

func normalOf(x, y *mat.Dense) *normal {
	r, p := x.Dims()
	_, out := y.Dims()
	ones := mat.NewVecDense(r, nil)
	for i := range r {
		ones.SetVec(i, 1)
	}
	nm := &normal{xtx: mat.NewSymDense(p, nil), xty: mat.NewDense(p, out, nil),
		sx: mat.NewVecDense(p, nil), sy: mat.NewVecDense(out, nil), n: float64(r)}
	if r == 0 {
		return nm
	}
	// A general product, though it computes both halves: gonum's Dgemm
	// is blocked and uses every core, its Dsyrk neither.
	var g mat.Dense
	g.Mul(x.T(), x)
	copy(nm.xtx.RawSymmetric().Data, g.RawMatrix().Data)
	nm.xty.Mul(x.T(), y)
	nm.sx.MulVec(x.T(), ones)
	nm.sy.MulVec(y.T(), ones)
	return nm
}

// add returns the statistics of both sets together.
func (a *normal) add(b *normal) *normal {
	s := &normal{xtx: mat.NewSymDense(a.xtx.SymmetricDim(), nil), xty: &mat.Dense{}, sx: &mat.VecDense{}, sy: &mat.VecDense{}, n: a.n + b.n}
	s.xtx.AddSym(a.xtx, b.xtx)
	s.xty.Add(a.xty, b.xty)
	s.sx.AddVec(a.sx, b.sx)
	s.sy.AddVec(a.sy, b.sy)
	return s
}

// solve returns the ridge coefficients on the first p columns (centred, with
// penalty lambda per row) and the intercepts.
func (a *normal) solve(p int, lambda float64) (*mat.Dense, []float64, error) {
	out := a.sy.Len()
	c := mat.NewSymDense(p, nil)
	cr, gr := c.RawSymmetric(), a.xtx.RawSymmetric()
	for i := range p {
		ci, gi, si := cr.Data[i*cr.Stride:], gr.Data[i*gr.Stride:], a.sx.AtVec(i)/a.n
		for j := i; j < p; j++ {
			ci[j] = gi[j] - si*a.sx.AtVec(j)
		}
		ci[i] += lambda * a.n
	}
	rhs := mat.NewDense(p, out, nil)
	for i := range p {
		for k := range out {
			rhs.Set(i, k, a.xty.At(i, k)-a.sx.AtVec(i)*a.sy.AtVec(k)/a.n)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(c) {
		return nil, nil, fmt.Errorf("ridge system is not positive definite (λ=%g): features are degenerate", lambda)
	}
	var beta mat.Dense
	if err := ch.SolveTo(&beta, rhs); err != nil {
		return nil, nil, fmt.Errorf("ridge solve: %w", err)
	}
	b := make([]float64, out)
	for k := range out {
		b[k] = a.sy.AtVec(k) / a.n
		for j := range p {
			b[k] -= beta.At(j, k) * a.sx.AtVec(j) / a.n
		}
	}
	return &beta, b, nil
}

// Kind implements Decoder.
func (w *Wiener) Kind() string { return "wiener" }

// Inputs implements Decoder.
func (w *Wiener) Inputs() int { return w.in }

// Outputs implements Decoder.
func (w *Wiener) Outputs() int { return w.out }

// Lags is the number of bins of history the filter uses.
func (w *Wiener) Lags() int { return w.lags }

// Ridge is the ridge penalty the filter was fit with.
func (w *Wiener) Ridge() float64 { return w.ridge }

// Reset implements Decoder.
func (w *Wiener) Reset() {
	clear(w.hist)
	w.head = 0
}

// Step implements Decoder.
func (w *Wiener) Step(features, out []float32) {
	w.head = (w.head + w.lags - 1) % w.lags
	cur := w.hist[w.head*w.in : (w.head+1)*w.in]
	for i, v := range features[:w.in] {
		cur[i] = (float64(v) - w.mu[i]) / w.sd[i]
	}
	stride := w.lags * w.in
	for k := range w.out {
		acc := w.b[k]
		wk := w.w[k*stride : (k+1)*stride]
		for l := range w.lags {
			h := w.hist[((w.head+l)%w.lags)*w.in:][:w.in]
			wl := wk[l*w.in:][:w.in]
			for i, v := range h {
				acc += wl[i] * v
			}
		}
		out[k] = float32(acc)
	}
}

// Clone implements Cloner.
func (w *Wiener) Clone() Decoder {
	c := *w
	c.hist = make([]float64, len(w.hist))
	c.head = 0
	return &c
}

// wienerMeta is the JSON metadata of a Wiener model file: its shape and
// what validation chose.
type wienerMeta struct {
	Inputs  int     `json:"inputs"`
	Outputs int     `json:"outputs"`
	Lags    int     `json:"lags"`
	Ridge   float64 `json:"ridge"`
	// HistoryMS is Lags in milliseconds (absent when the bin width is
	// unknown); ValSplit and ValR2 say how the choice was validated
	// (absent when both were fixed).
	HistoryMS float64          `json:"history_ms,omitempty"`
	ValSplit  dataset.ValSplit `json:"val_split,omitempty"`
	ValR2     *float64         `json:"val_r2,omitempty"`
}

// MarshalModel implements Marshaler.
func (w *Wiener) MarshalModel() (any, []byte, error) {
	var p modelfile.Writer
	p.Float64s(w.mu)
	p.Float64s(w.sd)
	p.Float64s(w.w)
	p.Float64s(w.b)
	return w.meta, p.Buf, nil
}

func loadWiener(meta json.RawMessage, payload []byte) (Decoder, error) {
	var m wienerMeta
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	r := modelfile.NewReader(payload)
	w := &Wiener{lags: m.Lags, in: m.Inputs, out: m.Outputs, ridge: m.Ridge, meta: m,
		mu: r.Float64s(), sd: r.Float64s(), w: r.Float64s(), b: r.Float64s()}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if m.Lags < 1 || m.Inputs < 1 || m.Outputs < 1 || len(w.mu) != m.Inputs || len(w.sd) != m.Inputs ||
		len(w.w) != m.Outputs*m.Lags*m.Inputs || len(w.b) != m.Outputs {
		return nil, fmt.Errorf("%w: wiener parameters do not match %d inputs × %d lags -> %d outputs", modelfile.ErrCorrupt, m.Inputs, m.Lags, m.Outputs)
	}
	if err := checkFinite(w.mu, w.sd, w.w, w.b); err != nil {
		return nil, err
	}
	w.hist = make([]float64, m.Lags*m.Inputs)
	return w, nil
}

func init() {
	Register(Plugin{Kind: "wiener", Doc: "Wiener filter (ridge regression on lagged bins, penalty chosen by validation)", Load: loadWiener, SeedFree: true,
		Fit: func(ctx context.Context, train *dataset.Set, _ FitOptions) (Decoder, error) {
			return FitWiener(ctx, train, WienerOptions{})
		}})
}

// checkWienerBudget refuses a fit whose lagged design matrix (n × lags·m)
// and normal equations ((lags·m)²) would not fit in memory.
func checkWienerBudget(train *dataset.Set, lags int) error {
	k := uint64(max(lags, 1)) * uint64(train.Inputs())
	return budget.Check(fmt.Sprintf("wiener: %d lags of %d features over %d bins", lags, train.Inputs(), train.Len()), uint64(train.Len())*k+2*k*k, 8)
}
