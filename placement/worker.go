package placement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/pipeline"
)

// WorkerOptions configures a Worker. Zero fields take defaults.
type WorkerOptions struct {
	// ID names the process in leases and intents (required).
	ID string
	// LeaseTTL is how long a lease lives without renewal (default 1 s):
	// the bound on how long a dead process's sessions wait for a new one.
	LeaseTTL time.Duration
	// Replicas of the placement buckets (default 1; 3 on a 3-node cluster).
	Replicas int
	// Outputs and Services are given to every session the worker decodes
	// (output plug-ins and their dependencies).
	Outputs  []pipeline.Factory
	Services []any
	Log      zerolog.Logger
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *WorkerOptions) EnsureDefaults() {
	if o.LeaseTTL == 0 {
		o.LeaseTTL = time.Second
	}
	o.Replicas = max(o.Replicas, 1)
}

// Validate reports settings that mean nothing.
func (o *WorkerOptions) Validate() error {
	switch {
	case o.ID == "":
		return errors.New("placement: a worker needs an id")
	case o.LeaseTTL < 100*time.Millisecond || o.LeaseTTL > time.Hour:
		return fmt.Errorf("placement: lease TTL %v (want 100ms-1h)", o.LeaseTTL)
	case o.Replicas > 5:
		return fmt.Errorf("placement: %d replicas (at most 5)", o.Replicas)
	}
	return nil
}

// Worker is one decoder process's share of the cluster's sessions.
type Worker struct {
	clock   *acquire.Clock // paces every session of the worker
	nc      *nats.Conn
	js      jetstream.JetStream
	b       *Buckets
	opts    WorkerOptions
	mu      sync.Mutex
	running map[string]*owned
	wg      sync.WaitGroup
}

// owned is a session this worker holds the lease of.
type owned struct {
	cancel context.CancelFunc
	done   chan struct{}
	lease  *bus.Lease
}

// NewWorker prepares a worker on nc.
func NewWorker(ctx context.Context, nc *nats.Conn, opts WorkerOptions) (*Worker, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	b, err := OpenBuckets(ctx, js, opts.LeaseTTL, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &Worker{clock: acquire.NewClock(), nc: nc, js: js, b: b, opts: opts, running: map[string]*owned{}}, nil
}

// Sessions lists the sessions this worker decodes now.
func (w *Worker) Sessions() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.running))
	for s := range w.running {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Run takes part in placement until ctx is done, then stops its sessions
// and releases their leases so others take them at once. A process that
// dies without Run returning loses its leases when they expire.
func (w *Worker) Run(ctx context.Context) error {
	tick := time.NewTicker(w.opts.LeaseTTL / 4)
	defer tick.Stop()
	clockCtx, stopClock := context.WithCancel(context.Background())
	clockDone := make(chan struct{})
	go func() { defer close(clockDone); w.clock.Run(clockCtx) }()
	defer func() { stopClock(); <-clockDone }() // after the sessions have stopped
	for {
		w.round(ctx)
		select {
		case <-ctx.Done():
			w.stopAll()
			return nil
		case <-tick.C:
		}
	}
}

// round renews what the worker holds and takes at most one new session.
func (w *Worker) round(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, w.opts.LeaseTTL/2)
	defer cancel()
	load := w.tend(rctx)
	hb, _ := json.Marshal(WorkerLoad{ID: w.opts.ID, Sessions: load})
	if _, err := w.b.Workers.Put(rctx, w.opts.ID, hb); err != nil {
		w.opts.Log.Warn().Err(err).Msg("placement heartbeat failed")
		return
	}
	if !w.leastLoaded(rctx, load) {
		return
	}
	specs, err := w.b.specs(rctx)
	if err != nil {
		return
	}
	for _, s := range specs {
		w.mu.Lock()
		_, mine := w.running[s.Session]
		w.mu.Unlock()
		if mine {
			continue
		}
		lease, err := bus.AcquireLease(rctx, w.b.Leases, s.Session, w.opts.ID, w.opts.LeaseTTL)
		if err != nil {
			continue // held by another process
		}
		w.start(ctx, s, lease)
		return // one new session per round, so loads even out
	}
}

// tend forgets the sessions that ended on their own, stops those whose
// lease was lost, and returns how many the worker decodes.
func (w *Worker) tend(ctx context.Context) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for s, o := range w.running {
		select {
		case <-o.done: // the session ended on its own (error or stop)
			delete(w.running, s)
			_ = o.lease.Release(ctx)
		case <-o.lease.Lost():
			w.opts.Log.Warn().Str("session", s).Msg("lease lost: stopping the session")
			o.cancel()
			delete(w.running, s)
		default:
		}
	}
	return len(w.running)
}

// leastLoaded reports whether no live worker decodes fewer sessions (ties
// go to the smaller id).
func (w *Worker) leastLoaded(ctx context.Context, mine int) bool {
	loads, err := w.b.loads(ctx)
	if err != nil {
		return false
	}
	for _, l := range loads {
		if l.ID == w.opts.ID {
			continue
		}
		if l.Sessions < mine || l.Sessions == mine && l.ID < w.opts.ID {
			return false
		}
	}
	return true
}

func (w *Worker) start(ctx context.Context, s Spec, lease *bus.Lease) {
	sctx, cancel := context.WithCancel(ctx)
	lease.Keep(context.WithoutCancel(ctx)) // released by tend or stopAll
	o := &owned{cancel: cancel, done: make(chan struct{}), lease: lease}
	w.mu.Lock()
	w.running[s.Session] = o
	w.mu.Unlock()
	w.opts.Log.Info().Str("session", s.Session).Str("worker", w.opts.ID).Msg("took session")
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer close(o.done)
		if err := w.decode(sctx, s); err != nil && sctx.Err() == nil {
			w.opts.Log.Error().Err(err).Str("session", s.Session).Msg("session stopped")
		}
	}()
}

// stopAll stops every session, waits for them and releases their leases.
func (w *Worker) stopAll() {
	w.mu.Lock()
	for _, o := range w.running {
		o.cancel()
	}
	w.mu.Unlock()
	w.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	for s, o := range w.running {
		if err := o.lease.Release(ctx); err != nil {
			w.opts.Log.Warn().Err(err).Str("session", s).Msg("lease not released; it will expire")
		}
		delete(w.running, s)
	}
}

func (w *Worker) String() string { return fmt.Sprintf("worker %s", w.opts.ID) }
