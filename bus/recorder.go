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
	"github.com/bci-decode/bci-decode/handoff"
)

// RecorderOptions configures a Recorder.
type RecorderOptions struct {
	// Session names the stream and subjects (required).
	Session string
	// Buffer is the number of messages that may wait for the recorder's
	// goroutine (default: 8192 bins, 256 raw frames, 16 snapshots).
	Buffer int
	// Window bounds the asynchronous publishes awaiting JetStream's ack
	// (default 1024).
	Window int
	// AckWait bounds the wait for the last acknowledgements when Close's
	// context has no deadline (default 10 s); a message unacknowledged for a
	// quarter of it is sent again (the stream keeps it once).
	AckWait time.Duration
	// Lossless makes recording wait for room instead of counting a gap,
	// for runs that go as fast as possible rather than in real time.
	Lossless bool
	// MsgIDPrefix starts the JetStream message id of every message (bins:
	// prefix+seq), so a message sent again (after a lost acknowledgement,
	// or by a process that took the session over) is stored once; default
	// <session>:<start time>:.
	MsgIDPrefix string
	// GiveUp bounds how long a message is sent again before it counts as a
	// gap (default 30 s: a cluster electing a new leader takes seconds).
	GiveUp time.Duration
	// Ready, when set, holds messages until it is closed: the session's
	// stream is still being prepared.
	Ready <-chan struct{}
	// Log receives gap reports.
	Log zerolog.Logger
}

// EnsureDefaults fills the zero fields of o with their defaults; buffer is
// the default Buffer of the kind of recorder.
func (o *RecorderOptions) EnsureDefaults(buffer int) {
	if o.Buffer <= 0 {
		o.Buffer = buffer
	}
	if o.Window <= 0 {
		o.Window = 1024
	}
	if o.AckWait <= 0 {
		o.AckWait = 10 * time.Second
	}
	if o.GiveUp <= 0 {
		o.GiveUp = 30 * time.Second
	}
	if o.MsgIDPrefix == "" {
		o.MsgIDPrefix = fmt.Sprintf("%s:%d:", o.Session, time.Now().UnixNano())
	}
}

// RecordingStats counts what a recorder did. Gaps are messages that were
// not recorded: the buffer was full, the ack window stalled, or the server
// rejected them.
type RecordingStats struct {
	Recorded uint64 `json:"recorded"`
	Gaps     uint64 `json:"gaps"`
}

// Recorder records one kind of message of a session (bins, raw frames or
// decoder checkpoints) in its JetStream stream. The decoding loop encodes
// each message into a preallocated queue slot and returns; the queue's
// goroutine publishes asynchronously with a bounded ack window. Decoding
// always wins: when the queue is full the message is counted as a gap and
// logged, never waited for. A Recorder is a pipeline.Output; intents reach
// the same stream from the publisher's core-NATS messages.
type Recorder struct {
	opts  RecorderOptions
	name  string
	subj  string
	kind  string // in message ids of messages without a bin seq
	bins  bool   // Consume records the bin
	q     *handoff.Queue[[]byte]
	store *storer // owned by the queue's goroutine, then by Close
	n     uint64  // messages numbered so far, for their ids
	hard  context.Context

	recorded, gaps atomic.Uint64
}

// NewRecorder prepares a recorder of the bins the pipeline feeds it, on
// bci.<session>.bins; the session's stream must exist (see
// PrepareRecording).
func NewRecorder(nc *nats.Conn, opts RecorderOptions) (*Recorder, error) {
	opts.EnsureDefaults(8192)
	r, err := newRecorder(nc, opts, "recording", BinsSubject(opts.Session), "")
	if r != nil {
		r.bins = true
	}
	return r, err
}

// NewFrameRecorder prepares a recorder of raw frames on bci.<session>.raw;
// feed it through RecordFrame. Its buffer holds whole frames.
func NewFrameRecorder(nc *nats.Conn, opts RecorderOptions) (*Recorder, error) {
	opts.EnsureDefaults(256)
	return newRecorder(nc, opts, "raw_recording", RawSubject(opts.Session), "f")
}

// NewSnapshotRecorder prepares a recorder of decoder checkpoints on
// bci.<session>.snapshot; feed it through RecordFunc.
func NewSnapshotRecorder(nc *nats.Conn, opts RecorderOptions) (*Recorder, error) {
	opts.EnsureDefaults(16)
	return newRecorder(nc, opts, "snapshots", SnapshotSubject(opts.Session), "s")
}

func newRecorder(nc *nats.Conn, opts RecorderOptions, name, subj, kind string) (*Recorder, error) {
	if err := ValidateSession(opts.Session); err != nil {
		return nil, err
	}
	r := &Recorder{opts: opts, name: name, subj: subj, kind: kind}
	r.q = handoff.New(opts.Buffer, opts.Lossless, handoff.Consumer[[]byte]{
		Handle: r.publish,
		Tick:   func() { r.store.poll() }, Period: 20 * time.Millisecond,
		Abandon: func(n uint64) {
			for range n {
				r.gap("recorder stopped", context.Canceled)
			}
		},
	})
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(opts.Window),
		jetstream.WithPublishAsyncTimeout(opts.AckWait/4))
	if err != nil {
		return nil, fmt.Errorf("recorder: %w", err)
	}
	r.store = &storer{js: js, window: opts.Window, giveUp: opts.GiveUp, resend: opts.AckWait / 2,
		stored: func() { r.recorded.Add(1) }, gap: r.gap}
	return r, nil
}

// Stats returns the recorder's counters. Recorded counts messages
// JetStream acknowledged; once Close has returned, every message is either
// recorded or a gap.
func (r *Recorder) Stats() RecordingStats {
	return RecordingStats{Recorded: r.recorded.Load(), Gaps: r.gaps.Load()}
}

// Report implements pipeline.Reporter.
func (r *Recorder) Report() (string, any) { return r.name, r.Stats() }

func (r *Recorder) gap(what string, err error) {
	if n := r.gaps.Add(1); n&(n-1) == 0 { // log at powers of two
		r.opts.Log.Warn().Err(err).Uint64("gaps", n).Str("session", r.opts.Session).Str("subject", r.subj).Msg(what + ": recording gap")
	}
}

// Consume implements pipeline.Sink: a bin recorder records the bin; other
// recorders are fed by their own producers.
func (r *Recorder) Consume(_ *decoder.Intent, b *acquire.Bin) {
	if !r.bins {
		return
	}
	slot := r.q.Reserve()
	if slot == nil {
		r.gap("recorder buffer full", nil)
		return
	}
	*slot = acquire.AppendBinMessage((*slot)[:0], b)
	r.q.Commit()
}

// RecordFunc records the message fill appends to its argument; like
// Consume it never waits in a real-time run.
func (r *Recorder) RecordFunc(fill func(dst []byte) []byte) {
	slot := r.q.Reserve()
	if slot == nil {
		r.gap("recorder buffer full", nil)
		return
	}
	*slot = fill((*slot)[:0])
	r.q.Commit()
}

// RecordFrame records a raw frame; like Consume it never waits in a
// real-time run.
func (r *Recorder) RecordFrame(f *acquire.Frame) {
	slot := r.q.Reserve()
	if slot == nil {
		r.gap("recorder buffer full", nil)
		return
	}
	*slot = acquire.AppendFrameMessage((*slot)[:0], f)
	r.q.Commit()
}

// Start implements pipeline.Output.
func (r *Recorder) Start(ctx context.Context) error {
	r.hard = ctx
	return r.q.Start(ctx)
}

// Close implements pipeline.Output: it records what is buffered and waits
// for JetStream's acknowledgements, sending again what failed, bounded by
// ctx (or AckWait when ctx has no deadline); what is still unacknowledged
// then is counted as gaps.
func (r *Recorder) Close(ctx context.Context) error {
	if err := r.q.Close(ctx); err != nil {
		return fmt.Errorf("recorder %s: %w", r.subj, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opts.AckWait)
		defer cancel()
	}
	if err := r.store.drain(ctx); err != nil {
		return fmt.Errorf("recorder %s: %w", r.subj, err)
	}
	return nil
}

// StampBin gives the message of a recorded bin the headers the recorder
// gives it: its seq, and the message id msgIDPrefix+seq, under which a bin
// recorded twice (by the recorder sending it again, or by a process that
// took the session over) is stored once.
func StampBin(m *nats.Msg, msgIDPrefix string, seq uint64) {
	s := strconv.FormatUint(seq, 10)
	m.Header.Set(HeaderSeq, s)
	m.Header.Set(nats.MsgIdHdr, msgIDPrefix+s)
}

func (r *Recorder) publish(slot *[]byte) {
	if r.opts.Ready != nil {
		select {
		case <-r.opts.Ready:
		case <-r.hard.Done():
			r.gap("the recording's stream was never ready", r.hard.Err())
			return
		}
	}
	// The message is kept until it is stored, so it gets its own copy;
	// the slot is reused at once.
	m := &nats.Msg{Subject: r.subj, Data: append([]byte(nil), *slot...), Header: nats.Header{}}
	if seq, ok := acquire.BinMessageSeq(*slot); ok && r.bins {
		StampBin(m, r.opts.MsgIDPrefix, seq)
	} else {
		m.Header.Set(nats.MsgIdHdr, r.opts.MsgIDPrefix+r.kind+strconv.FormatUint(r.n, 10))
	}
	r.n++
	r.store.send(m)
}
