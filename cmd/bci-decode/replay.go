package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/report"
)

func init() {
	commands["replay"] = command{summary: "re-run a recorded session through the live pipeline (and check it bit for bit)", run: runReplay}
}

type replayResult struct {
	Session   string    `json:"session,omitempty"`
	Bins      uint64    `json:"bins"`
	Intents   int       `json:"intents"`
	Identical *bool     `json:"identical,omitempty"`
	Compared  int       `json:"compared,omitempty"`
	Mismatch  string    `json:"mismatch,omitempty"`
	SpeedX    float64   `json:"speed_x"`
	Seconds   float64   `json:"elapsed_s"`
	Model     string    `json:"model"`
	Swaps     uint64    `json:"swaps"`
	R2        *float64  `json:"r2,omitempty"`
	R2PerDim  []float64 `json:"r2_per_dim,omitempty"`
}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("replay", "replay --session S [--data-dir DIR | --nats URL] [--compare] [flags]")
	var bf busFlags
	bf.register(fs, "", "127.0.0.1:0")
	source := fs.String("source", "", "replay a file instead of a JetStream session: file:PATH (.bcr), needs --model-file")
	modelHash := fs.String("model", "", "decode with this model (hash in the bci-models store) instead of the ones used live")
	modelFile := fs.String("model-file", "", "decode with this model file instead of the ones used live")
	compare := fs.Bool("compare", false, "check that the replayed intents equal the recorded live ones bit for bit (exit 1 if not)")
	from := fs.Duration("from", 0, "start this far into the session")
	to := fs.Duration("to", 0, "stop this far into the session (0: the end)")
	pace := fs.String("pace", "fast", "fast (as fast as possible) or realtime (as recorded)")
	plotPath := fs.String("plot", "", "draw decoded against recorded trajectories to this PNG")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (bf.session == "") == (*source == "") {
		return fmt.Errorf("%w: give exactly one of --session and --source", errUsage)
	}
	if *compare && (*from != 0 || *to != 0 || *modelHash != "" || *modelFile != "" || *source != "") {
		return fmt.Errorf("%w: --compare replays a whole JetStream session with its live models (no --from/--to/--model/--source)", errUsage)
	}
	if *pace != "fast" && *pace != "realtime" {
		return fmt.Errorf("%w: --pace %q: want fast or realtime", errUsage, *pace)
	}
	var job replayJob
	var err error
	if *source != "" {
		job, err = openFileReplay(*source, *modelFile)
	} else {
		nc, closeBus, cerr := bf.connect()
		if cerr != nil {
			return cerr
		}
		defer closeBus()
		js, jerr := jetstream.New(nc)
		if jerr != nil {
			return jerr
		}
		job, err = openSessionReplay(ctx, js, bf.session, replay.Range{From: int64(*from), To: int64(*to)}, *modelHash, *modelFile)
	}
	if err != nil {
		return err
	}
	defer job.close()
	src := job.src
	if *pace == "realtime" {
		src = replay.Paced(src)
	}
	log.Info().Str("model", job.model.Hash).Int("live_models", len(job.liveModels())).Msg("replaying")
	res, err := replay.Run(ctx, src, job.channels, job.model, replay.Options{Output: job.output, Follow: job.follow, Models: job.models})
	if err != nil {
		return err
	}
	out := replayResult{Session: bf.session, Bins: res.Stats.Bins, Intents: len(res.Intents), Seconds: res.Elapsed.Seconds(), Model: job.model.Hash, Swaps: res.Stats.Swaps}
	if res.Elapsed > 0 {
		out.SpeedX = float64(res.Stats.Bins) * float64(job.binWidth) / float64(res.Elapsed)
	}
	if sc := scoreReplay(job.model.Info.Targets, job.targets, res); sc != nil && sc.Defined() {
		m := sc.MeanR2()
		out.R2, out.R2PerDim = &m, sc.R2
	}
	if *compare {
		d := replay.Compare(job.live, res.Intents)
		out.Identical, out.Compared, out.Mismatch = &d.Identical, d.Compared, d.Mismatch
	}
	if *plotPath != "" {
		if err := plotReplay(*plotPath, job, res); err != nil {
			return err
		}
	}
	if *jsonOut {
		if err := writeJSONLine(stdout, out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "replayed %d bins into %d intents in %.2fs (%.0fx real time), %d model swaps followed\n", out.Bins, out.Intents, out.Seconds, out.SpeedX, out.Swaps)
		if out.R2 != nil {
			fmt.Fprintf(stdout, "R² against recorded targets %.3f (per dimension %.3f)\n", *out.R2, out.R2PerDim)
		}
		if out.Identical != nil {
			if *out.Identical {
				fmt.Fprintf(stdout, "identical: all %d intents match the live run bit for bit\n", out.Compared)
			} else {
				fmt.Fprintf(stdout, "NOT identical: %s\n", out.Mismatch)
			}
		}
	}
	if out.Identical != nil && !*out.Identical {
		return fmt.Errorf("replay differs from the live run: %s", out.Mismatch)
	}
	return nil
}

// replayJob is everything a replay needs, from a session or a file.
type replayJob struct {
	src      pipeline.BinReader
	channels int
	binWidth int64
	targets  []string
	model    *decoder.Loaded
	output   decoder.OutputOptions
	follow   map[uint64]string
	models   func(context.Context, string) (*decoder.Loaded, error)
	live     []decoder.Intent
	close    func()
}

func (j *replayJob) liveModels() map[string]bool {
	out := map[string]bool{}
	for _, h := range j.follow {
		out[h] = true
	}
	return out
}

func openSessionReplay(ctx context.Context, js jetstream.JetStream, session string, rng replay.Range, hash, file string) (replayJob, error) {
	src, err := replay.Open(ctx, js, session, rng)
	if err != nil {
		return replayJob{}, err
	}
	info := src.Info()
	job := replayJob{src: src, channels: info.Channels, binWidth: info.BinWidth, targets: info.Targets, output: info.Output, close: src.Close}
	fail := func(err error) (replayJob, error) { src.Close(); return replayJob{}, err }
	if src.Bins() == 0 {
		return fail(fmt.Errorf("session %q has no recorded bins", session))
	}
	models, err := bus.OpenModels(ctx, js, 1)
	if err != nil {
		return fail(err)
	}
	job.models = models.Get
	if job.live, err = replay.RecordedIntents(ctx, js, session); err != nil {
		return fail(err)
	}
	switch {
	case file != "":
		job.model, err = decoder.Load(file)
	case hash != "":
		job.model, err = models.Get(ctx, hash)
	case len(job.live) == 0:
		err = fmt.Errorf("session %q recorded no intents, so its model is unknown: give --model or --model-file", session)
	default:
		job.follow = map[uint64]string{}
		for _, in := range job.live {
			job.follow[in.Seq] = in.Model
		}
		job.model, err = models.Get(ctx, job.live[0].Model)
	}
	if err != nil {
		return fail(err)
	}
	return job, nil
}

func openFileReplay(source, modelFile string) (replayJob, error) {
	spec, err := parseSource(source)
	if err != nil || spec.sim {
		return replayJob{}, fmt.Errorf("%w: --source must be file:PATH", errUsage)
	}
	if modelFile == "" {
		return replayJob{}, fmt.Errorf("%w: replaying a file needs --model-file", errUsage)
	}
	model, err := decoder.Load(modelFile)
	if err != nil {
		return replayJob{}, err
	}
	src, err := openSource(context.Background(), spec, simFlags{}, 0, false, fileFlags{rebin: 1, sig: defaultSignalFlags()})
	if err != nil {
		return replayJob{}, err
	}
	return replayJob{src: src.reader, channels: src.channels, binWidth: src.binWidth, targets: src.targets, model: model, close: func() { _ = src.close() }}, nil
}

// scoreReplay scores replayed intents against the recorded targets named
// like the model's outputs.
func scoreReplay(outputs, targets []string, res *replay.Result) *eval.Regression {
	sc := newScorer(outputs, targets)
	if sc == nil {
		return nil
	}
	for i := range res.Intents {
		if res.Intents[i].Status != decoder.StatusOK || len(res.Targets[i]) == 0 {
			continue
		}
		for k, j := range sc.idx {
			sc.truth[k] = res.Targets[i][j]
		}
		sc.acc.Add(res.Intents[i].Values, sc.truth)
	}
	r := sc.acc.Result()
	return &r
}

func plotReplay(path string, job replayJob, res *replay.Result) error {
	sc := newScorer(job.model.Info.Targets, job.targets)
	if sc == nil {
		return fmt.Errorf("plot: the recording has no targets named %v", job.model.Info.Targets)
	}
	n := min(len(res.Intents), int(30*time.Second/time.Duration(job.binWidth))) // the first 30 s stay readable
	t := make([]float64, n)
	truth, pred := make([][]float32, n), make([][]float32, n)
	for i := range n {
		t[i] = float64(i) * float64(job.binWidth) / 1e9
		pred[i] = res.Intents[i].Values
		truth[i] = make([]float32, len(sc.idx))
		for k, j := range sc.idx {
			truth[i][k] = res.Targets[i][j]
		}
	}
	return report.Trajectories(path, "replay", t, truth, pred, job.model.Info.Targets)
}
