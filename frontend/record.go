package frontend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// RecordOptions configure Record. Validate checks them.
type RecordOptions struct {
	// Source names the neural stream (see Open): a live stream, the
	// simulator, or a file, continuous ones through the signal chain.
	Source string
	// Targets names the behaviour that labels the bins (see
	// acquire.OpenTargets); empty keeps the source's own targets.
	Targets string
	// Out is the recording (.bcr) to write.
	Out string
	// Duration bounds the recording of a live stream (0: until the stream
	// ends or ctx does; either way what was recorded is kept).
	Duration time.Duration
	Open     OpenOptions
}

// Validate reports options Record cannot follow.
func (o *RecordOptions) Validate() error {
	switch {
	case o.Source == "":
		return errors.New("record: no source")
	case o.Out == "":
		return errors.New("record: no output file")
	case o.Duration < 0:
		return fmt.Errorf("record: duration %v is negative", o.Duration)
	}
	return nil
}

// RecordResult is what Record wrote.
type RecordResult struct {
	Path     string   `json:"path"`
	Bins     int      `json:"bins"`
	Channels int      `json:"channels"`
	BinMS    float64  `json:"bin_ms"`
	Targets  []string `json:"targets"`
	// Skipped counts the bins before the first behaviour sample.
	Skipped uint64 `json:"bins_skipped"`
	// Source is the stream's report (an LSL inlet's counters, say), and
	// Behaviour the behaviour stream's, when it keeps one.
	Source    any `json:"source,omitempty"`
	Behaviour any `json:"behaviour,omitempty"`
}

// Record captures a calibration block: the bins of a stream, through the
// same signal chain as live decoding, each labelled with the behaviour
// measured during it (aligned by time), written as a recording that
// training reads. A live stream records until Duration or ctx ends and
// keeps what it has; a file records to its end, and a stop on the way
// leaves no file.
func Record(ctx context.Context, o RecordOptions) (RecordResult, error) {
	if err := o.Validate(); err != nil {
		return RecordResult{}, err
	}
	s, err := Open(ctx, o.Source, o.Open)
	if err != nil {
		return RecordResult{}, err
	}
	defer s.Close()
	var bins acquire.BinSource = s
	var labelled *acquire.Labelled
	var behaviour acquire.TargetSource
	if o.Targets != "" {
		t, err := acquire.OpenTargets(ctx, o.Targets, o.Open.Source)
		if err != nil {
			return RecordResult{}, fmt.Errorf("record: behaviour %s: %w", o.Targets, err)
		}
		defer t.Close()
		behaviour = t.Samples
		if labelled, err = acquire.WithTargets(s, t.Samples); err != nil {
			return RecordResult{}, fmt.Errorf("record: behaviour %s: %w", o.Targets, err)
		}
		bins = labelled
	}
	shape := bins.Shape()
	if len(shape.Targets) == 0 {
		return RecordResult{}, fmt.Errorf("record: %s carries no behaviour: name a behaviour stream or table for the targets", o.Source)
	}
	if s.Realtime {
		stop, cancel := ctx, context.CancelFunc(func() {})
		if o.Duration > 0 {
			stop, cancel = context.WithTimeout(ctx, o.Duration)
		}
		defer cancel()
		bins, ctx = &untilStopped{bins, stop}, context.WithoutCancel(ctx)
	}
	n, err := acquire.WriteRecording(ctx, o.Out, bins, o.Source)
	res := RecordResult{Path: o.Out, Bins: n, Channels: shape.Channels, BinMS: float64(shape.BinWidth) / 1e6, Targets: shape.Targets}
	if labelled != nil {
		res.Skipped = labelled.Skipped()
	}
	_, res.Source = s.Report()
	if r, ok := behaviour.(interface{ Report() (string, any) }); ok {
		_, res.Behaviour = r.Report()
	}
	if err == nil && n == 0 {
		_ = os.Remove(o.Out)
		err = fmt.Errorf("record: no bins recorded from %s", o.Source)
	}
	return res, err
}

// untilStopped ends a live stream, as if it had ended, when stop does.
type untilStopped struct {
	acquire.BinSource
	stop context.Context
}

func (u *untilStopped) ReadBin(_ context.Context, b *acquire.Bin) error {
	err := u.BinSource.ReadBin(u.stop, b)
	if err != nil && u.stop.Err() != nil {
		return io.EOF
	}
	return err
}
