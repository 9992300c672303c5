package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/placement"
)

func init() {
	commands["worker"] = command{summary: "decode the cluster's declared sessions, sharing them with other workers (failover)", run: runWorker}
	commands["sessions"] = command{summary: "list declared sessions with their decoder process, rate and latency; 'sessions add' declares one", run: runSessions}
}

func runWorker(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("worker", "worker --id ID [--nats URL | embedded cluster flags]")
	var bf busFlags
	bf.register(fs, "placement", bus.DefaultListen)
	id := fs.String("id", processID(), "process id, unique in the cluster")
	ttl := fs.Duration("lease-ttl", time.Second, "how long a session's lease outlives its holder (the takeover bound)")
	plugins := pipeline.BindFlags(fs)
	if err := parse(ctx, fs, args, 0, bf.check, func() error {
		o := placement.WorkerOptions{ID: *id, LeaseTTL: *ttl, Replicas: bf.Replicas}
		return o.Validate()
	}); err != nil {
		return err
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	w, err := placement.NewWorker(ctx, nc, placement.WorkerOptions{ID: *id, LeaseTTL: *ttl, Replicas: bf.Replicas, Outputs: plugins.Outputs(), Log: log.Logger})
	if err != nil {
		return err
	}
	log.Info().Str("worker", *id).Msg("sharing the cluster's sessions; interrupt to stop and hand them over")
	stop := plugins.Serve(ctx, nc)
	err = w.Run(ctx)
	if serr := stop(); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "worker %s stopped; its sessions were released\n", *id)
	return nil
}

func runSessions(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "add" {
		return runSessionsAdd(ctx, args[1:], stdout)
	}
	fs := newFlags("sessions", "sessions [--nats URL] [--json]")
	var cf clientFlags
	cf.register(fs)
	wait := fs.Duration("wait", 1500*time.Millisecond, "how long to listen for status messages (rates, latency; 0: list without them)")
	jsonOut := fs.Bool("json", false, "print the listing as one JSON object on the last line")
	if err := parse(ctx, fs, args, 0, cf.check, func() error {
		if *wait < 0 || *wait > time.Minute {
			return fmt.Errorf("--wait %v: want 0 to 1m", *wait)
		}
		return nil
	}); err != nil {
		return err
	}
	nc, err := bus.Connect(cf.url, bus.ConnectOptions{Name: "bci-decode sessions", Auth: cf.auth.Auth})
	if err != nil {
		return err
	}
	defer nc.Close()
	l, err := placement.List(ctx, nc, *wait)
	if err != nil {
		return err
	}
	if *jsonOut {
		return writeJSONLine(stdout, l)
	}
	return l.WriteTable(stdout)
}

func runSessionsAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("sessions add", "sessions add --session S (--model HASH | --model-file F) [--nats URL] [flags]")
	var cf clientFlags
	cf.register(fs)
	var sf simFlags
	sf.register(fs)
	bin := fs.Duration("bin", acquire.DefaultSimConfig.BinWidth, "bin width")
	hash := fs.String("model", "", "content hash of a model in the bci-models store")
	file := fs.String("model-file", "", "model file to store and use")
	replicas := fs.Int("replicas", 1, "replicas of the session's recording (3 on a 3-node cluster)")
	every := fs.Int("snapshot-every", 50, "checkpoint the decoder state every this many bins")
	if err := parse(ctx, fs, args, 0, cf.check, sf.check, func() error {
		switch {
		case (*hash == "") == (*file == ""):
			return errors.New("give exactly one of --model and --model-file")
		case *replicas < 1 || *replicas > 5 || *every < 1 || *every > 1e6:
			return fmt.Errorf("--replicas %d (1-5), --snapshot-every %d (1-1e6)", *replicas, *every)
		}
		_, err := sf.For(0, *bin)
		return err
	}); err != nil {
		return err
	}
	nc, err := bus.Connect(cf.url, bus.ConnectOptions{Name: "bci-decode sessions add", Auth: cf.auth.Auth})
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg, _ := sf.For(0, *bin) // checked above
	spec, err := placement.Declare(ctx, nc, placement.Declaration{Session: cf.session, Model: *hash, ModelFile: *file,
		Sim: cfg, Replicas: *replicas, SnapshotEvery: *every})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "session %s declared (simulated %d-channel array, %v bins, model %.12s); a worker will take it\n", spec.Session, spec.Channels, *bin, spec.Model)
	return nil
}
