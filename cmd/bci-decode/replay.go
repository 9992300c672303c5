package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/replay"
)

func init() {
	commands["replay"] = command{summary: "re-run a recorded session through the live pipeline (and check it bit for bit)", run: runReplay}
}

// replayFlags are replay's own flags.
type replayFlags struct {
	bf                   busFlags
	source               string
	modelHash, modelFile string
	compare, jsonOut     bool
	from, to             time.Duration
	pace, plot           string
}

func (f *replayFlags) register(fs *flag.FlagSet) {
	f.bf.register(fs, "", "127.0.0.1:0")
	f.bf.Existing = true
	fs.StringVar(&f.source, "source", "", "replay a file instead of a JetStream session: file:PATH, needs --model-file")
	fs.StringVar(&f.modelHash, "model", "", "decode with this model (hash in the bci-models store) instead of the ones used live")
	fs.StringVar(&f.modelFile, "model-file", "", "decode with this model file instead of the ones used live")
	fs.BoolVar(&f.compare, "compare", false, "check that the replayed intents equal the recorded live ones bit for bit (exit 1 if not)")
	fs.DurationVar(&f.from, "from", 0, "start this far into the session (0: the start)")
	fs.DurationVar(&f.to, "to", 0, "stop this far into the session (0: the end)")
	fs.StringVar(&f.pace, "pace", "fast", "fast (as fast as possible) or realtime (as recorded)")
	fs.StringVar(&f.plot, "plot", "", "draw decoded against recorded trajectories to this PNG")
	fs.BoolVar(&f.jsonOut, "json", false, "print the summary as one JSON object on the last line")
}

func (f *replayFlags) check() error {
	switch {
	case (f.bf.session == "") == (f.source == ""):
		return usageError(errors.New("give exactly one of --session and --source"))
	case f.compare && (f.from != 0 || f.to != 0 || f.modelHash != "" || f.modelFile != "" || f.source != ""):
		return usageError(errors.New("--compare replays a whole JetStream session with its live models (no --from/--to/--model/--source)"))
	case f.pace != "fast" && f.pace != "realtime":
		return usageError(fmt.Errorf("--pace %q: want fast or realtime", f.pace))
	case f.from < 0 || f.to < 0 || f.to != 0 && f.to <= f.from || f.from > maxSession || f.to > maxSession:
		return usageError(fmt.Errorf("--from %v --to %v: want 0 <= from < to <= %v (to 0: the end)", f.from, f.to, maxSession))
	case f.source != "" && f.modelFile == "":
		return usageError(errors.New("replaying a file needs --model-file"))
	}
	return nil
}

func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("replay", "replay --session S [--data-dir DIR | --nats URL] [--compare] [flags]")
	var f replayFlags
	f.register(fs)
	if err := parse(ctx, fs, args, 0, f.bf.check, f.check); err != nil {
		return err
	}
	job, closeJob, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer closeJob()
	log.Info().Str("model", job.Model.Hash).Int("live_models", job.LiveModels()).Msg("replaying")
	res, err := job.Run(ctx, f.pace == "realtime")
	if err != nil {
		if res != nil && ctx.Err() != nil {
			// Interrupted: say what was replayed; part of a run is not
			// compared with the whole live run.
			out := job.Summarise(res, false)
			out.Session = f.bf.session
			return errors.Join(writeResult(stdout, f.jsonOut, out), err)
		}
		return err
	}
	out := job.Summarise(res, f.compare)
	out.Session = f.bf.session
	if f.plot != "" {
		if err := job.Plot(f.plot, res); err != nil {
			return err
		}
	}
	if err := writeResult(stdout, f.jsonOut, out); err != nil {
		return err
	}
	if out.Identical != nil && !*out.Identical {
		return fmt.Errorf("replay differs from the live run: %s", out.Mismatch)
	}
	return nil
}

// open prepares the replay of a session or a file.
func (f *replayFlags) open(ctx context.Context) (*replay.Job, func(), error) {
	var model *decoder.Loaded
	if f.modelFile != "" {
		var err error
		if model, err = decoder.Load(f.modelFile); err != nil {
			return nil, nil, err
		}
	}
	if f.source != "" {
		src, err := frontend.Open(ctx, f.source, frontend.OpenOptions{Pace: frontend.PaceFast})
		if err != nil {
			return nil, nil, err
		}
		job := replay.NewJob(src, model, src.Close)
		return job, func() { _ = job.Close() }, nil
	}
	js, closeBus, err := f.bf.jetStream()
	if err != nil {
		return nil, nil, err
	}
	if f.modelHash != "" {
		if model, err = modelFromStore(ctx, js, f.modelHash); err != nil {
			closeBus()
			return nil, nil, err
		}
	}
	job, err := replay.OpenSession(ctx, js, f.bf.session, replay.Range{From: int64(f.from), To: int64(f.to)}, model)
	if err != nil {
		closeBus()
		return nil, nil, err
	}
	return job, func() { _ = job.Close(); closeBus() }, nil
}
