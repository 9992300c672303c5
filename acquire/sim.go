package acquire

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// Task selects the behaviour that drives the simulated population.
type Task string

// Simulated tasks.
const (
	// TaskCentreOut reaches from the centre to one of 8 targets on a circle
	// and back, with bell-shaped (minimum-jerk) velocity profiles.
	TaskCentreOut Task = "centre-out"
	// TaskRandomTarget reaches continuously from wherever the hand is to a
	// new random point in the workspace.
	TaskRandomTarget Task = "random-target"
)

// SimConfig configures the binned simulator. Zero fields take the defaults
// of DefaultSimConfig, filled in one place by EnsureDefaults.
type SimConfig struct {
	// Seed makes the population, the task and the spikes reproducible.
	Seed uint64
	// Channels is the number of simulated neurons (one per channel).
	Channels int
	// BinWidth is the time one bin spans.
	BinWidth time.Duration
	// Task is the reach task.
	Task Task
	// Bins limits the stream length; 0 means unbounded.
	Bins int
	// StartTime is the Start of bin 0 (ns); live streams use time.Now().
	StartTime int64
	// Radius is the target distance from the centre (cm).
	Radius float64
	// BaselineHz and ModulationHz bound the per-neuron baseline rate and
	// the modulation depth at peak speed (drawn uniformly in [lo, hi]).
	BaselineHz, ModulationHz [2]float64
	// PeakSpeed is the hand speed (cm/s) at which modulation is full.
	PeakSpeed float64
	// DriftHz is the standard deviation of the baseline random walk per
	// minute; 0 disables drift.
	DriftHz float64
	// PopulationSeed, when non-zero, draws the tuning of the population
	// from it instead of Seed, so two streams (calibration and live) can
	// share neurons while their trials and spikes differ.
	PopulationSeed uint64
}

func init() {
	RegisterScheme("sim", func(_ context.Context, arg string, p *Params) (Opened, error) {
		if arg != "" {
			return Opened{}, fmt.Errorf("the simulator takes its settings from flags, not %q", arg)
		}
		s, err := NewSimulator(p.Sim)
		if err != nil {
			return Opened{}, err
		}
		return Opened{Bins: s, Rebase: true, Close: func() error { return nil }}, nil
	})
}

// DefaultSimConfig is the simulator's default setting.
var DefaultSimConfig = SimConfig{
	Seed:         1,
	Channels:     96,
	BinWidth:     20 * time.Millisecond,
	Task:         TaskCentreOut,
	Radius:       10,
	BaselineHz:   [2]float64{5, 25},
	ModulationHz: [2]float64{5, 30},
	PeakSpeed:    30,
}

// EnsureDefaults fills the zero fields of c with DefaultSimConfig's.
func (c *SimConfig) EnsureDefaults() {
	d := DefaultSimConfig
	if c.Seed == 0 {
		c.Seed = d.Seed
	}
	if c.Channels == 0 {
		c.Channels = d.Channels
	}
	if c.BinWidth == 0 {
		c.BinWidth = d.BinWidth
	}
	if c.Task == "" {
		c.Task = d.Task
	}
	if c.Radius == 0 {
		c.Radius = d.Radius
	}
	if c.BaselineHz == [2]float64{} {
		c.BaselineHz = d.BaselineHz
	}
	if c.ModulationHz == [2]float64{} {
		c.ModulationHz = d.ModulationHz
	}
	if c.PeakSpeed == 0 {
		c.PeakSpeed = d.PeakSpeed
	}
	if c.PopulationSeed == 0 {
		c.PopulationSeed = c.Seed
	}
}

// SimTargetNames are the targets every simulated bin carries, in order.
var SimTargetNames = []string{"vel_x", "vel_y", "pos_x", "pos_y"}

// Simulator is a population of cosine-tuned motor-cortex-like neurons
// driven by a simulated reach task: the Population fires for the hand
// velocity of each bin. It emits binned spike counts with the true hand
// velocity and position as targets, and is deterministic for its seed.
type Simulator struct {
	cfg   SimConfig
	rng   *rand.Rand
	pop   *Population
	reach reachTask
	seq   uint64
	dt    float64 // bin width, s
}

// Validate reports settings that mean nothing. It checks the values as
// they are: a zero that EnsureDefaults would fill is an error here.
func (c *SimConfig) Validate() error {
	switch {
	case c.Channels < 1 || c.Channels > 1<<16:
		return fmt.Errorf("simulator: %d channels (want 1-65536)", c.Channels)
	case c.BinWidth < 100*time.Microsecond || c.BinWidth > time.Minute:
		return fmt.Errorf("simulator: bin width %v (want 0.1 ms to 1 min)", c.BinWidth)
	case c.Bins < 0:
		return fmt.Errorf("simulator: %d bins", c.Bins)
	case c.Task != TaskCentreOut && c.Task != TaskRandomTarget:
		return fmt.Errorf("simulator: unknown task %q (want %q or %q)", c.Task, TaskCentreOut, TaskRandomTarget)
	case !(c.DriftHz >= 0 && c.DriftHz <= 1000):
		return fmt.Errorf("simulator: drift %v Hz per sqrt(minute) (want 0-1000)", c.DriftHz)
	}
	return nil
}

// NewSimulator builds a simulator; it reports an error for invalid settings.
func NewSimulator(cfg SimConfig) (*Simulator, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pop, err := NewPopulation(cfg)
	if err != nil {
		return nil, err
	}
	s := &Simulator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x7370696b)),
		pop: pop,
		dt:  cfg.BinWidth.Seconds(),
	}
	s.reach = newReachTask(cfg, rand.New(rand.NewPCG(cfg.Seed, 0x7461736b)))
	return s, nil
}

// Shape implements BinSource.
func (s *Simulator) Shape() Shape {
	return Shape{Channels: s.cfg.Channels, BinWidth: s.cfg.BinWidth, ChannelNames: s.pop.ChannelNames(), Targets: SimTargetNames}
}

// Population is the simulator's neurons, in the state the stream has left
// them (their baselines drift): a closed-loop user continues with them
// after a calibration block.
func (s *Simulator) Population() *Population { return s.pop }

// Config returns the simulator's settings with defaults filled in.
func (s *Simulator) Config() SimConfig { return s.cfg }

// ReadBin implements BinSource: it advances the task by one bin and draws
// each neuron's spike count. It does not allocate once b's slices have
// grown to size.
func (s *Simulator) ReadBin(ctx context.Context, b *Bin) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.cfg.Bins > 0 && s.seq >= uint64(s.cfg.Bins) {
		return io.EOF
	}
	vx, vy, px, py, trial := s.reach.step(s.dt)
	b.Seq = s.seq
	b.Start = s.cfg.StartTime + int64(s.seq)*int64(s.cfg.BinWidth)
	b.End = b.Start + int64(s.cfg.BinWidth)
	b.Trial = trial
	b.Features = resize(b.Features, s.cfg.Channels)
	b.Target = resize(b.Target, len(SimTargetNames))
	b.Target[0], b.Target[1], b.Target[2], b.Target[3] = float32(vx), float32(vy), float32(px), float32(py)
	s.pop.Fire(s.rng, vx, vy, b.Features)
	s.seq++
	return nil
}

func resize(p []float32, n int) []float32 {
	if cap(p) < n {
		return make([]float32, n)
	}
	return p[:n]
}

// poisson draws a Poisson variate with mean lambda: Knuth's product method
// for small means, a rounded normal approximation for large ones.
func poisson(r *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		k := math.Round(lambda + math.Sqrt(lambda)*r.NormFloat64())
		return int(math.Max(k, 0))
	}
	l := math.Exp(-lambda)
	k, p := 0, r.Float64()
	for p > l {
		k++
		p *= r.Float64()
	}
	return k
}

// Skip advances the simulator past n bins without returning them, so a
// stream can resume at a given seq with the same bins it would have had.
func (s *Simulator) Skip(n uint64) error {
	var b Bin
	for range n {
		if err := s.ReadBin(context.Background(), &b); err != nil {
			return err
		}
	}
	return nil
}

// Bind registers the simulator's flags on fs (its bin width is the
// source's, bound elsewhere).
func (c *SimConfig) Bind(fs *flag.FlagSet) {
	d := DefaultSimConfig
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the task and spikes")
	fs.Uint64Var(&c.PopulationSeed, "population-seed", 1, "seed of the neurons' tuning (keep it to decode the same array)")
	fs.IntVar(&c.Channels, "channels", d.Channels, "number of simulated neurons")
	fs.StringVar((*string)(&c.Task), "task", string(d.Task), "reach task: centre-out or random-target")
	fs.Float64Var(&c.DriftHz, "drift", 0, "random-walk drift of baseline rates (Hz per sqrt(minute); 0: none)")
}

// For returns the settings for d of stream in bins of width bin (d 0:
// unbounded), checked.
func (c SimConfig) For(d, bin time.Duration) (SimConfig, error) {
	c.BinWidth = bin
	c.Bins = 0
	if d > 0 && bin > 0 {
		c.Bins = int(d / bin)
	}
	return c, c.Validate()
}
