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

func runClosedLoop(ctx context.Context, args []string, stdout io.Writer) (err error) {
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
	simCfg, err := sf.For(0, acquire.DefaultSimConfig.BinWidth)
	if err != nil {
		return err
	}
	cal, blk := f.Options(simCfg)
	blk.Session = lf.sessionOptions(blk.Realtime)
	ff.seed = sf.Seed
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
	blk.Session.Conn, blk.Session.Session, blk.Session.Replicas = nc, bf.session, bf.Replicas
	stop := lf.plugins.Serve(ctx, nc)
	defer func() {
		if serr := stop(); err == nil {
			err = serr
		}
	}()
	res, summary, err := f.Run(ctx, cal, blk, bf.session, done)
	if err != nil {
		return err
	}
	if f.Plot != "" {
		if err := res.Plot(f.Plot); err != nil {
			return err
		}
	}
	return writeResult(stdout, *jsonOut, summary)
}
