package closedloop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// Phase is where a trial stands after a bin, as the cursor state reports
// it.
type Phase string

// Trial phases. A trial is reaching until the cursor enters the target,
// holding while it stays inside, and ends in success once it has held for
// the hold time, or in timeout.
const (
	PhaseReaching Phase = "reaching"
	PhaseHolding  Phase = "holding"
	PhaseSuccess  Phase = "success"
	PhaseTimeout  Phase = "timeout"
)

// ended reports whether the phase ends its trial.
func (p Phase) ended() bool { return p == PhaseSuccess || p == PhaseTimeout }

// TaskOptions configures the cursor task. Zero fields take the defaults of
// EnsureDefaults.
type TaskOptions struct {
	// Kind is the task: centre-out-and-back (trials alternate between one
	// of 8 targets on a circle, in shuffled blocks of 8, and the centre)
	// or random targets in the workspace. Names as the simulator's reach
	// tasks, so a decoder is calibrated on reaches like those it steers.
	Kind acquire.Task
	// Radius is the distance of the centre-out targets from the centre,
	// and the half-width of the square random targets are drawn in (cm;
	// default 10, the simulator's reach distance).
	Radius float64
	// TargetRadius is the radius of the acceptance window (cm; default 2).
	TargetRadius float64
	// Hold is how long the cursor must stay in the target (default 500 ms).
	Hold time.Duration
	// Timeout ends a trial that has not succeeded (default 10 s).
	Timeout time.Duration
	// Workspace is the half-width of the square the cursor is confined to,
	// as a screen confines it (cm; default 1.5 Radius).
	Workspace float64
	// Seed orders the targets.
	Seed uint64
}

// EnsureDefaults fills the zero fields of o.
func (o *TaskOptions) EnsureDefaults() {
	if o.Kind == "" {
		o.Kind = acquire.TaskCentreOut
	}
	if o.Radius == 0 {
		o.Radius = 10
	}
	if o.TargetRadius == 0 {
		o.TargetRadius = 2
	}
	if o.Hold == 0 {
		o.Hold = 500 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Workspace == 0 {
		o.Workspace = 1.5 * o.Radius
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
}

// Validate reports settings that make no task.
func (o *TaskOptions) Validate() error {
	switch {
	case o.Kind != acquire.TaskCentreOut && o.Kind != acquire.TaskRandomTarget:
		return fmt.Errorf("closed-loop task %q: want %q or %q", o.Kind, acquire.TaskCentreOut, acquire.TaskRandomTarget)
	case !(o.Radius > 0 && o.Radius <= 1000):
		return fmt.Errorf("closed-loop task: radius %v cm (want more than 0, at most 1000)", o.Radius)
	case !(o.TargetRadius > 0 && o.TargetRadius < o.Radius):
		return fmt.Errorf("closed-loop task: target radius %v cm (want more than 0, less than the radius %v)", o.TargetRadius, o.Radius)
	case o.Hold < 0 || o.Hold > time.Minute:
		return fmt.Errorf("closed-loop task: hold %v (want 0 to 1 min)", o.Hold)
	case o.Timeout <= o.Hold || o.Timeout > time.Hour:
		return fmt.Errorf("closed-loop task: timeout %v (want longer than the hold %v, at most 1 h)", o.Timeout, o.Hold)
	case !(o.Workspace >= o.Radius+o.TargetRadius && o.Workspace <= 1e4):
		return fmt.Errorf("closed-loop task: workspace half-width %v cm (want at least radius + target radius, %v)", o.Workspace, o.Radius+o.TargetRadius)
	}
	return nil
}

// task is the trial logic of the cursor task, stepped once per bin with
// the cursor position: it decides when a trial succeeds or times out and
// records it. The controller runs it online; tests drive it with hand-made
// trajectories.
type task struct {
	opts   TaskOptions
	dt     time.Duration
	rng    *rand.Rand
	order  []int // outer targets of the current block of 8
	out    bool  // centre-out: the current trial goes out
	cur    Trial
	inside int // bin of the current entry into the target; -1 outside
	done   []Trial
}

func newTask(o TaskOptions, binWidth time.Duration, start [2]float64) *task {
	t := &task{opts: o, dt: binWidth, rng: rand.New(rand.NewPCG(o.Seed, 0x7461726774)), cur: Trial{Index: -1}}
	t.begin(start)
	return t
}

// begin starts the next trial with the cursor at start.
func (t *task) begin(start [2]float64) {
	t.cur = Trial{Index: t.cur.Index + 1, Target: t.nextTarget(start), Radius: t.opts.TargetRadius, Start: start,
		BinWidth: t.dt, FirstEntry: -1, FinalEntry: -1, Path: make([][2]float64, 0, 128)}
	t.inside = -1
}

func (t *task) nextTarget(from [2]float64) [2]float64 {
	r := t.opts.Radius
	if t.opts.Kind == acquire.TaskCentreOut {
		t.out = !t.out
		if !t.out {
			return [2]float64{}
		}
		if len(t.order) == 0 {
			t.order = t.rng.Perm(8)
		}
		k := t.order[0]
		t.order = t.order[1:]
		th := float64(k) * math.Pi / 4
		return [2]float64{r * math.Cos(th), r * math.Sin(th)}
	}
	minDist := math.Max(0.3*r, 2*t.opts.TargetRadius)
	var p [2]float64
	for range 1000 { // far from the cursor; a draw is accepted with probability > 1/2
		p = [2]float64{(2*t.rng.Float64() - 1) * r, (2*t.rng.Float64() - 1) * r}
		if math.Hypot(p[0]-from[0], p[1]-from[1]) >= minDist {
			break
		}
	}
	return p
}

// clamp confines a position to the workspace.
func (t *task) clamp(p [2]float64) [2]float64 {
	w := t.opts.Workspace
	return [2]float64{min(max(p[0], -w), w), min(max(p[1], -w), w)}
}

// step records the cursor position at the end of a bin of the current
// trial and returns the trial's phase and index. After a trial ends, the
// next step starts a new one from the position it ended at.
func (t *task) step(pos [2]float64) (Phase, int) {
	c := &t.cur
	k := len(c.Path)
	c.Path = append(c.Path, pos)
	if math.Hypot(pos[0]-c.Target[0], pos[1]-c.Target[1]) <= c.Radius {
		if t.inside < 0 {
			t.inside = k
			if c.FirstEntry < 0 {
				c.FirstEntry = k
			}
		}
	} else {
		t.inside = -1
	}
	phase := PhaseReaching
	switch {
	case t.inside >= 0 && time.Duration(k-t.inside)*t.dt >= t.opts.Hold:
		phase, c.FinalEntry = PhaseSuccess, t.inside
	case time.Duration(k+1)*t.dt >= t.opts.Timeout:
		phase = PhaseTimeout
	case t.inside >= 0:
		phase = PhaseHolding
	}
	idx := c.Index
	if phase.ended() {
		c.Outcome = phase
		t.done = append(t.done, *c)
		t.begin(pos)
	}
	return phase, idx
}

// target is the current trial's target and acceptance radius.
func (t *task) target() ([2]float64, float64) { return t.cur.Target, t.cur.Radius }
