package replay

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/encoder"
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
	cons    jetstream.Consumer
	iter    jetstream.MessagesContext
	total   uint64 // bins in the stream when opened
	read    uint64
	first   int64
	started bool
}

// Open prepares to replay the bins of session from the server js talks to.
func Open(ctx context.Context, js jetstream.JetStream, session string, rng Range) (*Source, error) {
	stream, info, err := bus.OpenSession(ctx, js, session)
	if err != nil {
		return nil, err
	}
	subj := bus.BinsSubject(session)
	si, err := stream.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", session, err)
	}
	s := &Source{session: session, info: info, rng: rng, total: si.State.Subjects[subj]}
	if s.total == 0 {
		return s, nil
	}
	s.cons, err = stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}})
	if err != nil {
		return nil, fmt.Errorf("replay %s: consumer: %w", session, err)
	}
	s.iter, err = s.cons.Messages(jetstream.PullMaxMessages(4096))
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", session, err)
	}
	return s, nil
}

// Info describes the recorded session.
func (s *Source) Info() bus.SessionInfo { return s.info }

// Bins is the number of bins the session held when it was opened.
func (s *Source) Bins() uint64 { return s.total }

// ReadBin implements pipeline.BinReader. A stored message that is not a
// valid bin is reported with its stream sequence and stops the replay: a
// replay that silently skipped it would not be the live run.
func (s *Source) ReadBin(ctx context.Context, b *encoder.Bin) error {
	for {
		if s.read >= s.total {
			return io.EOF
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := s.iter.Next(jetstream.NextContext(ctx))
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			return fmt.Errorf("replay %s: read bin %d of %d: %w", s.session, s.read, s.total, err)
		}
		s.read++
		if err := encoder.DecodeBinMessage(m.Data(), b); err != nil {
			meta, _ := m.Metadata()
			var seq uint64
			if meta != nil {
				seq = meta.Sequence.Stream
			}
			return fmt.Errorf("replay %s: stream %s message %d: %w", s.session, bus.StreamName(s.session), seq, err)
		}
		if len(b.Features) != s.info.Channels {
			return fmt.Errorf("replay %s: bin %d has %d channels, the session records %d", s.session, b.Seq, len(b.Features), s.info.Channels)
		}
		if !s.started {
			s.first, s.started = b.Start, true
		}
		t := b.Start - s.first
		if t < s.rng.From {
			continue
		}
		if s.rng.To > 0 && t >= s.rng.To {
			s.read = s.total
			return io.EOF
		}
		return nil
	}
}

// Close releases the consumer.
func (s *Source) Close() {
	if s.iter != nil {
		s.iter.Stop()
	}
}
