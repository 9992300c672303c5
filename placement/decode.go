package placement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/session"
)

// decode runs one session from where its previous owner, if any, stopped.
func (w *Worker) decode(ctx context.Context, s Spec) error {
	models, err := bus.OpenModels(ctx, w.js, s.Replicas)
	if err != nil {
		return err
	}
	model, err := models.Get(ctx, s.Model)
	if err != nil {
		return err
	}
	next, err := w.resume(ctx, s, model)
	if err != nil {
		return fmt.Errorf("resume %s: %w", s.Session, err)
	}
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: s.Seed, PopulationSeed: s.PopulationSeed,
		Channels: s.Channels, BinWidth: time.Duration(s.BinWidthNS), StartTime: s.EpochNS})
	if err != nil {
		return err
	}
	if err := sim.Skip(next); err != nil {
		return err
	}
	if next > 0 {
		w.opts.Log.Info().Str("session", s.Session).Uint64("seq", next).Msg("taking over at seq")
	}
	_, err = session.Run(ctx, session.Options{
		Session: s.Session, Conn: w.nc,
		Source: acquire.PacedWallClock(sim, w.clock), Realtime: true,
		Model: model, Record: true, Append: true, Replicas: s.Replicas,
		MsgIDPrefix:   s.Session + ":" + strconv.FormatInt(s.EpochNS, 10) + ":",
		SnapshotEvery: s.SnapshotEvery,
		Process:       w.opts.ID, Takeover: next > 0,
		Outputs: w.opts.Outputs, Services: w.opts.Services,
		Log: w.opts.Log,
	})
	return err
}

// resume finds where the session stopped (the seq after its last published
// intent) and brings the decoder's state there: from the last checkpoint
// recorded before that point, then through the bins recorded since.
func (w *Worker) resume(ctx context.Context, s Spec, model *decoder.Loaded) (uint64, error) {
	stream, err := w.js.Stream(ctx, bus.StreamName(s.Session))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	last, err := stream.GetLastMsgForSubject(ctx, bus.IntentSubject(s.Session))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var in decoder.Intent
	if err := json.Unmarshal(last.Data, &in); err != nil {
		return 0, fmt.Errorf("last recorded intent: %w", err)
	}
	next := in.Seq + 1
	from, streamSeq := uint64(0), uint64(1)
	if m, err := stream.GetLastMsgForSubject(ctx, bus.SnapshotSubject(s.Session)); err == nil {
		snap, err := bus.DecodeSnapshot(m.Data)
		st, ok := model.Decoder.(decoder.StateSaver)
		if err == nil && ok && snap.Model == model.Hash && snap.Seq < next {
			if err := st.RestoreState(snap.State); err == nil {
				// The bins after the checkpoint were recorded after it,
				// so reading starts at the checkpoint's place in the
				// stream: the catch-up does not grow with the session.
				from, streamSeq = snap.Seq+1, m.Sequence
			}
		}
	}
	if from == 0 {
		model.Reset()
	}
	if from < next {
		w.awaitBins(ctx, stream, s.Session, next, in.Process)
	}
	if err := catchUp(ctx, stream, s.Session, model, streamSeq, from, next); err != nil {
		if ctx.Err() != nil {
			return 0, err
		}
		// Decoding on from an approximate state beats not decoding.
		w.opts.Log.Warn().Err(err).Str("session", s.Session).Msg("decoder state only partly restored")
	}
	return next, nil
}

// alive reports whether the session's previous owner may still be
// recording: it is this worker (an earlier run of the session, whose lease
// lapsed under load), or its heartbeat has not expired. A dead owner's
// unacknowledged bins are lost; waiting for them would only lengthen the
// outage.
func (w *Worker) alive(ctx context.Context, owner string) bool {
	if owner == w.opts.ID {
		return true
	}
	if owner == "" {
		return false
	}
	_, err := w.b.Workers.Get(ctx, owner)
	return err == nil
}

// awaitBins waits, for a lease's life at most and while the previous
// owner is alive, until the recording holds the bin of the last recorded
// intent. Intents reach the stream as they are published, bins through
// the owner's acknowledged recorder, which may still be sending the last
// few when the takeover starts (a process that lost its lease under load
// and stops, say): the catch-up needs them for an exact state.
func (w *Worker) awaitBins(ctx context.Context, stream jetstream.Stream, name string, next uint64, owner string) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.LeaseTTL)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var b acquire.Bin
	for {
		m, err := stream.GetLastMsgForSubject(ctx, bus.BinsSubject(name))
		if err == nil && acquire.DecodeBinMessage(m.Data, &b) == nil && b.Seq+1 >= next || !w.alive(ctx, owner) {
			return
		}
		select {
		case <-ctx.Done():
			return // catchUp says what is missing
		case <-t.C:
		}
	}
}

// catchUp steps the decoder through the recorded bins with seq in
// [from, to), reading the stream from stream sequence start on and
// publishing nothing.
func catchUp(ctx context.Context, stream jetstream.Stream, name string, model *decoder.Loaded, start, from, to uint64) error {
	if from >= to {
		return nil
	}
	r, err := bus.ReadSubject(ctx, stream, bus.BinsSubject(name), start)
	if err != nil {
		return err
	}
	defer r.Close()
	out := make([]float32, model.Outputs())
	var b acquire.Bin
	for want := from; want < to; {
		m, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("the recording lacks bins %d-%d to catch up on", want, to-1)
		}
		if err != nil {
			return err
		}
		if err := acquire.DecodeBinMessage(m.Data(), &b); err != nil {
			return fmt.Errorf("%s: %w", r.Where(m), err)
		}
		if b.Seq == want {
			model.Step(b.Features, out)
			want++
		}
	}
	return nil
}
