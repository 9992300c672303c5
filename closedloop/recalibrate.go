package closedloop

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/replay"
)

// RecalibrationOptions configures one recalibration round: calibrate open
// loop, run a recorded closed-loop block, retrain on it with the inferred
// intention, and run the next block with the new model.
type RecalibrationOptions struct {
	// Calibration is the open-loop block and the decoder kind.
	Calibration CalibrationOptions
	// Block configures both closed-loop blocks (its Session.Conn is
	// required). The study sets the model, the population and the session
	// names, <Name>-before and <Name>-after, which it records (replacing
	// earlier recordings of the same names).
	Block Options
	// Name is the base of the session names (default "recal").
	Name string
	// TestFrac is the share of the recorded block, at its end, retraining
	// holds out to score the new model (default 0.2).
	TestFrac float64
	// Intention says how the user's intention is inferred for retraining.
	Intention Intention
	// FromLive fine-tunes the calibrated model on the block instead of
	// training a new one (replay.RetrainOptions.FromLive). Over five seeds
	// of a stale calibration it paid with the delay-aware intention and
	// not with ReFIT as published (see the README's closed-loop section).
	FromLive bool
}

// EnsureDefaults fills the zero fields of o.
func (o *RecalibrationOptions) EnsureDefaults() {
	if o.Name == "" {
		o.Name = "recal"
	}
	if o.TestFrac == 0 {
		o.TestFrac = 0.2
	}
	o.Calibration.EnsureDefaults()
}

// Validate reports settings that make no round.
func (o *RecalibrationOptions) Validate() error {
	if o.Block.Session.Conn == nil {
		return errors.New("recalibration: a connection is required")
	}
	if err := bus.ValidateSession(o.Name + "-before"); err != nil {
		return fmt.Errorf("recalibration: %w", err)
	}
	if err := o.Intention.Validate(); err != nil {
		return fmt.Errorf("recalibration: %w", err)
	}
	return o.Calibration.Validate()
}

// Recalibration is the outcome of a round: the block before and after,
// and the retrained model's offline report.
type Recalibration struct {
	Before    *Result           `json:"before"`
	After     *Result           `json:"after"`
	Retrained *replay.Retrained `json:"retrained"`
}

// Recalibrate runs one round. Both blocks use the same task and user
// seeds, so they differ only in the decoder and in the neurons' drift
// since the first (which makes the second block harder, not easier).
func Recalibrate(ctx context.Context, o RecalibrationOptions) (*Recalibration, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	cal, err := Calibrate(ctx, o.Calibration)
	if err != nil {
		return nil, err
	}
	blk := o.Block
	blk.Session.Model, blk.User.Population = cal.Model, cal.Population
	blk.Session.Record, blk.Session.Overwrite = true, true
	blk.Session.Session = o.Name + "-before"
	before, err := Run(ctx, blk)
	if err != nil {
		return nil, fmt.Errorf("block before recalibration: %w", err)
	}
	js, err := jetstream.New(blk.Session.Conn)
	if err != nil {
		return nil, err
	}
	rt, err := replay.Retrain(ctx, js, blk.Session.Session, replay.RetrainOptions{Kind: o.Calibration.Kind, TestFrac: o.TestFrac,
		Fit: o.Calibration.Fit, Read: o.Intention.Read, Labels: o.Intention.Labels(), FromLive: o.FromLive})
	if err != nil {
		return nil, fmt.Errorf("recalibrate: %w", err)
	}
	blk.Session.Model = rt.Loaded
	blk.Session.Session = o.Name + "-after"
	after, err := Run(ctx, blk)
	if err != nil {
		return nil, fmt.Errorf("block after recalibration: %w", err)
	}
	return &Recalibration{Before: before, After: after, Retrained: rt}, nil
}

// WriteText prints the round for a person.
func (r *Recalibration) WriteText(w io.Writer) {
	fmt.Fprint(w, "before recalibration: ")
	r.Before.WriteText(w)
	rt := r.Retrained
	fmt.Fprintf(w, "retrained %s on %d bins of session %s (%s): held-out R² %.3f", rt.Decoder, rt.TrainBins, rt.Session, rt.Loaded.Info.TrainedOn, rt.NewR2)
	if rt.LiveR2 != nil {
		fmt.Fprintf(w, " (the model before: %.3f)", *rt.LiveR2)
	}
	fmt.Fprintf(w, "; stored as %.12s in %s\n", rt.Model, bus.ModelBucket)
	fmt.Fprint(w, "after recalibration: ")
	r.After.WriteText(w)
}
