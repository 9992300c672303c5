package bus

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
)

// WatchdogOptions configures the input watchdog of a live session.
type WatchdogOptions struct {
	// StaleAfter is how long input may be missing before intents turn
	// stale; HaltAfter, before they turn halted (default StaleAfter).
	StaleAfter, HaltAfter time.Duration
	// Period is how often a stale or halted intent is repeated while input
	// is missing (default: the bin width, else StaleAfter/2).
	Period time.Duration
}

// EnsureDefaults fills the zero fields of o; binWidth is the session's.
func (o *WatchdogOptions) EnsureDefaults(binWidth time.Duration) {
	o.HaltAfter = max(o.HaltAfter, o.StaleAfter)
	if o.Period <= 0 {
		o.Period = binWidth
	}
	if o.Period <= 0 {
		o.Period = o.StaleAfter / 2
	}
}

// Validate reports settings that mean nothing: negative or day-long
// durations, and a halt that would come before the stale warning.
func (o *WatchdogOptions) Validate() error {
	for _, d := range []time.Duration{o.StaleAfter, o.HaltAfter, o.Period} {
		if d < 0 || d > time.Hour {
			return fmt.Errorf("watchdog: stale after %v, halt after %v, period %v: want durations from 0 to 1h", o.StaleAfter, o.HaltAfter, o.Period)
		}
	}
	if o.StaleAfter > 0 && o.HaltAfter < o.StaleAfter {
		return fmt.Errorf("watchdog: halt after %v must not come before stale after %v", o.HaltAfter, o.StaleAfter)
	}
	return nil
}

// WatchdogStats counts what the watchdog published.
type WatchdogStats struct {
	Stale  uint64 `json:"stale"`
	Halted uint64 `json:"halted"`
	// State is the input's state now: ok, stale or halted.
	State decoder.Status `json:"state"`
}

// Watchdog publishes stale, then halted, intents when bins stop arriving,
// so a prosthetic controller never keeps acting on the last command it
// heard. They mean "stop" in the session's own kind (see decoder.Hold):
// zero velocity, or for positions the last position published. A watchdog
// intent repeats the seq of the last decoded bin and is stamped like the
// session's intents; its sample time is when it was issued. The watchdog
// runs on its own goroutine and publishes straight to NATS, never through
// the publisher's queue, whose only producer is the decoding loop. It is a
// pipeline.Output.
type Watchdog struct {
	opts WatchdogOptions
	nc   *nats.Conn
	msg  *intentMsg
	log  zerolog.Logger
	in   decoder.Intent // template; owned by the watchdog goroutine once started

	// the last bin seen, written by the decoding loop (as a sink)
	lastSeen atomic.Int64 // Unix ns
	lastSeq  atomic.Uint64
	lastVals []atomic.Uint32 // float32 bits of the last ok values
	model    func() string

	stale, halted atomic.Uint64
	state         atomic.Value // decoder.Status
	stop          context.CancelFunc
	wg            sync.WaitGroup
}

// NewWatchdog prepares the watchdog of session, whose intents have the
// kind and stamps of tmpl and outputs values each; model names the model
// decoding now.
func NewWatchdog(nc *nats.Conn, session string, tmpl decoder.Intent, outputs int, model func() string, opts WatchdogOptions, log zerolog.Logger) (*Watchdog, error) {
	if err := ValidateSession(session); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	w := &Watchdog{opts: opts, nc: nc, msg: newIntentMsg(IntentSubject(session)), log: log, in: tmpl,
		lastVals: make([]atomic.Uint32, outputs), model: model}
	w.in.Values = make([]float32, outputs)
	w.msg.msg.Header[HeaderWatchdog] = []string{"1"}
	w.state.Store(decoder.StatusOK)
	return w, nil
}

// Consume implements pipeline.Sink: it notes that input is alive and what
// was last published.
func (w *Watchdog) Consume(in *decoder.Intent, _ *acquire.Bin) {
	w.lastSeq.Store(in.Seq)
	if in.Status == decoder.StatusOK {
		for i, v := range in.Values[:min(len(in.Values), len(w.lastVals))] {
			w.lastVals[i].Store(math.Float32bits(v))
		}
	}
	w.lastSeen.Store(time.Now().UnixNano())
}

// Stats returns the watchdog's counters.
func (w *Watchdog) Stats() WatchdogStats {
	return WatchdogStats{Stale: w.stale.Load(), Halted: w.halted.Load(), State: w.state.Load().(decoder.Status)}
}

// Report implements pipeline.Reporter.
func (w *Watchdog) Report() (string, any) { return "watchdog", w.Stats() }

// Start implements pipeline.Output: it checks the input every period until
// Close or until ctx ends.
func (w *Watchdog) Start(ctx context.Context) error {
	ctx, w.stop = context.WithCancel(ctx)
	w.lastSeen.Store(time.Now().UnixNano())
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.run(ctx)
	}()
	return nil
}

// Close implements pipeline.Output.
func (w *Watchdog) Close(context.Context) error {
	if w.stop != nil {
		w.stop()
	}
	w.wg.Wait()
	return nil
}

func (w *Watchdog) run(ctx context.Context) {
	t := time.NewTicker(w.opts.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.check(now)
		}
	}
}

// check publishes a stale or halted intent when input has been quiet long
// enough.
func (w *Watchdog) check(now time.Time) {
	quiet := now.Sub(time.Unix(0, w.lastSeen.Load()))
	next := decoder.StatusOK
	switch {
	case quiet >= w.opts.HaltAfter:
		next = decoder.StatusHalted
	case quiet >= w.opts.StaleAfter:
		next = decoder.StatusStale
	}
	if prev := w.state.Swap(next); prev != next {
		ev := w.log.Warn()
		if next == decoder.StatusOK {
			ev = w.log.Info()
		}
		ev.Str("status", string(next)).Stringer("input_quiet", quiet).Msg("input watchdog")
	}
	if next == decoder.StatusOK {
		return
	}
	in := &w.in
	in.Seq, in.SampleTime, in.DecodeTime, in.Model = w.lastSeq.Load(), now.UnixNano(), now.UnixNano(), w.model()
	for i := range in.Values {
		in.Values[i] = math.Float32frombits(w.lastVals[i].Load())
	}
	decoder.Hold(in, next)
	if err := w.nc.PublishMsg(w.msg.set(in)); err != nil {
		w.log.Error().Err(err).Msg("watchdog could not publish")
		return
	}
	if next == decoder.StatusStale {
		w.stale.Add(1)
	} else {
		w.halted.Add(1)
	}
}
