package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bci-decode/bci-decode/acquire"
)

// IngestWait bounds the wait for a bridge's first frame.
const IngestWait = 10 * time.Second

func init() {
	// nats (or nats:SESSION) reads the raw frames a DAQ bridge publishes
	// on bci.<session>.raw, through the session's own connection.
	acquire.RegisterScheme("nats", func(ctx context.Context, arg string, p *acquire.Params) (acquire.Opened, error) {
		nc, ok := acquire.Service[*nats.Conn](p)
		if !ok {
			return acquire.Opened{}, errors.New("nats source: no NATS connection")
		}
		session := p.Session
		if arg != "" {
			session = arg
		}
		src, err := NewRawSource(ctx, nc, session, 0, IngestWait)
		if err != nil {
			return acquire.Opened{}, err
		}
		return acquire.Opened{Frames: src, Live: true, Close: src.Close}, nil
	})
}

// HeaderEnd on a message of bci.<session>.raw ends the stream: a bridge
// sends it when its recording stops.
const HeaderEnd = "Bci-End"

// RawSource ingests raw frames that a DAQ bridge publishes on
// bci.<session>.raw (frame messages, see acquire.AppendFrameMessage) and
// implements acquire.Source. Frames wait in a bounded queue; if the decoder
// falls that far behind, NATS drops them and the loss is counted (Dropped),
// never waited for. A frame of another shape than the first is an error;
// gaps in frame seq are counted (Missing).
type RawSource struct {
	sub     *nats.Subscription
	msgs    chan *nats.Msg
	info    acquire.Info
	pending *acquire.Frame // the first frame, read to learn the shape
	next    uint64
	started bool
	missing atomic.Uint64
	bad     atomic.Uint64
}

// ErrRawShape is returned when an ingested frame changes shape.
var ErrRawShape = errors.New("raw frame shape changed")

// NewRawSource subscribes to session's raw frames and waits, up to
// firstWait, for the first frame to learn the stream's channels and rate.
func NewRawSource(ctx context.Context, nc *nats.Conn, session string, queue int, firstWait time.Duration) (*RawSource, error) {
	if err := ValidateSession(session); err != nil {
		return nil, err
	}
	if queue <= 0 {
		queue = 1024
	}
	r := &RawSource{msgs: make(chan *nats.Msg, queue)}
	sub, err := nc.ChanSubscribe(RawSubject(session), r.msgs)
	if err != nil {
		return nil, fmt.Errorf("raw source %s: %w", session, err)
	}
	r.sub = sub
	wait, cancel := context.WithTimeout(ctx, firstWait)
	defer cancel()
	var f acquire.Frame
	if err := r.receive(wait, &f); err != nil {
		sub.Unsubscribe()
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("raw source %s: no frame on %s within %v", session, RawSubject(session), firstWait)
		}
		return nil, fmt.Errorf("raw source %s: %w", session, err)
	}
	r.info = acquire.Info{Channels: f.Channels, Rate: f.Rate, Units: "uV"}
	r.pending = &f
	return r, nil
}

// receive takes the next valid frame message into f. Messages that are not
// frames are counted and skipped: one bad message must not stop a live
// decoder.
func (r *RawSource) receive(ctx context.Context, f *acquire.Frame) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-r.msgs:
			if m.Header.Get(HeaderEnd) != "" {
				return io.EOF
			}
			if err := acquire.DecodeFrameMessage(m.Data, f); err != nil {
				r.bad.Add(1)
				continue
			}
			return nil
		}
	}
}

// Info implements acquire.Source.
func (r *RawSource) Info() acquire.Info { return r.info }

// ReadFrame implements acquire.Source; it blocks until a frame arrives, the
// bridge ends the stream (io.EOF) or the context ends.
func (r *RawSource) ReadFrame(ctx context.Context, f *acquire.Frame) error {
	if r.pending != nil {
		f.Seq, f.Time, f.Rate, f.Channels = r.pending.Seq, r.pending.Time, r.pending.Rate, r.pending.Channels
		f.Data = append(f.Data[:0], r.pending.Data...)
		r.pending = nil
	} else if err := r.receive(ctx, f); err != nil {
		return err
	}
	if f.Channels != r.info.Channels || f.Rate != r.info.Rate {
		return fmt.Errorf("%w: frame %d has %d channels at %v Hz, the stream %d at %v Hz", ErrRawShape, f.Seq, f.Channels, f.Rate, r.info.Channels, r.info.Rate)
	}
	if r.started && f.Seq > r.next {
		r.missing.Add(f.Seq - r.next)
	}
	r.started, r.next = true, f.Seq+1
	return nil
}

// Dropped counts frames NATS dropped because the decoder fell behind.
func (r *RawSource) Dropped() uint64 {
	n, _ := r.sub.Dropped()
	return uint64(max(n, 0))
}

// Missing counts frames absent from the seq sequence: lost before NATS, or
// dropped here.
func (r *RawSource) Missing() uint64 { return r.missing.Load() }

// Bad counts messages that were not valid frames.
func (r *RawSource) Bad() uint64 { return r.bad.Load() }

// RawSourceStats counts what the ingest lost.
type RawSourceStats struct {
	Missing uint64 `json:"frames_missing"`
	Dropped uint64 `json:"frames_dropped"`
	Bad     uint64 `json:"bad_messages"`
}

// Report implements pipeline.Reporter.
func (r *RawSource) Report() (string, any) {
	return "nats", RawSourceStats{Missing: r.Missing(), Dropped: r.Dropped(), Bad: r.Bad()}
}

// Close unsubscribes.
func (r *RawSource) Close() error { return r.sub.Unsubscribe() }
