package decoder

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/internal/budget"
	"github.com/bci-decode/bci-decode/modelfile"
)

// WienerOptions configures FitWiener. Zero fields take defaults.
type WienerOptions struct {
	// Lags is the number of bins of history, the current bin included
	// (default 5).
	Lags int
	// Ridge is the L2 penalty per bin on standardised features. 0 chooses it
	// from RidgeGrid by validation on the last ValFrac of the training data
	// (by time), then refits on all of it.
	Ridge float64
	// RidgeGrid lists the candidates for the automatic choice.
	RidgeGrid []float64
	// ValFrac is the share of training data held out to choose Ridge
	// (default 0.2).
	ValFrac float64
}

func (o WienerOptions) withDefaults() WienerOptions {
	if o.Lags == 0 {
		o.Lags = 5
	}
	if len(o.RidgeGrid) == 0 {
		o.RidgeGrid = []float64{0.01, 0.1, 1, 10, 100, 1000}
	}
	if o.ValFrac == 0 {
		o.ValFrac = 0.2
	}
	return o
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
}

// FitWiener fits a Wiener filter to the training set.
func FitWiener(ctx context.Context, train *dataset.Set, opts WienerOptions) (*Wiener, error) {
	opts = opts.withDefaults()
	if opts.Lags < 1 {
		return nil, fmt.Errorf("wiener: lags %d, need at least 1", opts.Lags)
	}
	if err := checkSet(train); err != nil {
		return nil, fmt.Errorf("wiener: %w", err)
	}
	if err := checkWienerBudget(train, opts.Lags); err != nil {
		return nil, err
	}
	mu, sd := featureStats(train)
	lambda := opts.Ridge
	if lambda == 0 {
		fit, val := train.SplitByTime(opts.ValFrac)
		if fit.Len() == 0 || val.Len() == 0 {
			return nil, fmt.Errorf("wiener: %d bins are too few to choose the ridge penalty", train.Len())
		}
		best := math.Inf(-1)
		for _, l := range opts.RidgeGrid {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			w, err := fitWiener(fit, opts.Lags, l, mu, sd)
			if err != nil {
				continue
			}
			if r2 := eval.Score(Predict(w, val), val.Y).MeanR2(); r2 > best {
				best, lambda = r2, l
			}
		}
		if math.IsInf(best, -1) {
			return nil, fmt.Errorf("wiener: no ridge penalty in %v gave a solvable system", opts.RidgeGrid)
		}
	}
	return fitWiener(train, opts.Lags, lambda, mu, sd)
}

func fitWiener(s *dataset.Set, lags int, lambda float64, mu, sd []float64) (*Wiener, error) {
	in, out, n := s.Inputs(), s.Outputs(), s.Len()
	x := mat.NewDense(n, lags*in, nil)
	y := mat.NewDense(n, out, nil)
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
	xm, ym := colMeans(x), colMeans(y)
	centre(x, xm)
	centre(y, ym)
	beta, err := ridge(x, y, lambda*float64(n))
	if err != nil {
		return nil, err
	}
	w := &Wiener{lags: lags, in: in, out: out, mu: mu, sd: sd, ridge: lambda,
		w: make([]float64, out*lags*in), b: make([]float64, out)}
	for k := range out {
		w.b[k] = ym[k]
		for j := range lags * in {
			c := beta.At(j, k)
			w.w[k*lags*in+j] = c
			w.b[k] -= c * xm[j]
		}
	}
	w.hist = make([]float64, lags*in)
	return w, nil
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

type wienerMeta struct {
	Inputs  int     `json:"inputs"`
	Outputs int     `json:"outputs"`
	Lags    int     `json:"lags"`
	Ridge   float64 `json:"ridge"`
}

// MarshalModel implements Marshaler.
func (w *Wiener) MarshalModel() (any, []byte, error) {
	var p modelfile.Writer
	p.Float64s(w.mu)
	p.Float64s(w.sd)
	p.Float64s(w.w)
	p.Float64s(w.b)
	return wienerMeta{Inputs: w.in, Outputs: w.out, Lags: w.lags, Ridge: w.ridge}, p.Buf, nil
}

func loadWiener(meta json.RawMessage, payload []byte) (Decoder, error) {
	var m wienerMeta
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	r := modelfile.NewReader(payload)
	w := &Wiener{lags: m.Lags, in: m.Inputs, out: m.Outputs, ridge: m.Ridge,
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
	Register(Plugin{Kind: "wiener", Doc: "Wiener filter (ridge regression on lagged bins, penalty chosen by validation)", Load: loadWiener,
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
