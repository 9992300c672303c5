package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// flushTimeout bounds the final flush when Close's context has no deadline.
const flushTimeout = 5 * time.Second

// PublisherOptions configures a Publisher. Zero fields take defaults.
type PublisherOptions struct {
	// Session names the subjects (required).
	Session string
	// Buffer is the number of intents that may wait for the network
	// (default 4096).
	Buffer int
	// Lossless makes Consume wait for room instead of dropping when the
	// buffer is full. Live decoding leaves it off (decoding always wins);
	// runs that go as fast as possible turn it on.
	Lossless bool
	// MaxValues is the number of values per intent the ring reserves room
	// for up front (default 16); larger intents grow a slot once.
	MaxValues int
	// StatusInterval is the period of status messages (default 1 s;
	// negative disables them).
	StatusInterval time.Duration
	// Stats, when set, adds the pipeline's counters to status messages.
	Stats func() pipeline.Stats
	// Log receives publish errors and drops.
	Log zerolog.Logger
}

// Publisher publishes intents on NATS from its own goroutine. The decoding
// loop hands intents over through Consume, which copies them into a
// preallocated ring and never blocks on the network: when the ring is full
// the intent is dropped and counted (unless Lossless). One goroutine, started
// by Start and waited for by Close, owns the connection's publishing side
// and the latency histogram.
type Publisher struct {
	nc   *nats.Conn
	opts PublisherOptions
	subj string

	ring    *ring[decoder.Intent]
	closing chan struct{}
	done    chan struct{}
	start   time.Time

	dropped, published, errs atomic.Uint64

	// owned by the publishing goroutine
	hist  *hdrhistogram.Histogram
	msg   nats.Msg
	body  []byte
	model string
	sum   Summary
}

// Summary is what a publisher did, returned by Close.
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
	if opts.Buffer <= 0 {
		opts.Buffer = 4096
	}
	if opts.StatusInterval == 0 {
		opts.StatusInterval = time.Second
	}
	if opts.MaxValues <= 0 {
		opts.MaxValues = 16
	}
	p := &Publisher{
		nc:      nc,
		opts:    opts,
		subj:    IntentSubject(opts.Session),
		ring:    newRing[decoder.Intent](opts.Buffer, opts.Lossless),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		hist:    hdrhistogram.New(1, 60_000_000, 3),
	}
	flat := make([]float32, opts.Buffer*opts.MaxValues)
	for i := range p.ring.slots {
		p.ring.slots[i].Values = flat[i*opts.MaxValues : i*opts.MaxValues : (i+1)*opts.MaxValues]
	}
	p.msg.Subject = p.subj
	p.msg.Header = nats.Header{}
	return p, nil
}

// Consume implements pipeline.Sink.
func (p *Publisher) Consume(in *decoder.Intent, _ *encoder.Bin) {
	slot := p.ring.reserve()
	if slot == nil {
		if n := p.dropped.Add(1); n&(n-1) == 0 { // log at powers of two
			p.opts.Log.Warn().Uint64("dropped", n).Msg("intent buffer full: dropping intents")
		}
		return
	}
	slot.CopyFrom(in)
	p.ring.commit()
}

// Start runs the publishing goroutine until Close, or until ctx is done
// (then pending intents are abandoned and counted as dropped).
func (p *Publisher) Start(ctx context.Context) {
	p.start = time.Now()
	go p.run(ctx)
}

// Close publishes what is still buffered, flushes the connection (bounded by
// ctx), stops the goroutine and returns the summary.
func (p *Publisher) Close(ctx context.Context) (Summary, error) {
	select {
	case <-p.closing:
	default:
		close(p.closing)
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return Summary{}, fmt.Errorf("publisher: close: %w", ctx.Err())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	var err error
	if ferr := p.nc.FlushWithContext(ctx); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
		err = fmt.Errorf("publisher: flush: %w", ferr)
	}
	return p.sum, err
}

func (p *Publisher) run(ctx context.Context) {
	defer close(p.done)
	defer p.ring.stop()
	var tick <-chan time.Time
	if p.opts.StatusInterval > 0 {
		t := time.NewTicker(p.opts.StatusInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		p.ring.drain(p.publish)
		select {
		case <-p.ring.wake:
		case <-tick:
			p.publishStatus()
		case <-p.closing:
			p.ring.drain(p.publish)
			p.publishStatus()
			p.finish()
			return
		case <-ctx.Done():
			p.dropped.Add(p.ring.pending())
			p.finish()
			return
		}
	}
}

func (p *Publisher) finish() {
	p.sum = Summary{Published: p.published.Load(), Dropped: p.dropped.Load(), Errors: p.errs.Load(), Latency: p.latency()}
}

func (p *Publisher) publish(in *decoder.Intent) {
	p.body = in.AppendJSON(p.body[:0])
	p.msg.Data = p.body
	p.msg.Header[HeaderSeq] = []string{strconv.FormatUint(in.Seq, 10)}
	p.msg.Header[HeaderSampleTime] = []string{strconv.FormatInt(in.SampleTime, 10)}
	p.model = in.Model
	if lat := (in.DecodeTime - in.SampleTime) / 1000; lat >= 0 {
		_ = p.hist.RecordValue(max(lat, 1))
	}
	if err := p.nc.PublishMsg(&p.msg); err != nil {
		if p.errs.Add(1) == 1 {
			p.opts.Log.Error().Err(err).Str("subject", p.subj).Msg("publish intent failed; counting failures")
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
