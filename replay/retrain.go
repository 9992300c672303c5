package replay

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
)

// RetrainOptions configures Retrain.
type RetrainOptions struct {
	// Kind is the decoder kind to train (required).
	Kind string
	// TestFrac is the share of the session, at its end, held out to score
	// the new model against the live one and a Kalman baseline (default
	// 0.2).
	TestFrac float64
	// Fit configures training.
	Fit decoder.FitOptions
	// Read, when set, reads the session's training set instead of
	// ReadSet: bins labelled with something other than their recorded
	// targets (a closed-loop user's inferred intention, say).
	Read func(ctx context.Context, js jetstream.JetStream, session string) (*dataset.Set, error)
	// Labels names what Read labels the bins with, for the new model's
	// provenance.
	Labels string
	// FromLive starts training from the model that was live, when it is of
	// Kind and trains iteratively: the spiking networks are fine-tuned on
	// the session instead of drawn afresh, which a short recorded block
	// (a closed-loop recalibration) needs. Kinds fitted in closed form
	// start afresh.
	FromLive bool
}

// EnsureDefaults fills the zero fields of o.
func (o *RetrainOptions) EnsureDefaults() {
	if o.TestFrac == 0 {
		o.TestFrac = 0.2
	}
}

// Validate reports settings that mean nothing.
func (o *RetrainOptions) Validate() error {
	if !(o.TestFrac > 0 && o.TestFrac < 0.9) {
		return fmt.Errorf("retrain: test fraction %v: want more than 0 and less than 0.9", o.TestFrac)
	}
	return decoder.CheckTrainable(o.Kind)
}

// Retrained is a model trained on a recorded session, scored on the
// session's last bins beside the model that was live and a Kalman filter.
type Retrained struct {
	Session   string    `json:"session"`
	Decoder   string    `json:"decoder"`
	Model     string    `json:"model"`
	TrainBins int       `json:"train_bins"`
	TestBins  int       `json:"test_bins"`
	NewR2     float64   `json:"new_r2"`
	NewR2Dim  []float64 `json:"new_r2_per_dim"`
	LiveModel string    `json:"live_model,omitempty"`
	LiveR2    *float64  `json:"live_r2,omitempty"`
	KalmanR2  float64   `json:"kalman_r2"`
	Seconds   float64   `json:"train_s"`
	// Better says whether the new model beat the live one on the held-out
	// bins (true when there was no live model to compare with).
	Better bool `json:"better"`
	// Loaded is the new model, ready to save or swap in.
	Loaded *decoder.Loaded `json:"-"`
}

// Retrain trains a model on a recorded session's bins and targets and
// stores it in the model bucket. The targets are those the live model
// decoded (velocity when unknown).
func Retrain(ctx context.Context, js jetstream.JetStream, session string, o RetrainOptions) (*Retrained, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	models, err := bus.OpenModels(ctx, js, 1)
	if err != nil {
		return nil, err
	}
	read := o.Read
	if read == nil {
		read = func(ctx context.Context, js jetstream.JetStream, session string) (*dataset.Set, error) {
			set, _, err := ReadSet(ctx, js, session)
			return set, err
		}
	}
	set, err := read(ctx, js, session)
	if err != nil {
		return nil, err
	}
	live := liveModel(ctx, js, models, session)
	targets := []string{"vel_x", "vel_y"}
	if live != nil && len(live.Info.Targets) > 0 {
		targets = live.Info.Targets
	}
	if set, err = set.SelectTargets(targets...); err != nil {
		return nil, err
	}
	train, test := set.SplitByTime(o.TestFrac)
	if train.Len() < 10 || test.Len() < 2 {
		return nil, fmt.Errorf("session %q has %d bins: too few to retrain and test", session, set.Len())
	}
	r, err := fitAndScore(ctx, o, train, test, live)
	if err != nil {
		return nil, err
	}
	r.Session = session
	r.Loaded.Info.TrainedOn = "session " + session
	if o.Labels != "" {
		r.Loaded.Info.TrainedOn += ", labelled with " + o.Labels
	}
	if r.Model, err = storeModel(ctx, models, r.Loaded); err != nil {
		return nil, err
	}
	return r, nil
}

// liveModel is the model the session's last intent names, if the store
// has it.
func liveModel(ctx context.Context, js jetstream.JetStream, models *bus.Models, session string) *decoder.Loaded {
	intents, err := RecordedIntents(ctx, js, session)
	if err != nil || len(intents) == 0 {
		return nil
	}
	m, err := models.Get(ctx, intents[len(intents)-1].Model)
	if err != nil {
		return nil
	}
	return m
}

func fitAndScore(ctx context.Context, o RetrainOptions, train, test *dataset.Set, live *decoder.Loaded) (*Retrained, error) {
	start := time.Now()
	if o.FromLive && live != nil {
		o.Fit.Init = live.Decoder // used only by a kind that trains iteratively from its own kind
	}
	m, err := decoder.Train(ctx, o.Kind, train, o.Fit, decoder.ModelInfo{TrainedAt: time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return nil, err
	}
	r := &Retrained{Decoder: o.Kind, TrainBins: train.Len(), TestBins: test.Len(), Seconds: time.Since(start).Seconds(), Loaded: m, Better: true}
	sc := scoreOn(m, test)
	r.NewR2, r.NewR2Dim = sc.MeanR2(), sc.R2
	m.Info.Metrics = map[string]float64{"holdout_r2": r.NewR2}
	if live != nil {
		lr := scoreOn(live, test).MeanR2()
		r.LiveModel, r.LiveR2, r.Better = live.Hash, &lr, r.NewR2 > lr
	}
	kalman, err := decoder.FitKalman(ctx, train, decoder.KalmanOptions{})
	if err != nil {
		return nil, fmt.Errorf("kalman baseline: %w", err)
	}
	r.KalmanR2 = scoreOn(kalman, test).MeanR2()
	return r, nil
}

// storeModel puts m in the bucket under its (final) content hash.
func storeModel(ctx context.Context, models *bus.Models, m *decoder.Loaded) (string, error) {
	b, hash, err := decoder.Encode(m.Decoder, m.Info)
	if err != nil {
		return "", err
	}
	m.Hash = hash
	return models.Put(ctx, b)
}

func scoreOn(d decoder.Decoder, s *dataset.Set) eval.Regression {
	return eval.Score(decoder.Predict(d, s), s.Y)
}
