package replay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
)

// Range selects part of a session by time since its first bin's start
// (nanoseconds); a zero To means to the end.
type Range struct {
	From, To int64
}

// reorderDepth bounds how far out of seq order a recording may hold a bin.
// A bin whose acknowledgement was lost is sent again and stored after the
// bins sent meanwhile: at most the recorder's window (1024) of them.
const reorderDepth = 2048

// reorderBytes bounds the read-ahead's features in memory, for recordings
// of very many channels: the depth shrinks rather than the memory grow.
const reorderBytes = 64 << 20

// readAheadDepth is how many bins a source of channels may read ahead.
func readAheadDepth(channels int) int {
	return min(reorderDepth, max(16, reorderBytes/(4*max(1, channels))))
}

// Source streams the bins a session recorded in JetStream, in seq order,
// each once: the order the live run decoded them, which the stream's own
// order may not be (a bin sent again after a lost acknowledgement is
// stored after later ones). It implements pipeline.BinReader and ends
// (io.EOF) with the last bin that was recorded when it was opened.
type Source struct {
	session string
	info    bus.SessionInfo
	rng     Range
	r       *bus.Reader
	first   int64
	started bool
	done    bool

	pending   []*acquire.Bin // read ahead, in seq order
	spare     []*acquire.Bin // delivered, for reuse
	depth     int            // bins read ahead at most
	next      uint64         // the seq due next
	eof       bool           // the reader is exhausted
	delivered []uint64       // bit set of the seqs delivered

	reordered, late, duplicates uint64
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
	return &Source{session: session, info: info, rng: rng, r: r, depth: readAheadDepth(info.Shape.Channels)}, nil
}

// Info describes the recorded session.
func (s *Source) Info() bus.SessionInfo { return s.info }

// Shape implements pipeline.BinReader.
func (s *Source) Shape() acquire.Shape { return s.info.Shape }

// Bins is the number of bins the session held when it was opened.
func (s *Source) Bins() uint64 { return s.r.Len() }

// Reordering counts what the recording held out of order: bins stored
// after later ones and put back in place, bins stored too late for that
// (more than the read-ahead after their place: skipped; 2048 bins, fewer
// above 8192 channels), and bins stored more than once (delivered once).
type Reordering struct {
	Reordered  uint64 `json:"reordered,omitempty"`
	Late       uint64 `json:"late,omitempty"`
	Duplicates uint64 `json:"duplicates,omitempty"`
}

// Reordering reports what the source put back in order so far.
func (s *Source) Reordering() Reordering {
	return Reordering{Reordered: s.reordered, Late: s.late, Duplicates: s.duplicates}
}

// ReadBin implements pipeline.BinReader. A stored message that is not a
// valid bin is reported with its stream sequence and stops the replay: a
// replay that silently skipped it would not be the live run.
func (s *Source) ReadBin(ctx context.Context, b *acquire.Bin) error {
	for !s.done {
		if err := s.nextInOrder(ctx, b); err != nil {
			return err
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

// nextInOrder delivers the bin of the lowest seq read so far, once it is
// the one due or no later-stored bin can come before it: the read-ahead is
// full, or the recording is exhausted (a seq never recorded is a gap).
func (s *Source) nextInOrder(ctx context.Context, b *acquire.Bin) error {
	for !s.eof && (len(s.pending) == 0 || s.pending[0].Seq != s.next) && len(s.pending) < s.depth {
		if err := s.readAhead(ctx); err != nil {
			return err
		}
	}
	if len(s.pending) == 0 {
		return io.EOF
	}
	first := s.pending[0]
	// Shift rather than reslice, so the read-ahead keeps its array: it is
	// almost always a bin or none, and reslicing would allocate per bin.
	s.pending = slices.Delete(s.pending, 0, 1)
	b.CopyFrom(first)
	s.markDelivered(first.Seq)
	s.next = first.Seq + 1
	s.spare = append(s.spare, first)
	return nil
}

// readAhead reads one stored bin into pending, in seq order; a bin already
// delivered or pending is counted and dropped.
func (s *Source) readAhead(ctx context.Context) error {
	m, err := s.r.Next(ctx)
	if errors.Is(err, io.EOF) {
		s.eof = true
		return nil
	}
	if err != nil {
		return err
	}
	b := s.spareBin()
	if err := acquire.DecodeBinMessage(m.Data(), b); err != nil {
		return fmt.Errorf("replay %s: %s: %w", s.session, s.r.Where(m), err)
	}
	if len(b.Features) != s.info.Shape.Channels {
		return fmt.Errorf("replay %s: %s: bin %d has %d channels, the session records %d", s.session, s.r.Where(m), b.Seq, len(b.Features), s.info.Shape.Channels)
	}
	i, found := slices.BinarySearchFunc(s.pending, b.Seq, func(p *acquire.Bin, seq uint64) int { return cmp.Compare(p.Seq, seq) })
	switch {
	case found || b.Seq < s.next && s.wasDelivered(b.Seq):
		s.duplicates++
		s.spare = append(s.spare, b)
	case b.Seq < s.next:
		s.late++
		s.spare = append(s.spare, b)
	default:
		if i < len(s.pending) {
			s.reordered++
		}
		s.pending = slices.Insert(s.pending, i, b)
	}
	return nil
}

func (s *Source) markDelivered(seq uint64) {
	w := int(seq / 64)
	if w >= len(s.delivered) {
		s.delivered = slices.Grow(s.delivered, w+1-len(s.delivered))[:w+1]
	}
	s.delivered[w] |= 1 << (seq % 64)
}

func (s *Source) wasDelivered(seq uint64) bool {
	w := int(seq / 64)
	return w < len(s.delivered) && s.delivered[w]&(1<<(seq%64)) != 0
}

// spareBin returns a bin to decode into, reusing a delivered one.
func (s *Source) spareBin() *acquire.Bin {
	if n := len(s.spare); n > 0 {
		b := s.spare[n-1]
		s.spare = s.spare[:n-1]
		return b
	}
	return &acquire.Bin{}
}

// Close releases the consumer.
func (s *Source) Close() { s.r.Close() }
