package session

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
)

// WatchdogOptions configures the input watchdog of a live session.
type WatchdogOptions struct {
	// StaleAfter is how long input may be missing before intents turn
	// stale; HaltAfter, before they turn halted. Both carry zero values.
	StaleAfter, HaltAfter time.Duration
	// Period is how often a stale or halted intent is repeated while input
	// is missing (default: the bin width).
	Period time.Duration
}

// WatchdogStats counts what the watchdog published.
type WatchdogStats struct {
	Stale  uint64 `json:"stale"`
	Halted uint64 `json:"halted"`
}

// watchdog publishes stale, then halted, zero-valued intents when bins stop
// arriving, so a prosthetic controller never keeps acting on the last
// velocity it heard. It runs on its own goroutine and publishes straight to
// NATS (never through the decoding loop's ring, which is idle precisely
// when the watchdog speaks). A watchdog intent repeats the seq of the last
// decoded bin; its sample time is the time it was issued.
type watchdog struct {
	opts    WatchdogOptions
	nc      *nats.Conn
	subj    string
	outputs int
	log     zerolog.Logger

	// last bin seen, written by the decoding loop (as a sink)
	lastSeen atomic.Int64 // Unix ns
	lastSeq  atomic.Uint64
	model    func() string

	stale, halted atomic.Uint64
}

// Consume implements pipeline.Sink: it notes that input is alive.
func (w *watchdog) Consume(in *decoder.Intent, _ *encoder.Bin) {
	w.lastSeq.Store(in.Seq)
	w.lastSeen.Store(time.Now().UnixNano())
}

func (w *watchdog) stats() WatchdogStats {
	return WatchdogStats{Stale: w.stale.Load(), Halted: w.halted.Load()}
}

// run checks the input every period until ctx is done.
func (w *watchdog) run(ctx context.Context) {
	t := time.NewTicker(w.opts.Period)
	defer t.Stop()
	w.lastSeen.Store(time.Now().UnixNano())
	var state decoder.Status = decoder.StatusOK
	in := decoder.Intent{Kind: decoder.KindVelocity, Values: make([]float32, w.outputs)}
	msg := nats.Msg{Subject: w.subj, Header: nats.Header{}}
	var body []byte
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			quiet := now.Sub(time.Unix(0, w.lastSeen.Load()))
			next := decoder.StatusOK
			switch {
			case quiet >= w.opts.HaltAfter:
				next = decoder.StatusHalted
			case quiet >= w.opts.StaleAfter:
				next = decoder.StatusStale
			}
			if next != state {
				ev := w.log.Warn()
				if next == decoder.StatusOK {
					ev = w.log.Info()
				}
				ev.Str("status", string(next)).Dur("input_quiet", quiet).Msg("input watchdog")
				state = next
			}
			if next == decoder.StatusOK {
				continue
			}
			in.Seq, in.SampleTime, in.DecodeTime = w.lastSeq.Load(), now.UnixNano(), now.UnixNano()
			in.Status, in.Model = next, w.model()
			body = in.AppendJSON(body[:0])
			msg.Data = body
			msg.Header[bus.HeaderSeq] = []string{strconv.FormatUint(in.Seq, 10)}
			msg.Header[bus.HeaderSampleTime] = []string{strconv.FormatInt(in.SampleTime, 10)}
			if err := w.nc.PublishMsg(&msg); err != nil {
				w.log.Error().Err(err).Msg("watchdog could not publish")
				continue
			}
			if next == decoder.StatusStale {
				w.stale.Add(1)
			} else {
				w.halted.Add(1)
			}
		}
	}
}
