// Package compare trains every decoder kind on the same split of the same
// data and measures each on the held-out part: accuracy (R² and Pearson r
// per target, from package eval), speed (step latency), and cost (footprint,
// effective synaptic operations, activation sparsity and energy, counted as
// NeuroBench counts them). The eval command, tests and benchmarks compare
// decoders through it, so every table is made the same way.
package compare

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat"

	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/snn"
)

// Options configures Run.
type Options struct {
	// Kinds are the decoder kinds to compare, in table order.
	Kinds []string
	// Fit configures training (seed, epochs, progress, families'
	// settings).
	Fit decoder.FitOptions
	// OnRow, when set, is told of each row as soon as it is measured.
	OnRow func(Row)
	// ClosedLoop, when set, also runs each trained decoder in closed loop
	// (a simulated user steering a cursor through it) and returns its
	// figures by name; they go in the row, and in the table as the
	// columns ClosedLoopColumns names, in that order.
	ClosedLoop        func(ctx context.Context, kind string, d decoder.Decoder) (map[string]float64, error)
	ClosedLoopColumns []string
	// Seeds is the number of training seeds per kind (default 1): kind k
	// is trained from Fit.Seed, Fit.Seed+1, ..., because one network's
	// score says little of a kind when seeds differ by as much as kinds
	// do. Scores are then means over seeds, with their spread.
	Seeds int
}

// Row is one decoder's line of the comparison.
type Row struct {
	Name     string    `json:"name"`
	R2       float64   `json:"r2"`
	R2PerDim []float64 `json:"r2_per_dim"`
	R        float64   `json:"r"`
	RPerDim  []float64 `json:"r_per_dim"`
	decoder.Cost
	EnergyNJ      float64 `json:"energy_nj_per_step"`
	DenseEnergyNJ float64 `json:"dense_ann_energy_nj_per_step"`
	StepP50US     float64 `json:"step_p50_us"`
	StepP99US     float64 `json:"step_p99_us"`
	TrainSeconds  float64 `json:"train_s"`
	// Spiking networks: training epochs run, the best validation R², which
	// validation split was used, and the spread of the learned neuron
	// parameters of the first layer.
	Epochs       int                   `json:"epochs,omitempty"`
	ValR2        float64               `json:"val_r2,omitempty"`
	ValSplit     string                `json:"val_split,omitempty"`
	NeuronParams map[string]snn.Spread `json:"neuron_params,omitempty"`
	// Details holds what the kind itself reports of its fit (a Wiener
	// filter's chosen history, say).
	Details map[string]any `json:"details,omitempty"`
	// ClosedLoop holds the decoder's closed-loop figures (Options.ClosedLoop);
	// over several seeds, their means, with ClosedLoopSD their standard
	// deviations.
	ClosedLoop   map[string]float64 `json:"closed_loop,omitempty"`
	ClosedLoopSD map[string]float64 `json:"closed_loop_sd,omitempty"`
	// With several seeds (Options.Seeds), R2Seeds holds each seed's R²;
	// R2, R, their per-target values, TrainSeconds and the closed-loop
	// figures are means over seeds and R2SD is the standard deviation of
	// R² (0 with one seed). R2SeedAverage scores the seeds' predictions
	// averaged, as an ensemble of those networks would decode. The other
	// figures (cost, step latency, what the fit chose) are the first
	// seed's. Kinds whose fit ignores the seed (decoder.SeedFree: Kalman,
	// Wiener) are fitted once, with the same R² at every seed.
	R2Seeds       []float64 `json:"r2_seeds,omitempty"`
	R2SD          float64   `json:"r2_sd"`
	R2SeedAverage float64   `json:"r2_seed_average,omitempty"`
}

// Result is a whole comparison.
type Result struct {
	Source    string   `json:"source"`
	Split     string   `json:"split"`
	TrainBins int      `json:"train_bins"`
	TestBins  int      `json:"test_bins"`
	Targets   []string `json:"targets"`
	Rows      []Row    `json:"decoders"`
	// Predictions holds each decoder's outputs on the test set, by name.
	Predictions map[string][][]float32 `json:"-"`
	// ClosedLoopColumns orders the rows' closed-loop figures in the table.
	ClosedLoopColumns []string `json:"-"`
	// Verdict says whether the best decoder's lead over the next is more
	// than their seed spread (see Options.Seeds).
	Verdict string `json:"verdict,omitempty"`
}

// Run trains each kind on train and measures it on test.
func Run(ctx context.Context, train, test *dataset.Set, opts Options) (*Result, error) {
	if train.Len() == 0 || test.Len() == 0 {
		return nil, fmt.Errorf("compare: %d training and %d test bins", train.Len(), test.Len())
	}
	for _, k := range opts.Kinds {
		if err := decoder.CheckTrainable(k); err != nil {
			return nil, err
		}
	}
	res := &Result{TrainBins: train.Len(), TestBins: test.Len(), Targets: test.TargetNames, Predictions: map[string][][]float32{}}
	if opts.ClosedLoop != nil {
		res.ClosedLoopColumns = opts.ClosedLoopColumns
	}
	for _, kind := range opts.Kinds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row, pred, err := measureSeeds(ctx, kind, train, test, opts)
		if err != nil {
			return nil, err
		}
		res.Rows = append(res.Rows, row)
		res.Predictions[kind] = pred
		if opts.OnRow != nil {
			opts.OnRow(row)
		}
	}
	res.Verdict = verdict(res.Rows)
	return res, nil
}

// measureSeeds trains kind from each seed and pools the rows; the
// predictions returned are the first seed's. A kind whose fit ignores the
// seed is fitted once and scores the same at every seed.
func measureSeeds(ctx context.Context, kind string, train, test *dataset.Set, opts Options) (Row, [][]float32, error) {
	if n := max(opts.Seeds, 1); n > 1 && decoder.SeedFree(kind) {
		row, pred, err := measure(ctx, kind, train, test, opts)
		row.R2Seeds, row.R2SeedAverage = slices.Repeat([]float64{row.R2}, n), row.R2
		return row, pred, err
	}
	var rows []Row
	var first, sum [][]float32
	for i := range max(opts.Seeds, 1) {
		o := opts
		o.Fit.Seed += uint64(i)
		row, pred, err := measure(ctx, kind, train, test, o)
		if err != nil {
			return Row{}, nil, err
		}
		if i == 0 {
			first = pred
		}
		rows = append(rows, row)
		sum = addPredictions(sum, pred)
	}
	row := pool(rows)
	if len(rows) > 1 {
		for _, p := range sum {
			for k := range p {
				p[k] /= float32(len(rows))
			}
		}
		row.R2SeedAverage = finite(eval.Score(sum, test.Y).MeanR2())
	}
	return row, first, nil
}

// addPredictions adds pred into sum, allocating sum on first use.
func addPredictions(sum, pred [][]float32) [][]float32 {
	if sum == nil {
		sum = make([][]float32, len(pred))
		for i := range pred {
			sum[i] = make([]float32, len(pred[i]))
		}
	}
	for i, p := range pred {
		for k, v := range p {
			sum[i][k] += v
		}
	}
	return sum
}

// pool is the first seed's row with its scores replaced by their means
// over rows (see Row.R2Seeds).
func pool(rows []Row) Row {
	r := rows[0]
	if len(rows) == 1 {
		return r
	}
	n := float64(len(rows))
	r.R2Seeds = make([]float64, len(rows))
	r.R, r.TrainSeconds = 0, 0
	r.R2PerDim, r.RPerDim = make([]float64, len(r.R2PerDim)), make([]float64, len(r.RPerDim))
	closedLoop := map[string][]float64{}
	for i, x := range rows {
		r.R2Seeds[i] = x.R2
		r.R += x.R / n
		r.TrainSeconds += x.TrainSeconds / n
		for k := range r.R2PerDim {
			r.R2PerDim[k] += x.R2PerDim[k] / n
			r.RPerDim[k] += x.RPerDim[k] / n
		}
		for k, v := range x.ClosedLoop {
			closedLoop[k] = append(closedLoop[k], v)
		}
	}
	r.R2, r.R2SD = stat.MeanStdDev(r.R2Seeds, nil)
	r.ClosedLoop, r.ClosedLoopSD = nil, nil
	for k, v := range closedLoop {
		if r.ClosedLoop == nil {
			r.ClosedLoop, r.ClosedLoopSD = map[string]float64{}, map[string]float64{}
		}
		r.ClosedLoop[k], r.ClosedLoopSD[k] = stat.MeanStdDev(v, nil)
	}
	return r
}

// verdict compares the two best rows by R². A lead larger than the seed
// spread (the larger standard deviation of the two) tells them apart; a
// smaller one may still be real when it exceeds twice the standard error of
// the paired per-seed differences (seed i of one kind against seed i of
// the other), which shrinks as seeds are added while the spread does not.
func verdict(rows []Row) string {
	if len(rows) < 2 {
		return ""
	}
	ranked := slices.Clone(rows)
	slices.SortStableFunc(ranked, func(a, b Row) int { return cmp.Compare(b.R2, a.R2) })
	best, next := ranked[0], ranked[1]
	lead := best.R2 - next.R2
	head := fmt.Sprintf("%s leads %s by %.3f R²", best.Name, next.Name, lead)
	if best.R2Seeds == nil || len(best.R2Seeds) != len(next.R2Seeds) {
		return head + ", from one training seed each: how far seeds differ was not measured (--seeds)"
	}
	n := len(best.R2Seeds)
	spread := math.Max(best.R2SD, next.R2SD)
	diff := make([]float64, n)
	for i := range diff {
		diff[i] = best.R2Seeds[i] - next.R2Seeds[i]
	}
	_, sd := stat.MeanStdDev(diff, nil)
	se := stat.StdErr(sd, float64(n))
	switch {
	case lead > spread:
		return fmt.Sprintf("%s, more than the spread over %d seeds (%.3f): told apart", head, n, spread)
	case lead > 0 && se == 0:
		return fmt.Sprintf("%s, within the spread over %d seeds (%.3f) but by the same at every seed: a small lead, likely real", head, n, spread)
	case lead > 2*se:
		return fmt.Sprintf("%s, within the spread over %d seeds (%.3f) but %.1f standard errors of the paired difference (%.3f): a small lead, likely real", head, n, spread, lead/se, se)
	}
	return fmt.Sprintf("%s, within the spread over %d seeds (%.3f) and within 2 standard errors of the paired difference (%.3f): the two are not told apart", head, n, spread, se)
}

// measure trains one kind and scores it.
func measure(ctx context.Context, kind string, train, test *dataset.Set, opts Options) (Row, [][]float32, error) {
	start := time.Now()
	dec, err := decoder.Fit(ctx, kind, train, opts.Fit)
	if err != nil {
		return Row{}, nil, err
	}
	row := Row{Name: kind, TrainSeconds: time.Since(start).Seconds()}
	c, costs := dec.(decoder.Coster)
	if costs {
		c.ResetCost()
	}
	hist := hdrhistogram.New(1, int64(time.Second), 3)
	pred := decoder.PredictTimed(dec, test, func(d time.Duration) { _ = hist.RecordValue(max(d.Nanoseconds(), 1)) })
	sc := eval.Score(pred, test.Y)
	row.R2, row.R2PerDim, row.R, row.RPerDim = finite(sc.MeanR2()), finiteAll(sc.R2), finite(sc.MeanR()), finiteAll(sc.R)
	row.StepP50US = float64(hist.ValueAtQuantile(50)) / 1e3
	row.StepP99US = float64(hist.ValueAtQuantile(99)) / 1e3
	if costs {
		row.Cost = c.Cost()
		row.EnergyNJ, row.DenseEnergyNJ = row.Cost.EnergyNJ(), row.Cost.DenseEnergyNJ()
	}
	if r, ok := dec.(interface{ FitDetails() map[string]any }); ok {
		row.Details = r.FitDetails()
	}
	if s, ok := dec.(*decoder.SNN); ok {
		describeSNN(&row, s)
	}
	if opts.ClosedLoop != nil {
		if row.ClosedLoop, err = opts.ClosedLoop(ctx, kind, dec); err != nil {
			return Row{}, nil, err
		}
	}
	return row, pred, nil
}

// describeSNN adds what a spiking network reports of its training.
func describeSNN(row *Row, s *decoder.SNN) {
	if t := s.Training(); t != nil {
		row.Epochs, row.ValSplit = t.Epochs, string(t.ValSplit)
		if t.ValR2 != nil {
			row.ValR2 = finite(*t.ValR2)
		}
	}
	row.NeuronParams = map[string]snn.Spread{}
	for p := range snn.NumParams {
		row.NeuronParams[snn.ParamNames[p]] = s.Model().Spread(0, p)
	}
}

// finiteAll applies finite to every element.
func finiteAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = finite(x)
	}
	return out
}

// finite replaces NaN and infinities by 0 so a summary always encodes.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
