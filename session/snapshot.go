package session

import (
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/encoder"
)

// snapshotter is a sink that checkpoints the decoder's state every few
// bins, so a process taking the session over resumes from it instead of
// from the start. It runs on the decoding goroutine, the only one that may
// read the decoder, and hands the encoded checkpoint to a recorder.
type snapshotter struct {
	l     *live
	every uint64
	seq   uint64
	model string
	fill  func([]byte) []byte
}

func newSnapshotter(l *live, every int) *snapshotter {
	s := &snapshotter{l: l, every: uint64(every)}
	s.fill = s.append // one method value for the whole session
	return s
}

func (s *snapshotter) append(dst []byte) []byte {
	st, ok := s.l.p.Decoder().(decoder.StateSaver)
	if !ok {
		return dst // a swapped-in decoder without checkpoints
	}
	return bus.AppendSnapshot(dst, s.seq, s.model, st)
}

// Consume implements pipeline.Sink.
func (s *snapshotter) Consume(in *decoder.Intent, b *encoder.Bin) {
	if (b.Seq+1)%s.every != 0 {
		return
	}
	s.seq, s.model = b.Seq, in.Model
	s.l.snap.RecordFunc(s.fill)
}
