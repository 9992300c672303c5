package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
)

// setup is the session's JetStream side: its lease, the model store and
// the recording's stream. Decoding does not wait for it. The first
// attempts are made before the session starts, so that a permanent refusal
// (a recording that exists, a session another process holds) stops it at
// once; what JetStream cannot answer yet (a cluster electing leaders after
// losing a node) goes on in the background while the session decodes, and
// the recorders hold their messages until the stream is ready.
type setup struct {
	opts   Options
	js     jetstream.JetStream
	rep    *bus.Replicas
	kv     jetstream.KeyValue
	lease  *bus.Lease
	models atomic.Pointer[bus.Models]
	ready  chan struct{}      // closed once every step succeeded
	stop   context.CancelFunc // ends the session: its lease is another's
	failed atomic.Pointer[error]
	wg     sync.WaitGroup
}

// step is one part of the setup.
type step struct {
	what string
	do   func(context.Context) error
}

// firstTry bounds the attempts made before decoding starts.
const firstTry = 5 * time.Second

// startSetup runs the setup's first attempts and leaves the rest to a
// goroutine that ends with ctx (see close).
func startSetup(ctx context.Context, opts Options, stop context.CancelFunc) (*setup, error) {
	s := &setup{opts: opts, ready: make(chan struct{}), stop: stop, rep: bus.NewReplicas(opts.Replicas, opts.StartupTimeout/3, opts.Log)}
	steps := s.steps()
	if len(steps) == 0 {
		close(s.ready)
		return s, nil
	}
	js, err := jetstream.New(opts.Conn)
	if err != nil {
		return nil, err
	}
	s.js = js
	next, err := s.run(ctx, steps, 0, firstTry)
	switch {
	case err == nil:
		return s, nil
	case permanent(err):
		return nil, err
	}
	s.opts.Log.Warn().Err(err).Str("waiting_for", steps[next].what).Msg("JetStream is not answering: decoding starts now; recording and swaps wait for it")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if _, err := s.run(ctx, steps, next, 24*time.Hour); err != nil && ctx.Err() == nil {
			s.fail(err)
		}
	}()
	return s, nil
}

// steps lists what the session needs of JetStream.
func (s *setup) steps() []step {
	var out []step
	o := s.opts
	if o.Owner != "" {
		out = append(out, step{"open the lease bucket", s.openLeases}, step{"take the session's lease", s.takeLease})
	}
	if o.Record || o.Control {
		out = append(out, step{"open the model store", s.openModels})
	}
	if o.Record {
		if !o.Append {
			out = append(out, step{"check for an earlier recording", s.checkRecording})
		}
		out = append(out, step{"prepare the recording", s.prepareRecording}, step{"store the model", s.storeModel})
	}
	return out
}

// run runs steps from the one at from on, each retried for up to within;
// it returns the step it stopped at.
func (s *setup) run(ctx context.Context, steps []step, from int, within time.Duration) (int, error) {
	for i := from; i < len(steps); i++ {
		if err := bus.Persist(ctx, within, s.opts.Log, steps[i].what, steps[i].do); err != nil {
			return i, fmt.Errorf("%s: %w", steps[i].what, err)
		}
	}
	close(s.ready)
	return len(steps), nil
}

// permanent reports errors that retrying cannot mend.
func permanent(err error) bool {
	return errors.Is(err, bus.ErrRecorded) || errors.Is(err, bus.ErrLeased) || errors.Is(err, bus.ErrSession) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// withoutJetStream reports whether err says the server has no JetStream,
// which a session that does not record can live without.
func withoutJetStream(err error) bool {
	return errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}

// fail records why the setup gave up; a lease another process holds stops
// the session.
func (s *setup) fail(err error) {
	s.failed.Store(&err)
	s.opts.Log.Error().Err(err).Msg("session setup failed: recording and swaps are off")
	if errors.Is(err, bus.ErrLeased) {
		s.stop()
	}
}

func (s *setup) openLeases(ctx context.Context) (err error) {
	s.kv, err = bus.OpenLeases(ctx, s.js, s.opts.LeaseTTL, s.rep.N())
	s.rep.Observe(err)
	if withoutJetStream(err) && !s.opts.Record {
		s.opts.Log.Warn().Err(err).Msg("the server has no JetStream: nothing stops another process from decoding this session too")
		return nil
	}
	return err
}

func (s *setup) takeLease(ctx context.Context) (err error) {
	if s.kv == nil {
		return nil // no JetStream (see openLeases)
	}
	if s.lease, err = bus.AcquireLease(ctx, s.kv, s.opts.Session, s.opts.Owner, s.opts.LeaseTTL); err != nil {
		return err
	}
	s.lease.Keep(context.WithoutCancel(ctx))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-s.lease.Lost():
			s.opts.Log.Error().Str("session", s.opts.Session).Msg("lease lost: another process may decode this session; stopping")
			s.stop()
		case <-ctx.Done():
		}
	}()
	return nil
}

func (s *setup) openModels(ctx context.Context) error {
	m, err := bus.OpenModels(ctx, s.js, s.rep.N())
	s.rep.Observe(err)
	if withoutJetStream(err) && !s.opts.Record {
		// Control still pauses, resumes and reports; only swaps need the
		// model store.
		s.opts.Log.Warn().Err(err).Msg("no model store: control will refuse swaps")
		return nil
	}
	if err == nil {
		s.models.Store(m)
	}
	return err
}

// checkRecording refuses to record over an earlier recording. It runs
// once, before the stream is made: once this run's stream exists, what it
// holds is this run's.
func (s *setup) checkRecording(ctx context.Context) error {
	return bus.CheckRecording(ctx, s.js, s.opts.Session, s.opts.Overwrite)
}

func (s *setup) prepareRecording(ctx context.Context) error {
	o := s.opts
	_, err := bus.EnsureStream(ctx, s.js, o.Session, bus.SessionInfo{Shape: o.Source.Shape(), Output: o.Output}, s.rep.N())
	s.rep.Observe(err)
	return err
}

func (s *setup) storeModel(ctx context.Context) error {
	o := s.opts
	b, hash, err := decoder.Encode(o.Model.Decoder, o.Model.Info)
	if err != nil {
		return err
	}
	if hash != o.Model.Hash {
		return fmt.Errorf("model re-encodes to %.12s, not its hash %.12s", hash, o.Model.Hash)
	}
	_, err = s.models.Load().Put(ctx, b)
	return err
}

// err is why the setup gave up, if it did.
func (s *setup) err() error {
	if e := s.failed.Load(); e != nil {
		return *e
	}
	return nil
}

// close waits for the background attempts (ctx must have ended) and
// releases the lease.
func (s *setup) close() {
	s.wg.Wait()
	if s.lease == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.lease.Release(ctx); err != nil {
		s.opts.Log.Warn().Err(err).Msg("lease not released; it will expire")
	}
}

// SetupState says whether the session's JetStream side is ready, for status
// messages and the summary.
type SetupState struct {
	Ready bool   `json:"ready"`
	Error string `json:"error,omitempty"`
}

func (s *setup) state() SetupState {
	st := SetupState{}
	select {
	case <-s.ready:
		st.Ready = true
	default:
	}
	if err := s.err(); err != nil {
		st.Error = err.Error()
	}
	return st
}
