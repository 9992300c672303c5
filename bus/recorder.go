package bus

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
)

// RecorderOptions configures a Recorder. Zero fields take defaults.
type RecorderOptions struct {
	// Session names the stream and subjects (required).
	Session string
	// Buffer is the number of bins that may wait for the recorder's
	// goroutine (default 8192).
	Buffer int
	// Window bounds the asynchronous publishes awaiting JetStream's ack
	// (default 1024).
	Window int
	// Lossless makes Consume wait for room instead of counting a gap, for
	// runs that go as fast as possible rather than in real time.
	Lossless bool
	// MsgIDPrefix, when set, gives each bin the JetStream message id
	// prefix+seq, so a bin recorded again (by a process that took the
	// session over) is stored once.
	MsgIDPrefix string
	// Log receives gap reports.
	Log zerolog.Logger
}

// RecordingStats counts what a recorder did. Gaps are bins that were not
// recorded: the ring was full, the ack window stalled, or the server
// rejected them.
type RecordingStats struct {
	Recorded uint64 `json:"recorded"`
	Gaps     uint64 `json:"gaps"`
}

// Recorder records the bins of a session in its JetStream stream. It is a
// pipeline sink: Consume encodes the bin into a preallocated ring slot and
// returns; a goroutine started by Start publishes asynchronously with a
// bounded ack window. Decoding always wins: when the ring is full the bin
// is counted as a gap and logged, never waited for. Intents reach the same
// stream from the publisher's core-NATS messages on the intent subject.
type Recorder struct {
	js   jetstream.JetStream
	opts RecorderOptions
	subj string

	ring    *ring[[]byte]
	closing chan struct{}
	done    chan struct{}

	sent, failed, gaps atomic.Uint64
}

// NewRecorder prepares a recorder of bins on nc; the session's stream must
// exist (see PrepareRecording). Feed it through Consume.
func NewRecorder(nc *nats.Conn, opts RecorderOptions) (*Recorder, error) {
	if opts.Buffer <= 0 {
		opts.Buffer = 8192
	}
	return newRecorder(nc, opts, BinsSubject(opts.Session))
}

// NewFrameRecorder prepares a recorder of raw frames on bci.<session>.raw;
// feed it through RecordFrame. Its ring holds whole frames, so its default
// Buffer is 256.
func NewFrameRecorder(nc *nats.Conn, opts RecorderOptions) (*Recorder, error) {
	if opts.Buffer <= 0 {
		opts.Buffer = 256
	}
	return newRecorder(nc, opts, RawSubject(opts.Session))
}

func newRecorder(nc *nats.Conn, opts RecorderOptions, subj string) (*Recorder, error) {
	if err := ValidateSession(opts.Session); err != nil {
		return nil, err
	}
	if opts.Window <= 0 {
		opts.Window = 1024
	}
	r := &Recorder{
		opts:    opts,
		subj:    subj,
		ring:    newRing[[]byte](opts.Buffer, opts.Lossless),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(opts.Window),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, _ *nats.Msg, err error) {
			r.failed.Add(1)
			r.gap("JetStream rejected a bin", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	r.js = js
	return r, nil
}

// Stats returns the recorder's counters. Recorded counts bins sent to
// JetStream and not rejected; after Close has returned without error every
// one of them has been acknowledged.
func (r *Recorder) Stats() RecordingStats {
	return RecordingStats{Recorded: r.sent.Load() - r.failed.Load(), Gaps: r.gaps.Load()}
}

func (r *Recorder) gap(what string, err error) {
	if n := r.gaps.Add(1); n&(n-1) == 0 { // log at powers of two
		r.opts.Log.Warn().Err(err).Uint64("gaps", n).Str("session", r.opts.Session).Msg(what + ": recording gap")
	}
}

// Consume implements pipeline.Sink: it records the bin.
func (r *Recorder) Consume(_ *decoder.Intent, b *encoder.Bin) {
	slot := r.ring.reserve()
	if slot == nil {
		r.gap("recorder buffer full", nil)
		return
	}
	*slot = encoder.AppendBinMessage((*slot)[:0], b)
	r.ring.commit()
}

// RecordFunc records the message fill appends to its argument; like
// Consume it never waits in a real-time run.
func (r *Recorder) RecordFunc(fill func(dst []byte) []byte) {
	slot := r.ring.reserve()
	if slot == nil {
		r.gap("recorder buffer full", nil)
		return
	}
	*slot = fill((*slot)[:0])
	r.ring.commit()
}

// NewSnapshotRecorder prepares a recorder of decoder checkpoints on
// bci.<session>.snapshot; feed it through RecordFunc.
func NewSnapshotRecorder(nc *nats.Conn, opts RecorderOptions) (*Recorder, error) {
	if opts.Buffer <= 0 {
		opts.Buffer = 16
	}
	return newRecorder(nc, opts, SnapshotSubject(opts.Session))
}

// RecordFrame records a raw frame; like Consume it never waits in a
// real-time run.
func (r *Recorder) RecordFrame(f *acquire.Frame) {
	slot := r.ring.reserve()
	if slot == nil {
		r.gap("recorder buffer full", nil)
		return
	}
	*slot = acquire.AppendFrameMessage((*slot)[:0], f)
	r.ring.commit()
}

// Start runs the publishing goroutine until Close or until ctx is done.
func (r *Recorder) Start(ctx context.Context) { go r.run(ctx) }

// Close records what is buffered, waits for JetStream's acks (bounded by
// ctx) and stops the goroutine.
func (r *Recorder) Close(ctx context.Context) (RecordingStats, error) {
	select {
	case <-r.closing:
	default:
		close(r.closing)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return r.Stats(), fmt.Errorf("recorder: close: %w", ctx.Err())
	}
	select {
	case <-r.js.PublishAsyncComplete():
	case <-ctx.Done():
		return r.Stats(), fmt.Errorf("recorder: %d bins still unacknowledged: %w", r.js.PublishAsyncPending(), ctx.Err())
	case <-time.After(10 * time.Second):
		return r.Stats(), fmt.Errorf("recorder: %d bins still unacknowledged after 10s", r.js.PublishAsyncPending())
	}
	return r.Stats(), nil
}

func (r *Recorder) run(ctx context.Context) {
	defer close(r.done)
	defer r.ring.stop()
	for {
		r.ring.drain(r.publish)
		select {
		case <-r.ring.wake:
		case <-r.closing:
			r.ring.drain(r.publish)
			return
		case <-ctx.Done():
			for range r.ring.pending() {
				r.gap("recorder stopped", ctx.Err())
			}
			return
		}
	}
}

func (r *Recorder) publish(slot *[]byte) {
	// The ack future keeps the message until the ack arrives, so it gets
	// its own copy; the slot is reused at once.
	m := &nats.Msg{Subject: r.subj, Data: append([]byte(nil), *slot...), Header: nats.Header{}}
	if seq, ok := encoder.BinMessageSeq(*slot); ok {
		s := strconv.FormatUint(seq, 10)
		m.Header.Set(HeaderSeq, s)
		if r.opts.MsgIDPrefix != "" {
			m.Header.Set(nats.MsgIdHdr, r.opts.MsgIDPrefix+s)
		}
	}
	if _, err := r.js.PublishMsgAsync(m); err != nil {
		r.gap("recording window stalled", err)
		return
	}
	r.sent.Add(1)
}
