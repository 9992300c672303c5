package replay

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
)

// Range selects part of a session by time since its first bin's start
// (nanoseconds); a zero To means to the end.
type Range struct {
	From, To int64
}

// Source streams the bins a session recorded in JetStream, in order. It
// implements pipeline.BinReader and ends (io.EOF) with the last bin that was
// recorded when it was opened.
type Source struct {
	session string
	info    bus.SessionInfo
	rng     Range
	r       *bus.Reader
	first   int64
	started bool
	done    bool
}

// Open prepares to replay the bins of session from the server js talks to.
func Open(ctx context.Context, js jetstream.JetStream, session string, rng Range) (*Source, error) {
	stream, info, err := bus.OpenSession(ctx, js, session)
	if err != nil {
		return nil, err
	}
	r, err := bus.ReadSubject(ctx, stream, bus.BinsSubject(session), 0)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", session, err)
	}
	return &Source{session: session, info: info, rng: rng, r: r}, nil
}

// Info describes the recorded session.
func (s *Source) Info() bus.SessionInfo { return s.info }

// Shape implements pipeline.BinReader.
func (s *Source) Shape() acquire.Shape { return s.info.Shape }

// Bins is the number of bins the session held when it was opened.
func (s *Source) Bins() uint64 { return s.r.Len() }

// ReadBin implements pipeline.BinReader. A stored message that is not a
// valid bin is reported with its stream sequence and stops the replay: a
// replay that silently skipped it would not be the live run.
func (s *Source) ReadBin(ctx context.Context, b *acquire.Bin) error {
	for !s.done {
		m, err := s.r.Next(ctx)
		if err != nil {
			return err
		}
		if err := acquire.DecodeBinMessage(m.Data(), b); err != nil {
			return fmt.Errorf("replay %s: %s: %w", s.session, s.r.Where(m), err)
		}
		if len(b.Features) != s.info.Shape.Channels {
			return fmt.Errorf("replay %s: %s: bin %d has %d channels, the session records %d", s.session, s.r.Where(m), b.Seq, len(b.Features), s.info.Shape.Channels)
		}
		if !s.started {
			s.first, s.started = b.Start, true
		}
		t := b.Start - s.first
		if t < s.rng.From {
			continue
		}
		if s.rng.To > 0 && t >= s.rng.To {
			s.done = true
			break
		}
		return nil
	}
	return io.EOF
}

// Close releases the consumer.
func (s *Source) Close() { s.r.Close() }
