package placement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
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
	next, sim, err := w.resume(ctx, s, model)
	if err != nil {
		return fmt.Errorf("resume %s: %w", s.Session, err)
	}
	if next > 0 {
		w.opts.Log.Info().Str("session", s.Session).Uint64("seq", next).Msg("taking over at seq")
	}
	_, err = session.Run(ctx, session.Options{
		Session: s.Session, Conn: w.nc,
		Source: acquire.PacedWallClock(sim, w.clock), Realtime: true,
		Model: model, Record: true, Append: true, Replicas: s.Replicas,
		MsgIDPrefix:   s.msgIDPrefix(),
		SnapshotEvery: s.SnapshotEvery,
		Process:       w.opts.ID, Takeover: next > 0,
		Outputs: w.opts.Outputs, Services: w.opts.Services,
		Log: w.opts.Log,
	})
	return err
}

// simulator returns the session's simulated array from bin seq on.
func (s Spec) simulator(seq uint64) (*acquire.Simulator, error) {
	sim, err := acquire.NewSimulator(acquire.SimConfig{Seed: s.Seed, PopulationSeed: s.PopulationSeed,
		Channels: s.Channels, BinWidth: time.Duration(s.BinWidthNS), StartTime: s.EpochNS})
	if err != nil {
		return nil, err
	}
	if err := sim.Skip(seq); err != nil {
		return nil, err
	}
	return sim, nil
}

// msgIDPrefix starts the message ids of the session's recorded bins, the
// same for every process that decodes it, so a bin recorded twice (by a
// new owner filling the recording, and late by the old one) is stored once.
func (s Spec) msgIDPrefix() string {
	return s.Session + ":" + strconv.FormatInt(s.EpochNS, 10) + ":"
}

// resume finds where the session stopped (the seq after its last published
// intent) and brings the decoder's state there: from the last checkpoint
// recorded before that point, then through the bins since. It returns that
// seq and the session's simulator, there.
func (w *Worker) resume(ctx context.Context, s Spec, model *decoder.Loaded) (uint64, *acquire.Simulator, error) {
	stream, next, err := lastIntent(ctx, w.js, s.Session)
	if err != nil {
		return 0, nil, err
	}
	if next == 0 {
		sim, err := s.simulator(0)
		return 0, sim, err
	}
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
	sim, err := s.simulator(from)
	if err != nil {
		return 0, nil, err
	}
	filled, err := w.catchUp(ctx, stream, s, sim, model, streamSeq, from, next)
	if err != nil {
		return 0, nil, fmt.Errorf("catch up on bins %d-%d: %w", from, next-1, err)
	}
	if filled > 0 {
		w.opts.Log.Info().Str("session", s.Session).Int("bins", filled).Msg("recorded the bins the previous owner had not")
	}
	return next, sim, nil
}

// lastIntent returns a session's stream and the seq after its last
// recorded intent: 0 for a session never decoded.
func lastIntent(ctx context.Context, js jetstream.JetStream, session string) (jetstream.Stream, uint64, error) {
	stream, err := js.Stream(ctx, bus.StreamName(session))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	last, err := stream.GetLastMsgForSubject(ctx, bus.IntentSubject(session))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return stream, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var in decoder.Intent
	if err := json.Unmarshal(last.Data, &in); err != nil {
		return nil, 0, fmt.Errorf("last recorded intent: %w", err)
	}
	return stream, in.Seq + 1, nil
}

// fillWindow is how far back a takeover records the bins the recording
// lacks: the recorder's window of unacknowledged bins, which a dead owner
// may have taken with it. Older gaps are the old owner's counted ones, and
// filled now they would be stored too far out of order to replay in place.
const fillWindow = 1024

// catchUp steps the decoder through bins [from, to), made by sim (at
// from): they are the spec's, the same whoever makes them. Those of the
// last fillWindow that the recording lacks (from stream sequence start on)
// it records: the previous owner decoded them, and published their
// intents, but died before their bins were acknowledged, or is still
// sending them. So the decoder's state is exact and the recording whole,
// and a bin the old owner still gets stored is stored once (same message
// id). A recording it cannot read or write costs the filling, not the
// catch-up. It returns how many bins it recorded.
func (w *Worker) catchUp(ctx context.Context, stream jetstream.Stream, s Spec, sim *acquire.Simulator, model *decoder.Loaded, start, from, to uint64) (int, error) {
	if from >= to {
		return 0, nil
	}
	log := w.opts.Log.With().Str("session", s.Session).Logger()
	fillFrom := max(from, to-min(to, fillWindow))
	have, err := recordedSeqs(ctx, stream, s.Session, start, fillFrom, to)
	fill := err == nil
	if !fill {
		log.Warn().Err(err).Msg("the recording could not be read: the bins it lacks are not recorded again")
	}
	out := make([]float32, model.Outputs())
	var b acquire.Bin
	filled := 0
	for seq := from; seq < to; seq++ {
		if err := sim.ReadBin(ctx, &b); err != nil {
			return filled, err
		}
		model.Step(b.Features, out)
		if !fill || seq < fillFrom || have[seq] {
			continue
		}
		if err := w.recordBin(ctx, s, &b); err != nil {
			log.Warn().Err(err).Msg("the recording keeps a gap")
			fill = false
			continue
		}
		filled++
	}
	return filled, nil
}

// recordedSeqs returns the seqs in [from, to) of the bins the recording
// holds from stream sequence start on.
func recordedSeqs(ctx context.Context, stream jetstream.Stream, name string, start, from, to uint64) (map[uint64]bool, error) {
	r, err := bus.ReadSubject(ctx, stream, bus.BinsSubject(name), start)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	have := map[uint64]bool{}
	for {
		m, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return have, nil
		}
		if err != nil {
			return nil, err
		}
		seq, ok := acquire.BinMessageSeq(m.Data())
		if !ok {
			return nil, fmt.Errorf("%s: not a bin", r.Where(m))
		}
		if seq >= from && seq < to {
			have[seq] = true
		}
	}
}

// recordBin records b as the session's recorder would have. Each bin gets
// a few seconds: a stream electing a leader must not hold a takeover long.
func (w *Worker) recordBin(ctx context.Context, s Spec, b *acquire.Bin) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m := nats.NewMsg(bus.BinsSubject(s.Session))
	m.Data = acquire.AppendBinMessage(nil, b)
	bus.StampBin(m, s.msgIDPrefix(), b.Seq)
	if _, err := w.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("record bin %d: %w", b.Seq, err)
	}
	return nil
}
