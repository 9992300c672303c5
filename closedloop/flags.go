package closedloop

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// Flags are a closed-loop command's settings of the block, the simulated
// user and the calibration, as BindFlags registers them.
type Flags struct {
	ModelFile, Pace, Plot string
	Trials                int
	Calibration, Delay    time.Duration
	Hold, Timeout         time.Duration
	ShiftHz, TargetRadius float64
	Shuffle, Recalibrate  bool
	FromLive              bool
	Intention             Intention
}

// BindFlags registers the closed-loop flags on fs; Check checks their
// values once fs is parsed, and Options turns them into settings.
func BindFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	t, u := TaskOptions{}, UserOptions{}
	t.EnsureDefaults()
	u.EnsureDefaults()
	fs.StringVar(&f.ModelFile, "model", "", "model file to steer with (default: calibrate --decoder on a simulated open-loop block)")
	fs.StringVar(&f.Pace, "pace", "fast", "realtime (one bin per bin width) or fast (lock-step, as fast as possible; the same trials)")
	fs.StringVar(&f.Plot, "plot", "", "draw the cursor paths, coloured by outcome, to this PNG")
	fs.IntVar(&f.Trials, "trials", 32, "trials in the block")
	fs.DurationVar(&f.Calibration, "calibration", 5*time.Minute, "length of the open-loop calibration block")
	fs.Float64Var(&f.ShiftHz, "shift", 0, "move every baseline by this sd in Hz between calibration and closed loop, a calibration from another day (0: none)")
	fs.BoolVar(&f.Shuffle, "shuffle", false, "shuffle the calibrated decoder's weights across channels (a control that must fail)")
	fs.DurationVar(&f.Delay, "delay", u.Delay, "the user's visual feedback delay (0: none)")
	fs.Float64Var(&f.TargetRadius, "target-radius", t.TargetRadius, fmt.Sprintf("target radius in cm (centre-out targets are %g cm from the centre)", t.Radius))
	fs.DurationVar(&f.Hold, "hold", t.Hold, "time the cursor must stay in the target")
	fs.DurationVar(&f.Timeout, "timeout", t.Timeout, "trial timeout")
	fs.BoolVar(&f.Recalibrate, "recalibrate", false, "record the block, retrain on it with the inferred intention (ReFIT), and run a second block with the new model")
	fs.BoolVar(&f.FromLive, "from-live", false, "with --recalibrate: fine-tune the calibrated model on the block instead of training a new one (spiking kinds)")
	fs.DurationVar(&f.Intention.Delay, "intention-delay", 0, "with --recalibrate: infer the intention from the cursor this long before each bin (0: ReFIT as published)")
	return f
}

// Check reports flag values that make no block, before anything starts;
// a zero that a default would replace is an error here, unless its flag
// gives it a meaning.
func (f *Flags) Check() error {
	switch {
	case f.Pace != "realtime" && f.Pace != "fast":
		return fmt.Errorf("--pace %q: want realtime or fast", f.Pace)
	case f.Trials < 1 || f.Trials > 1_000_000:
		return fmt.Errorf("--trials %d: want 1 to 1000000", f.Trials)
	case f.Calibration < time.Second || f.Calibration > 24*time.Hour:
		return fmt.Errorf("--calibration %v: want 1s to 24h", f.Calibration)
	case f.Delay < 0 || f.Delay > 10*time.Second:
		return fmt.Errorf("--delay %v: want 0 to 10s", f.Delay)
	case !(f.TargetRadius > 0):
		return fmt.Errorf("--target-radius %v: want more than 0", f.TargetRadius)
	case f.Hold <= 0 || f.Timeout <= 0:
		return fmt.Errorf("--hold %v and --timeout %v: want more than 0", f.Hold, f.Timeout)
	}
	cal, blk := f.Options(acquire.DefaultSimConfig)
	cal.Kind = "kalman" // the kind is checked with the training flags
	cal.EnsureDefaults()
	if err := cal.Validate(); err != nil {
		return err
	}
	if err := blk.Task.Validate(); err != nil {
		return err
	}
	return f.Intention.Validate()
}

// Options returns the calibration and block settings the flags give, for
// the simulated array and reach task sim, whose Seed + 1 seeds the block.
// The decoder kind and training, the block's session settings, model and
// neurons are the caller's to set.
func (f *Flags) Options(sim acquire.SimConfig) (CalibrationOptions, Options) {
	cal := CalibrationOptions{Sim: sim, Duration: f.Calibration, ShiftHz: f.ShiftHz, Shuffle: f.Shuffle}
	delay := f.Delay
	if delay == 0 {
		delay = -1 // none, not the default
	}
	blk := Options{Trials: f.Trials, Realtime: f.Pace == "realtime",
		Task: TaskOptions{Kind: sim.Task, TargetRadius: f.TargetRadius, Hold: f.Hold, Timeout: f.Timeout, Seed: sim.Seed + 1},
		User: UserOptions{Seed: sim.Seed + 1, Delay: delay}}
	blk.Task.EnsureDefaults()
	return cal, blk
}

// Run runs what the flags ask for, a block or a recalibration round
// (sessions <name>-before and <name>-after), and returns the last block
// and the summary to print. calibrated is called once the decoder is
// ready (to end a progress bar).
func (f *Flags) Run(ctx context.Context, cal CalibrationOptions, blk Options, name string, calibrated func()) (*Result, interface{ WriteText(io.Writer) }, error) {
	if f.Recalibrate {
		r, err := Recalibrate(ctx, RecalibrationOptions{Calibration: cal, Block: blk, Name: name, Intention: f.Intention, FromLive: f.FromLive})
		if err != nil {
			return nil, nil, err
		}
		return r.After, r, nil
	}
	c, err := Calibrate(ctx, cal)
	if err != nil {
		return nil, nil, err
	}
	calibrated()
	blk.Session.Model, blk.User.Population = c.Model, c.Population
	res, err := Run(ctx, blk)
	if err != nil {
		return nil, nil, err
	}
	return res, res, nil
}
