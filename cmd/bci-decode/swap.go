package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
)

func init() {
	commands["swap"] = command{summary: "swap the model of a running session (by hash, or upload a model file)", run: runSwap}
	commands["control"] = command{summary: "pause, resume or describe a running session", run: runControl}
}

// clientFlags reach a running decoder's server.
type clientFlags struct {
	url, session string
	auth         bus.AuthFlags
	timeout      time.Duration
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.url, "nats", "nats://"+bus.DefaultListen, "URL of the server the decoder publishes on")
	c.auth.Bind(fs)
	fs.StringVar(&c.session, "session", "live", "session to control")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for the decoder's reply")
}

// check checks the flags before anything is started.
func (c *clientFlags) check() error {
	if err := bus.ValidateSession(c.session); err != nil {
		return fmt.Errorf("--session: %w", err)
	}
	if c.timeout <= 0 || c.timeout > time.Hour {
		return fmt.Errorf("--timeout %v: want more than 0 and at most 1h", c.timeout)
	}
	if err := c.auth.Check(); err != nil {
		return err
	}
	e := bus.Endpoint{URL: c.url}
	return e.Validate()
}

func runSwap(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("swap", "swap --session S (--model HASH | --model-file FILE) [--nats URL]")
	var cf clientFlags
	cf.register(fs)
	hash := fs.String("model", "", "content hash of a model in the bci-models object store")
	file := fs.String("model-file", "", "model file to upload to the store and swap in")
	if err := parse(ctx, fs, args, 0, cf.check, func() error {
		if (*hash == "") == (*file == "") {
			return errors.New("give exactly one of --model and --model-file")
		}
		return nil
	}); err != nil {
		return err
	}
	nc, err := bus.Connect(cf.url, bus.ConnectOptions{Name: "bci-decode swap", Auth: cf.auth.Auth})
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		models, err := bus.OpenModels(ctx, js, 1)
		if err != nil {
			return err
		}
		if *hash, err = models.Put(ctx, b); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	var info bus.ControlInfo
	if err := bus.Control(ctx, nc, cf.session, bus.VerbSwap, bus.SwapRequest{Model: *hash}, &info); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "session %s now decodes with model %s from its next bin\n", cf.session, info.Model)
	return nil
}

func runControl(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("control", "control --session S pause|resume|info [--nats URL]")
	var cf clientFlags
	cf.register(fs)
	if err := parse(ctx, fs, args, 1, cf.check, func() error {
		if v := fs.Arg(0); v != bus.VerbPause && v != bus.VerbResume && v != bus.VerbInfo {
			return fmt.Errorf("unknown verb %q (pause, resume, info)", v)
		}
		return nil
	}); err != nil {
		return err
	}
	verb := fs.Arg(0)
	nc, err := bus.Connect(cf.url, bus.ConnectOptions{Name: "bci-decode control", Auth: cf.auth.Auth})
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, cf.timeout)
	defer cancel()
	var info bus.ControlInfo
	if err := bus.Control(ctx, nc, cf.session, verb, nil, &info); err != nil {
		return err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}
