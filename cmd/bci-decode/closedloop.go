package main

import (
	"context"
	"fmt"
	"io"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/decoder"
)

func init() {
	commands["closedloop"] = command{summary: "a simulated user steers a cursor through the live decoder; success rate, acquisition time, throughput", run: runClosedLoop}
}

func runClosedLoop(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("closedloop", "closedloop [--decoder KIND | --model FILE] [--trials N] [--task centre-out|random-target] [--seed N] [--pace realtime|fast] [flags]")
	var bf busFlags
	bf.register(fs, "closedloop", bus.DefaultListen)
	var sf simFlags
	sf.register(fs)
	var lf liveFlags
	lf.register(fs)
	var ff fitFlags
	fs.StringVar(&ff.kind, "decoder", "kalman", "decoder kind to calibrate: "+fmt.Sprint(decoder.Trainable()))
	ff.registerShared(fs)
	f := closedloop.BindFlags(fs)
	jsonOut := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, bf.check, sf.check, lf.check, ff.check, f.Check); err != nil {
		return err
	}
	simCfg, err := sf.config(0, acquire.DefaultSimConfig.BinWidth)
	if err != nil {
		return err
	}
	cal, blk := f.Options(simCfg)
	blk.Session = lf.sessionOptions(blk.Realtime)
	ff.seed = sf.seed
	fit, done := ff.options(*jsonOut)
	defer done()
	cal.Kind, cal.Fit = ff.kind, fit
	if f.ModelFile != "" {
		if cal.Model, err = decoder.Load(f.ModelFile); err != nil {
			return err
		}
		cal.Kind = cal.Model.Kind()
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	blk.Session.Conn, blk.Session.Session, blk.Session.Replicas = nc, bf.session, bf.replicas
	stop := lf.plugins.Serve(ctx, nc)
	defer func() { _ = stop() }()
	res, summary, err := steer(ctx, f.Recalibrate, cal, blk, bf.session, f.Intention, done)
	if err != nil {
		return err
	}
	if f.Plot != "" {
		if err := res.Plot(f.Plot); err != nil {
			return err
		}
	}
	if *jsonOut {
		return writeJSONLine(stdout, summary)
	}
	summary.WriteText(stdout)
	return nil
}

// steer runs the block, or a recalibration round, and returns the (last)
// block with the summary to print.
func steer(ctx context.Context, recalibrate bool, cal closedloop.CalibrationOptions, blk closedloop.Options, session string,
	in closedloop.Intention, done func()) (*closedloop.Result, interface{ WriteText(io.Writer) }, error) {
	if recalibrate {
		r, err := closedloop.Recalibrate(ctx, closedloop.RecalibrationOptions{Calibration: cal, Block: blk, Name: session, Intention: in})
		if err != nil {
			return nil, nil, err
		}
		return r.After, r, nil
	}
	c, err := closedloop.Calibrate(ctx, cal)
	if err != nil {
		return nil, nil, err
	}
	done()
	blk.Session.Model, blk.User.Population = c.Model, c.Population
	res, err := closedloop.Run(ctx, blk)
	return res, res, err
}
