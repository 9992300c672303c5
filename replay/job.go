package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/pipeline"
)

// Job is a replay ready to run: the recorded bins, the model to start from,
// the run's settings (the live output options, the live swaps to follow)
// and the live intents to compare with.
type Job struct {
	Source pipeline.BinReader
	Model  *decoder.Loaded
	Opts   Options
	// Live holds the intents the live run published (nil for files).
	Live  []decoder.Intent
	close func() error
}

// OpenSession prepares the replay of a recorded session over rng. With a
// nil model, it decodes with the models the live run used, following its
// swaps; otherwise with model throughout.
func OpenSession(ctx context.Context, js jetstream.JetStream, session string, rng Range, model *decoder.Loaded) (*Job, error) {
	src, err := Open(ctx, js, session, rng)
	if err != nil {
		return nil, err
	}
	job := &Job{Source: src, Model: model, Opts: Options{Output: src.Info().Output}, close: func() error { src.Close(); return nil }}
	if err := job.fill(ctx, js, session, src.Bins()); err != nil {
		src.Close()
		return nil, err
	}
	return job, nil
}

func (j *Job) fill(ctx context.Context, js jetstream.JetStream, session string, bins uint64) error {
	if bins == 0 {
		return fmt.Errorf("session %q has no recorded bins", session)
	}
	models, err := bus.OpenModels(ctx, js, 1)
	if err != nil {
		return err
	}
	j.Opts.Models = models.Get
	if j.Live, err = RecordedIntents(ctx, js, session); err != nil {
		return err
	}
	if j.Model != nil {
		return nil
	}
	if len(j.Live) == 0 {
		return fmt.Errorf("session %q recorded no intents, so its model is unknown: give a model", session)
	}
	j.Opts.Follow = map[uint64]string{}
	for _, in := range j.Live {
		j.Opts.Follow[in.Seq] = in.Model
	}
	j.Model, err = models.Get(ctx, j.Live[0].Model)
	return err
}

// NewJob prepares the replay of any bin source (a recorded file, say) with
// one model.
func NewJob(src pipeline.BinReader, model *decoder.Loaded, closer func() error) *Job {
	return &Job{Source: src, Model: model, close: closer}
}

// Run replays the job, as fast as possible or, with realtime, at the pace
// it was recorded.
func (j *Job) Run(ctx context.Context, realtime bool) (*Result, error) {
	var src pipeline.BinReader = j.Source
	if realtime {
		src = acquire.Paced(src, false)
	}
	return Run(ctx, src, j.Model, j.Opts)
}

// LiveModels is the number of models the live run used.
func (j *Job) LiveModels() int {
	seen := map[string]bool{}
	for _, h := range j.Opts.Follow {
		seen[h] = true
	}
	return len(seen)
}

// Close releases the source.
func (j *Job) Close() error { return j.close() }

// Speed is how many times faster than real time the replay ran.
func (r *Result) Speed(binWidth time.Duration) float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Stats.Bins) * float64(binWidth) / float64(r.Elapsed)
}

// Score scores the replayed ok intents against the recorded targets named
// like the model's outputs; ok is false when the recording lacks them.
func (r *Result) Score(outputs, targets []string) (eval.Regression, bool) {
	idx, ok := acquire.Shape{Targets: targets}.TargetIndex(outputs)
	if !ok {
		return eval.Regression{}, false
	}
	a := eval.NewAccumulator(len(idx))
	truth := make([]float32, len(idx))
	for i := range r.Intents {
		if r.Intents[i].Status != decoder.StatusOK || len(r.Targets[i]) == 0 {
			continue
		}
		for k, j := range idx {
			truth[k] = r.Targets[i][j]
		}
		a.Add(r.Intents[i].Values, truth)
	}
	return a.Result(), true
}
