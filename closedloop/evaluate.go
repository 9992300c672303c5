package closedloop

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
)

// Columns are the closed-loop figures Evaluator.Measure returns, in the
// order a comparison table shows them.
var Columns = []string{"success_rate", "acquisition_time_s", "path_efficiency", "dial_in_s", "throughput_bps"}

// EvaluatorOptions configures an Evaluator.
type EvaluatorOptions struct {
	// Sim describes the simulated array the decoders were trained on: the
	// blocks drive the same neurons (its PopulationSeed, Channels,
	// BinWidth, rates), and its Seed + 1 seeds the task and the user.
	Sim acquire.SimConfig
	// Block configures each block (its Session, Conn, Model, User
	// population and seeds are set by the evaluator).
	Block Options
	Log   zerolog.Logger
}

// Evaluator runs one closed-loop block for each decoder it is given, on
// an embedded NATS server of its own, all with the same neurons, task and
// seeds, so a comparison can set closed-loop figures beside offline ones.
// It is used by one goroutine.
type Evaluator struct {
	opts  EvaluatorOptions
	nc    *nats.Conn
	close func()
	dir   string
	n     int
}

// NewEvaluator starts the evaluator's server; Close stops it.
func NewEvaluator(o EvaluatorOptions) (*Evaluator, error) {
	o.Sim.EnsureDefaults()
	if err := o.Sim.Validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bci-closedloop-")
	if err != nil {
		return nil, fmt.Errorf("closed-loop evaluator: %w", err)
	}
	nc, closeBus, err := bus.Dial(bus.Endpoint{Server: bus.ServerOptions{Listen: "127.0.0.1:0", DataDir: dir}, Name: "bci-decode closed-loop evaluator", Log: o.Log})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("closed-loop evaluator: %w", err)
	}
	return &Evaluator{opts: o, nc: nc, close: closeBus, dir: dir}, nil
}

// Measure runs a block with d (trained on the simulated array's velocity)
// and returns its figures by the names in Columns.
func (e *Evaluator) Measure(ctx context.Context, kind string, d decoder.Decoder) (map[string]float64, error) {
	info := decoder.ModelInfo{Targets: []string{"vel_x", "vel_y"}, BinWidthNS: int64(e.opts.Sim.BinWidth)}
	_, hash, err := decoder.Encode(d, info)
	if err != nil {
		return nil, fmt.Errorf("closed loop %s: %w", kind, err)
	}
	pop, err := acquire.NewPopulation(e.opts.Sim)
	if err != nil {
		return nil, err
	}
	e.n++
	o := e.opts.Block
	o.Session.Session, o.Session.Conn, o.Session.Log = fmt.Sprintf("eval-%d-%s", e.n, kind), e.nc, e.opts.Log
	o.Session.Model = &decoder.Loaded{Decoder: d, Hash: hash, Info: info}
	o.User.Population, o.User.Seed, o.Task.Seed = pop, e.opts.Sim.Seed+1, e.opts.Sim.Seed+1
	res, err := Run(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("closed loop %s: %w", kind, err)
	}
	m := res.Metrics
	return map[string]float64{"success_rate": m.SuccessRate, "acquisition_time_s": m.AcquisitionTime, "path_efficiency": m.PathEfficiency,
		"dial_in_s": m.DialIn, "throughput_bps": m.Throughput}, nil
}

// Close stops the evaluator's server and removes its store.
func (e *Evaluator) Close() error {
	e.close()
	return os.RemoveAll(e.dir)
}
