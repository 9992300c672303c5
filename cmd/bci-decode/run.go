package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/signal"
)

func init() {
	commands["run"] = command{summary: "decode a source with a saved model and publish intents on NATS", run: runRun}
}

// sourceSpec is a parsed --source flag.
type sourceSpec struct {
	sim  bool
	nats bool // raw frames published live on bci.<session>.raw
	path string
}

func parseSource(s string) (sourceSpec, error) {
	switch {
	case s == "sim":
		return sourceSpec{sim: true}, nil
	case s == "nats":
		return sourceSpec{nats: true}, nil
	case strings.HasPrefix(s, "file:") && len(s) > len("file:"):
		return sourceSpec{path: strings.TrimPrefix(s, "file:")}, nil
	}
	return sourceSpec{}, fmt.Errorf("%w: --source %q: want sim, nats or file:PATH", errUsage, s)
}

// openedSource is a bin stream ready for the pipeline.
type openedSource struct {
	reader   pipeline.BinReader
	channels int
	binWidth int64
	targets  []string
	close    func() error
	// raw taps the raw frames of continuous sources (nil for binned ones).
	raw interface{ Tap(func(*acquire.Frame)) }
}

// fileFlags describe recorded files beyond what their headers say.
type fileFlags struct {
	ingest      *ingest // set for --source nats
	format      string
	rebin       int
	rawChannels int
	rawRate     float64
	rawGain     float64
	sig         signalFlags
}

func (f *fileFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.format, "format", "", "format of file sources: bcr, csv (binned tables), raw (int16 .dat/.bin), edf or bdf (default: from the extension)")
	fs.IntVar(&f.rebin, "rebin", 1, "merge this many source bins into one (tables)")
	fs.IntVar(&f.rawChannels, "raw-channels", 0, "channels of a raw int16 file (default: from a SpikeGLX .meta sidecar)")
	fs.Float64Var(&f.rawRate, "raw-rate", 0, "sampling rate of a raw int16 file in Hz (default: from a SpikeGLX .meta sidecar)")
	fs.Float64Var(&f.rawGain, "raw-gain", 0, "µV per bit of a raw int16 file (default: from the sidecar, else 0.195)")
	f.sig.register(fs)
}

// formatOf returns the file format from --format or the extension.
func (f *fileFlags) formatOf(path string) string {
	if f.format != "" {
		return strings.ToLower(f.format)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".dat", ".bin":
		return "raw"
	case ".edf":
		return "edf"
	case ".bdf":
		return "bdf"
	default:
		return strings.TrimPrefix(ext, ".")
	}
}

// openSource opens the --source stream. Simulated and paced streams run in
// real time; others as fast as possible. Continuous recordings go through
// the signal chain (filters, threshold crossings, bins).
func openSource(ctx context.Context, spec sourceSpec, sf simFlags, dur time.Duration, realtime bool, ff fileFlags) (openedSource, error) {
	if spec.nats {
		return openIngest(ctx, ff)
	}
	if !spec.sim {
		switch ff.formatOf(spec.path) {
		case "raw", "edf", "bdf":
			return openContinuous(ctx, spec.path, realtime, ff)
		}
	}
	var src acquire.BinnedSource
	closer := func() error { return nil }
	if spec.sim {
		sim, err := acquire.NewSimulator(sf.config(dur))
		if err != nil {
			return openedSource{}, fmt.Errorf("%w: %v", errUsage, err)
		}
		src = sim
	} else {
		open, ok := binnedOpeners["."+ff.formatOf(spec.path)]
		if !ok {
			return openedSource{}, fmt.Errorf("%w: %s: unknown format %q (bcr, csv, raw, edf, bdf)", errUsage, spec.path, ff.formatOf(spec.path))
		}
		s, c, err := open(spec.path, ff.rebin)
		if err != nil {
			return openedSource{}, err
		}
		src, closer = s, c.Close
	}
	if realtime {
		src = acquire.PacedBinned(ctx, src, spec.sim)
	}
	info := src.BinnedInfo()
	return openedSource{reader: encoder.NewBinnedReader(src), channels: info.Channels, binWidth: info.BinWidth, targets: info.TargetNames, close: closer}, nil
}

// openContinuous opens a raw or EDF/BDF recording through the signal chain.
func openContinuous(ctx context.Context, path string, realtime bool, ff fileFlags) (openedSource, error) {
	opts, err := ff.sig.options()
	if err != nil {
		return openedSource{}, err
	}
	var src interface {
		acquire.Source
		Close() error
	}
	switch ff.formatOf(path) {
	case "raw":
		src, err = acquire.OpenRaw(path, acquire.RawOptions{Channels: ff.rawChannels, Rate: ff.rawRate, GainUV: ff.rawGain})
	default:
		src, err = acquire.OpenEDF(path, acquire.EDFOptions{})
	}
	if err != nil {
		return openedSource{}, err
	}
	r, err := signal.Reader(src, opts)
	if err != nil {
		src.Close()
		return openedSource{}, err
	}
	var reader pipeline.BinReader = r
	if realtime {
		reader = replay.Paced(r)
	}
	return openedSource{reader: reader, channels: r.Encoder().Features(), binWidth: r.Encoder().BinWidth(), close: src.Close, raw: r}, nil
}

func runRun(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("run", "run --model MODEL.bcim [--source sim|file:PATH] [flags]")
	var bf busFlags
	bf.register(fs, "live", bus.DefaultListen)
	var sf simFlags
	sf.register(fs)
	var lf liveFlags
	lf.register(fs)
	modelPath := fs.String("model", "", "model file written by train (required)")
	source := fs.String("source", "sim", "input: sim (simulated array, real time), nats (raw frames published live on bci.<session>.raw) or file:PATH (binned "+binnedFormats()+"; continuous .dat/.bin, .edf, .bdf through the signal chain)")
	dur := fs.Duration("duration", 30*time.Second, "length of a simulated stream (0: until interrupted)")
	pace := fs.String("pace", "", "realtime or fast (default: realtime for sim, fast for files)")
	var ff fileFlags
	ff.register(fs)
	limit := fs.Float64("limit", 0, "clamp every published value to ±limit (0: no clamp)")
	integrate := fs.Bool("integrate", false, "publish integrated velocity as position intents")
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("%w: --model is required", errUsage)
	}
	spec, err := parseSource(*source)
	if err != nil {
		return err
	}
	realtime := spec.sim
	switch *pace {
	case "":
	case "realtime":
		realtime = true
	case "fast":
		realtime = false
	default:
		return fmt.Errorf("%w: --pace %q: want realtime or fast", errUsage, *pace)
	}
	if spec.sim {
		sf.seed++ // a different stretch of behaviour than the default recording, same neurons
	}
	model, err := decoder.Load(*modelPath)
	if err != nil {
		return err
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	if spec.nats {
		if *pace == "fast" {
			return fmt.Errorf("%w: --source nats is live; it cannot be paced fast", errUsage)
		}
		realtime = true
		ff.ingest = &ingest{nc: nc, session: bf.session}
	}
	src, err := openSource(ctx, spec, sf, *dur, realtime, ff)
	if err != nil {
		return err
	}
	defer src.close()
	if lf.recordRaw && (!lf.record || src.raw == nil) {
		return fmt.Errorf("%w: --record-raw needs --record and a continuous source (raw, EDF or BDF file)", errUsage)
	}
	if src.channels != model.Inputs() {
		return fmt.Errorf("%s expects %d channels per bin, source %s delivers %d: %w", *modelPath, model.Inputs(), *source, src.channels, decoder.ErrShape)
	}
	if w := model.Info.BinWidthNS; w != 0 && w != src.binWidth {
		return fmt.Errorf("%s was trained on %v bins, source %s delivers %v bins: %w", *modelPath, time.Duration(w), *source, time.Duration(src.binWidth), decoder.ErrShape)
	}
	res, err := (&stream{
		src: src.reader, channels: src.channels, targets: src.targets, model: model, nc: nc, session: bf.session,
		lossless: !realtime, output: decoder.OutputOptions{Limit: float32(*limit), Integrate: *integrate}, binWidth: src.binWidth,
		record: lf.record, overwrite: lf.overwrite, control: lf.control, replicas: bf.replicas, watchdog: lf.watchdog(realtime),
		raw: rawTap(lf.recordRaw, src.raw),
	}).run(ctx)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		log.Info().Msg("interrupted; summary of what was decoded")
	}
	if *jsonOut {
		return writeJSONLine(stdout, res)
	}
	res.print(stdout)
	return nil
}

// rawTap returns the source's raw-frame tap when raw recording is asked for.
func rawTap(record bool, tap interface{ Tap(func(*acquire.Frame)) }) interface{ Tap(func(*acquire.Frame)) } {
	if !record || tap == nil {
		return nil
	}
	return tap
}

// ingest is where --source nats reads raw frames.
type ingest struct {
	nc      *nats.Conn
	session string
}

// ingestWait bounds the wait for a bridge's first frame.
const ingestWait = 10 * time.Second

// openIngest reads raw frames published live on bci.<session>.raw through
// the signal chain. When the session is recorded the stream captures those
// frames itself, so they need no tap.
func openIngest(ctx context.Context, ff fileFlags) (openedSource, error) {
	opts, err := ff.sig.options()
	if err != nil {
		return openedSource{}, err
	}
	src, err := bus.NewRawSource(ctx, ff.ingest.nc, ff.ingest.session, 0, ingestWait)
	if err != nil {
		return openedSource{}, err
	}
	r, err := signal.Reader(src, opts)
	if err != nil {
		src.Close()
		return openedSource{}, err
	}
	return openedSource{reader: r, channels: r.Encoder().Features(), binWidth: r.Encoder().BinWidth(), close: src.Close}, nil
}
