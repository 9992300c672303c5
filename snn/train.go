package snn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/bci-decode/bci-decode/eval"
)

// Schedule selects how neuron-level parameters are learned.
type Schedule string

// Training schedules.
const (
	// BiLevel alternates, every iteration, one step on the neuron
	// parameters from a validation batch (then projection into range) and
	// one step on the weights from a training batch: the 2022 reference
	// code's approximation of min_a L_val(w*(a), a).
	BiLevel Schedule = "bilevel"
	// Interval trains everything on the training split with neuron
	// parameters at LRW/100, and every IntervalEvery epochs runs one pass
	// over the validation split updating neuron parameters alone (the 2024
	// code's schedule).
	Interval Schedule = "interval"
	// Joint trains weights and neuron parameters together on the training
	// split (no validation-driven updates); a reference point.
	Joint Schedule = "joint"
)

// TrainOptions configure Train. Zero fields take the defaults noted.
type TrainOptions struct {
	Loss Loss
	// Epochs is the maximum number of passes over the training data
	// (default 30).
	Epochs int
	// SeqLen is the number of scored bins per training sequence (default
	// 50); Burn warm-up bins precede sequences cut from inside a segment
	// (default 10).
	SeqLen, Burn int
	// Batch and ValBatch are the sequences per weight step and per
	// neuron-parameter step. Batch defaults to the number of training
	// sequences over 32 (so an epoch has about 32 iterations), within
	// [4, 16]; ValBatch to half of Batch, at least 4.
	Batch, ValBatch int
	// LRW and LRA are the learning rates of weights and of neuron
	// parameters (defaults 5e-3 for Adam, 0.1 for SGD, and 1e-3). The
	// weight rate ramps up linearly over the first Warmup iterations; the
	// reference's 1e-2 silenced 192 -> 256 networks for good in their first
	// steps at batch 16. The reference's 1e-4 for neuron parameters moves
	// them too little in the few hundred iterations of our runs to matter,
	// so that default is scaled by 10.
	LRW, LRA float64
	// Warmup is the number of iterations over which the weight learning
	// rate ramps up (default 30).
	Warmup int
	// Cosine anneals the weight learning rate after the warm-up along a
	// half cosine, from LRW at the first epoch to LRW/100 at the last.
	Cosine bool
	// WeightDecay shrinks the weights by WeightDecay·lr each step,
	// decoupled from the gradient (AdamW); 0 is off.
	WeightDecay float64
	// Optimizer for the weights (default Adam); neuron parameters always
	// use Adam as in the reference code.
	Optimizer Optimizer
	// Clip bounds the gradient norm of each parameter group (default 1;
	// negative disables).
	Clip float64
	// Laplacian weighs the graph-Laplacian smoothness term on neuron
	// parameters (the reference code uses 0.01; default 0, off).
	Laplacian float64
	// Schedule (default BiLevel) and IntervalEvery (default 20 epochs).
	Schedule      Schedule
	IntervalEvery int
	// Patience stops training after this many epochs without a better
	// validation loss (default 6); the best parameters are kept.
	Patience int
	// Workers splits each batch's gradient over goroutines (default 2).
	// Results are deterministic for a seed and a worker count.
	Workers int
	// Seed drives batch order and sampling.
	Seed uint64
	// Progress, when set, is called after every epoch.
	Progress func(EpochReport)
}

func (o TrainOptions) withDefaults() TrainOptions {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Epochs, 30)
	def(&o.SeqLen, 50)
	def(&o.Burn, 10)
	def(&o.IntervalEvery, 20)
	def(&o.Patience, 6)
	def(&o.Workers, 2)
	def(&o.Warmup, 30)
	if o.LRW == 0 {
		o.LRW = 5e-3
		if o.Optimizer == SGDMomentum {
			o.LRW = 0.1 // gradients are clipped to norm 1
		}
	}
	if o.LRA == 0 {
		o.LRA = 1e-3
	}
	if o.Clip == 0 {
		o.Clip = 1
	}
	if o.Schedule == "" {
		o.Schedule = BiLevel
	}
	if o.Loss.Kind == "" {
		o.Loss.Kind = SmoothL1
	}
	return o
}

// EpochReport describes one finished epoch.
type EpochReport struct {
	Epoch     int           `json:"epoch"`
	Epochs    int           `json:"epochs"`
	TrainLoss float64       `json:"train_loss"`
	ValLoss   float64       `json:"val_loss"`
	ValR2     float64       `json:"val_r2"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// TrainReport summarises a training run.
type TrainReport struct {
	Epochs []EpochReport `json:"epochs"`
	// BestEpoch is the epoch whose parameters training kept; 0 is the
	// starting point, which no epoch improved on.
	BestEpoch  int           `json:"best_epoch"`
	BestValR2  float64       `json:"best_val_r2"`
	Iterations int           `json:"iterations"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	Schedule   Schedule      `json:"schedule"`
}

// trainer holds one run's buffers.
type trainer struct {
	// ctx ends the run; the gradient workers check it before every
	// sequence, so that a stop does not wait for a whole batch.
	ctx  context.Context
	m    *Model
	opts TrainOptions
	ws   []*workspace
	sum  *Model

	train, val         *Data
	trChunks, vaChunks []chunk
	optW, optA         *optimState
	learnsA            bool
	rng                *rand.Rand
	order              []int   // of the training chunks, shuffled each epoch
	batch              []chunk // reused
	rep                *TrainReport
}

// Train fits m to train, using val for the neuron-parameter updates of the
// bi-level schedules and for early stopping. Both sets must already be
// standardised (see Norm). It leaves m at the parameters of the best
// validation epoch.
func Train(ctx context.Context, m *Model, train, val *Data, opts TrainOptions) (*TrainReport, error) {
	tr, err := newTrainer(ctx, m, train, val, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	opts, rep := tr.opts, tr.rep
	start := time.Now()
	// The starting point is the first candidate: a network being
	// fine-tuned keeps its parameters unless training improves on them.
	bestLoss, startR2, err := Evaluate(m, val, opts.Loss)
	if err != nil {
		return rep, err
	}
	if math.IsNaN(bestLoss) {
		bestLoss = math.Inf(1)
	}
	rep.BestEpoch, rep.BestValR2 = 0, startR2
	bestW, bestA := append([]float64(nil), m.W...), append([]float64(nil), m.A...)
	for epoch := 1; epoch <= opts.Epochs; epoch++ {
		trainLoss, err := tr.epoch(epoch)
		if err != nil {
			return rep, err
		}
		vl, vr2, err := Evaluate(m, val, opts.Loss)
		if err != nil {
			return rep, err
		}
		er := EpochReport{Epoch: epoch, Epochs: opts.Epochs, TrainLoss: trainLoss, ValLoss: vl, ValR2: vr2, Elapsed: time.Since(start)}
		rep.Epochs = append(rep.Epochs, er)
		if opts.Progress != nil {
			opts.Progress(er)
		}
		if vl < bestLoss {
			bestLoss, rep.BestEpoch, rep.BestValR2 = vl, epoch, vr2
			copy(bestW, m.W)
			copy(bestA, m.A)
		} else if epoch-rep.BestEpoch >= opts.Patience {
			break
		}
	}
	copy(m.W, bestW)
	copy(m.A, bestA)
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// newTrainer checks the data and options and sets up a run's buffers.
func newTrainer(ctx context.Context, m *Model, train, val *Data, opts TrainOptions) (*trainer, error) {
	if err := train.validate(m.Cfg); err != nil {
		return nil, fmt.Errorf("snn: training data: %w", err)
	}
	if err := val.validate(m.Cfg); err != nil {
		return nil, fmt.Errorf("snn: validation data: %w", err)
	}
	switch opts.Schedule {
	case BiLevel, Interval, Joint:
	default:
		return nil, fmt.Errorf("snn: unknown schedule %q", opts.Schedule)
	}
	tr := &trainer{ctx: ctx, m: m, train: train, val: val,
		trChunks: train.chunks(opts.SeqLen, opts.Burn), vaChunks: val.chunks(opts.SeqLen, opts.Burn)}
	if opts.Batch == 0 {
		opts.Batch = min(max(len(tr.trChunks)/32, 4), 16)
	}
	if opts.ValBatch == 0 {
		opts.ValBatch = max(opts.Batch/2, 4)
	}
	if opts.Epochs < 0 || !(opts.WeightDecay >= 0 && opts.WeightDecay < 1) || opts.SeqLen < 1 || opts.Burn < 0 || opts.Batch < 1 || opts.ValBatch < 1 || opts.Workers < 1 || opts.Workers > 64 {
		return nil, fmt.Errorf("snn: invalid training options %+v", opts)
	}
	tr.opts = opts
	var err error
	if tr.optW, err = newOptim(opts.Optimizer, len(m.W)); err != nil {
		return nil, err
	}
	tr.optA, _ = newOptim(Adam, len(m.A))
	longest := 0
	for _, c := range append(append([]chunk(nil), tr.trChunks...), tr.vaChunks...) {
		longest = max(longest, c.n)
	}
	for range opts.Workers {
		tr.ws = append(tr.ws, m.newWorkspace(longest))
	}
	tr.sum, _ = newEmpty(m.Cfg)
	for _, md := range m.Spec.Modes {
		tr.learnsA = tr.learnsA || md != Fixed
	}
	tr.rng = rand.New(rand.NewPCG(opts.Seed, 0x747261696e))
	tr.rep = &TrainReport{Schedule: opts.Schedule}
	tr.order = make([]int, len(tr.trChunks))
	for i := range tr.order {
		tr.order[i] = i
	}
	tr.batch = make([]chunk, 0, max(opts.Batch, opts.ValBatch))
	return tr, nil
}

// epoch runs one pass over the training chunks, in a new random order, and
// returns the mean training loss of its batches.
func (tr *trainer) epoch(epoch int) (float64, error) {
	opts := tr.opts
	var lap *laplacian
	if opts.Laplacian > 0 && tr.learnsA {
		lap = newLaplacian(tr.m)
	}
	tr.rng.Shuffle(len(tr.order), func(i, j int) { tr.order[i], tr.order[j] = tr.order[j], tr.order[i] })
	trainLoss, nb := 0.0, 0
	for b := 0; b < len(tr.order); b += opts.Batch {
		if err := tr.ctx.Err(); err != nil {
			return 0, err
		}
		trainLoss += tr.iteration(epoch, tr.order[b:min(b+opts.Batch, len(tr.order))], lap)
		nb++
	}
	if opts.Schedule == Interval && tr.learnsA && epoch%opts.IntervalEvery == 0 {
		for b := 0; b < len(tr.vaChunks); b += opts.ValBatch {
			tr.grad(tr.val, tr.vaChunks[b:min(b+opts.ValBatch, len(tr.vaChunks))])
			tr.stepA(tr.optA, opts.LRA, lap)
		}
	}
	return trainLoss / float64(max(nb, 1)), nil
}

// iteration takes one step on the neuron parameters (bi-level: from a
// random validation batch) and one on the weights from the training chunks
// picked, and returns the batch's training loss.
func (tr *trainer) iteration(epoch int, picked []int, lap *laplacian) float64 {
	opts, m := tr.opts, tr.m
	if opts.Schedule == BiLevel && tr.learnsA {
		tr.batch = tr.batch[:0]
		for range opts.ValBatch {
			tr.batch = append(tr.batch, tr.vaChunks[tr.rng.IntN(len(tr.vaChunks))])
		}
		tr.grad(tr.val, tr.batch)
		tr.stepA(tr.optA, opts.LRA, lap)
	}
	tr.batch = tr.batch[:0]
	for _, i := range picked {
		tr.batch = append(tr.batch, tr.trChunks[i])
	}
	loss := tr.grad(tr.train, tr.batch)
	if opts.Schedule != BiLevel && tr.learnsA {
		// Interval and joint schedules: neuron parameters learn from the
		// same training batch at a hundredth of the rate.
		tr.stepA(tr.optA, opts.LRW/100, lap)
	}
	clipNorm(tr.sum.W, opts.Clip)
	lr := opts.LRW * math.Min(1, float64(tr.rep.Iterations+1)/float64(opts.Warmup)) * opts.anneal(epoch)
	if opts.WeightDecay > 0 {
		scal(1-lr*opts.WeightDecay, m.W)
	}
	tr.optW.step(m.W, tr.sum.W, lr)
	tr.rep.Iterations++
	return loss
}

// anneal is the factor of the weight learning rate in epoch (1-based).
func (o TrainOptions) anneal(epoch int) float64 {
	if !o.Cosine || o.Epochs < 2 {
		return 1
	}
	const floor = 0.01
	return floor + (1-floor)*0.5*(1+math.Cos(math.Pi*float64(epoch-1)/float64(o.Epochs-1)))
}

// scal multiplies every element of x by a.
func scal(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

// stepA applies one clipped step on the neuron parameters from the
// gradient in tr.sum, plus the Laplacian term, and projects them back
// into range.
func (tr *trainer) stepA(opt *optimState, lr float64, lap *laplacian) {
	g := tr.sum.A
	if lap != nil {
		lap.addGrad(tr.m, g, tr.opts.Laplacian)
	}
	clipNorm(g, tr.opts.Clip)
	opt.step(tr.m.A, g, lr)
	tr.m.Project()
}

// grad computes the mean loss over the chunks of d and its gradient into
// tr.sum, splitting the chunks over the workers. Each worker handles a
// fixed subset and the partial gradients are summed in worker order, so
// the result does not depend on scheduling.
func (tr *trainer) grad(d *Data, chunks []chunk) float64 {
	m := tr.m
	out := m.Cfg.Outputs
	norm := 0.0
	for _, c := range chunks {
		norm += float64((c.n - c.burn) * out)
	}
	norm = math.Max(norm, 1)
	losses := make([]float64, len(tr.ws))
	var wg sync.WaitGroup
	for w, ws := range tr.ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clear(ws.grad.W)
			clear(ws.grad.A)
			for i := w; i < len(chunks) && tr.ctx.Err() == nil; i += len(tr.ws) {
				c := chunks[i]
				x := d.X[c.start*d.Inputs : (c.start+c.n)*d.Inputs]
				y := d.Y[c.start*out : (c.start+c.n)*out]
				m.forward(ws.tp, x, c.n, false, nil)
				losses[w] += tr.opts.Loss.eval(ws.tp.y, y, c.n, out, c.burn, norm, ws.gy)
				m.backward(ws, x, ws.gy)
			}
		}()
	}
	wg.Wait()
	copy(tr.sum.W, tr.ws[0].grad.W)
	copy(tr.sum.A, tr.ws[0].grad.A)
	total := losses[0]
	for w := 1; w < len(tr.ws); w++ {
		axpy(1, tr.ws[w].grad.W, tr.sum.W)
		axpy(1, tr.ws[w].grad.A, tr.sum.A)
		total += losses[w]
	}
	m.finishGrad(tr.sum)
	return total
}

// Evaluate runs the compiled network over every segment of d from a reset
// state and returns the mean loss and the mean R² over outputs (in
// standardised units, which leaves R² unchanged).
func Evaluate(m *Model, d *Data, loss Loss) (meanLoss, r2 float64, err error) {
	rt, err := m.Compile(Identity(m.Cfg.Inputs, m.Cfg.Outputs))
	if err != nil {
		return 0, 0, err
	}
	n, out := d.Len(), d.Outputs
	pred := make([]float64, n*out)
	in := make([]float32, d.Inputs)
	y := make([]float32, out)
	for _, g := range d.Segments {
		rt.Reset()
		for t := g[0]; t < g[1]; t++ {
			for i := range in {
				in[i] = float32(d.X[t*d.Inputs+i])
			}
			rt.Step(in, y)
			for o, v := range y {
				pred[t*out+o] = float64(v)
			}
		}
	}
	gy := make([]float64, n*out)
	total, count := 0.0, 0
	for _, g := range d.Segments {
		steps := g[1] - g[0]
		total += loss.eval(pred[g[0]*out:g[1]*out], d.Y[g[0]*out:g[1]*out], steps, out, 0, 1, gy[:steps*out])
		count += steps * out
	}
	meanLoss = total / float64(max(count, 1))
	if loss.Kind == CrossEntropy {
		return meanLoss, math.NaN(), nil
	}
	acc := eval.NewAccumulator(out)
	p32, y32 := make([]float32, out), make([]float32, out)
	for _, g := range d.Segments {
		for t := g[0]; t < g[1]; t++ {
			for o := range out {
				p32[o], y32[o] = float32(pred[t*out+o]), float32(d.Y[t*out+o])
			}
			acc.Add(p32, y32)
		}
	}
	res := acc.Result()
	if res.N < n {
		return meanLoss, math.NaN(), nil // a step diverged: no R² to speak of
	}
	return meanLoss, res.MeanDefinedR2(), nil
}
