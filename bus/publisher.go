package bus

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/handoff"
)

// flushTimeout bounds the final flush when Close's context has no deadline.
const flushTimeout = 5 * time.Second

// PublisherOptions configures a Publisher.
type PublisherOptions struct {
	// Session names the subjects (required).
	Session string
	// Subject is where intents go (default bci.<session>.intent).
	Subject string
	// Buffer is the number of intents that may wait for the network
	// (default 4096).
	Buffer int
	// Lossless makes Consume wait for room instead of dropping when the
	// buffer is full. Live decoding leaves it off (decoding always wins);
	// runs that go as fast as possible turn it on.
	Lossless bool
	// MaxValues is the number of values per intent the buffer reserves room
	// for up front (default 16); larger intents grow a slot once.
	MaxValues int
	// StatusInterval is the period of status messages on
	// bci.<session>.status (default 1 s; negative disables them).
	StatusInterval time.Duration
	// Status, when set, completes each status message (the pipeline's
	// counters, the other outputs' reports) on the publishing goroutine.
	Status func(*Status)
	// Log receives publish errors and drops.
	Log zerolog.Logger
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *PublisherOptions) EnsureDefaults() {
	if o.Subject == "" {
		o.Subject = IntentSubject(o.Session)
	}
	if o.Buffer <= 0 {
		o.Buffer = 4096
	}
	if o.StatusInterval == 0 {
		o.StatusInterval = time.Second
	}
	if o.MaxValues <= 0 {
		o.MaxValues = 16
	}
}

// Publisher publishes intents on NATS from its own goroutine. The decoding
// loop hands intents over through Consume, which copies them into a
// preallocated queue and never blocks on the network: when the queue is
// full the intent is dropped and counted (unless Lossless). The queue's
// goroutine owns the connection's publishing side and the latency
// histogram. Publisher is a pipeline.Output.
//
// Its counts are honest: an intent counts as published only once the
// server has routed it, which the publisher sees by hearing it back on its
// own subscription to the subject (a subscriber on that server received it
// too); the rest are dropped. While the connection is down intents are
// dropped rather than buffered, so a controller never receives a burst of
// stale commands after an outage.
type Publisher struct {
	nc   *nats.Conn
	opts PublisherOptions
	q    *handoff.Queue[decoder.Intent]

	start                    time.Time
	dropped, published, errs atomic.Uint64
	delivered                atomic.Uint64 // heard back from the server
	echo                     *nats.Subscription

	// owned by the publishing goroutine
	hist  *hdrhistogram.Histogram
	msg   *intentMsg
	model string
	raw   atomic.Pointer[Summary] // what was sent, set when the goroutine stops
	sum   atomic.Pointer[Summary] // what the server routed, set by Close
}

// Summary is what a publisher did.
type Summary struct {
	Published uint64        `json:"intents_published"`
	Dropped   uint64        `json:"intents_dropped"`
	Errors    uint64        `json:"publish_errors"`
	Latency   LatencyReport `json:"latency_us"`
}

// LatencyReport summarises decode latency (DecodeTime - SampleTime) in µs.
type LatencyReport struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// NewPublisher prepares a publisher for session on nc; call Start to run it.
func NewPublisher(nc *nats.Conn, opts PublisherOptions) (*Publisher, error) {
	if err := ValidateSession(opts.Session); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	p := &Publisher{nc: nc, opts: opts, hist: hdrhistogram.New(1, 60_000_000, 3), msg: newIntentMsg(opts.Subject)}
	p.q = handoff.New(opts.Buffer, opts.Lossless, handoff.Consumer[decoder.Intent]{
		Handle: p.publish,
		Tick:   p.publishStatus, Period: opts.StatusInterval,
		Finish:  p.finish,
		Abandon: func(n uint64) { p.dropped.Add(n); p.finish() },
	})
	slots := p.q.Slots()
	flat := make([]float32, len(slots)*opts.MaxValues)
	for i := range slots {
		slots[i].Values = flat[i*opts.MaxValues : i*opts.MaxValues : (i+1)*opts.MaxValues]
	}
	return p, nil
}

// Consume implements pipeline.Sink.
func (p *Publisher) Consume(in *decoder.Intent, _ *acquire.Bin) {
	slot := p.q.Reserve()
	if slot == nil {
		if n := p.dropped.Add(1); n&(n-1) == 0 { // log at powers of two
			p.opts.Log.Warn().Uint64("dropped", n).Msg("intent buffer full: dropping intents")
		}
		return
	}
	slot.CopyFrom(in)
	p.q.Commit()
}

// Start implements pipeline.Output: it listens for its own intents and
// runs the publishing goroutine until Close, or until ctx is done (then
// pending intents are abandoned and counted as dropped).
func (p *Publisher) Start(ctx context.Context) error {
	echo, err := p.nc.Subscribe(p.opts.Subject, func(m *nats.Msg) {
		if m.Header.Get(HeaderWatchdog) == "" {
			p.delivered.Add(1)
		}
	})
	if err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	p.echo = echo
	p.start = time.Now()
	return p.q.Start(ctx)
}

// Close implements pipeline.Output: it publishes what is still buffered,
// flushes the connection and waits until the server has routed what was
// sent, bounded by ctx; what it never routed is counted as dropped.
func (p *Publisher) Close(ctx context.Context) error {
	if err := p.q.Close(ctx); err != nil {
		return fmt.Errorf("publisher: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	var err error
	if ferr := p.nc.FlushWithContext(ctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
		err = fmt.Errorf("publisher: flush: %w", ferr)
	} else {
		p.awaitEchoes(ctx)
	}
	_ = p.echo.Unsubscribe()
	p.settle()
	if p.opts.StatusInterval > 0 && err == nil {
		// The last status has the settled counts; the goroutine that owns
		// the histogram has stopped, so this one may read it.
		p.publishStatus()
		if ferr := p.nc.FlushWithContext(ctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
			err = fmt.Errorf("publisher: flush: %w", ferr)
		}
	}
	return err
}

// awaitEchoes waits, briefly, for the server to route back what was sent.
func (p *Publisher) awaitEchoes(ctx context.Context) {
	deadline := time.After(2 * time.Second)
	for p.delivered.Load() < p.published.Load() {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// settle makes the final summary count what the server never routed as
// dropped.
func (p *Publisher) settle() {
	s := p.raw.Load()
	if s == nil {
		return
	}
	final := *s
	sent, heard := p.published.Load(), p.delivered.Load()
	final.Published = min(heard, sent)
	final.Dropped += sent - final.Published
	p.sum.Store(&final)
}

// Summary returns what the publisher did: final once Close has returned,
// counters so far (without latency) before.
func (p *Publisher) Summary() Summary {
	if s := p.sum.Load(); s != nil {
		return *s
	}
	return Summary{Published: p.delivered.Load(), Dropped: p.dropped.Load(), Errors: p.errs.Load()}
}

// Report implements pipeline.Reporter.
func (p *Publisher) Report() (string, any) { return "publisher", p.Summary() }

func (p *Publisher) finish() {
	p.raw.Store(&Summary{Published: p.published.Load(), Dropped: p.dropped.Load(), Errors: p.errs.Load(), Latency: p.latency()})
}

func (p *Publisher) publish(in *decoder.Intent) {
	p.model = in.Model
	if lat := (in.DecodeTime - in.SampleTime) / 1000; lat >= 0 {
		_ = p.hist.RecordValue(max(lat, 1))
	}
	if !p.nc.IsConnected() {
		// Buffered now, it would reach controllers late, in a burst,
		// after the outage: drop it and say so.
		if n := p.dropped.Add(1); n&(n-1) == 0 {
			p.opts.Log.Warn().Uint64("dropped", n).Msg("NATS disconnected: dropping intents")
		}
		return
	}
	if err := p.nc.PublishMsg(p.msg.set(in)); err != nil {
		if p.errs.Add(1) == 1 {
			p.opts.Log.Error().Err(err).Str("subject", p.opts.Subject).Msg("publish intent failed; counting failures")
		}
		p.dropped.Add(1)
		return
	}
	p.published.Add(1)
}

func (p *Publisher) latency() LatencyReport {
	return LatencyReport{
		Count: p.hist.TotalCount(),
		P50:   float64(p.hist.ValueAtQuantile(50)),
		P99:   float64(p.hist.ValueAtQuantile(99)),
		P999:  float64(p.hist.ValueAtQuantile(99.9)),
		Max:   float64(p.hist.Max()),
	}
}
