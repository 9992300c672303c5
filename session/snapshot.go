package session

import (
	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// snapshotter is an output that checkpoints the decoder's state every few
// bins, so a process taking the session over resumes from it instead of
// from the start. It runs on the decoding goroutine, the only one that may
// read the decoder, and hands the encoded checkpoint to a recorder.
type snapshotter struct {
	*bus.Recorder
	p     *pipeline.Pipeline
	every uint64
	seq   uint64
	model string
	fill  func([]byte) []byte
}

func newSnapshotter(p *pipeline.Pipeline, rec *bus.Recorder, every int) *snapshotter {
	s := &snapshotter{Recorder: rec, p: p, every: uint64(every)}
	s.fill = s.append // one method value for the whole session
	return s
}

func (s *snapshotter) append(dst []byte) []byte {
	st, ok := s.p.Decoder().(decoder.StateSaver)
	if !ok {
		return dst // a swapped-in decoder without checkpoints
	}
	return bus.AppendSnapshot(dst, s.seq, s.model, st)
}

// Consume implements pipeline.Sink.
func (s *snapshotter) Consume(in *decoder.Intent, b *acquire.Bin) {
	if (b.Seq+1)%s.every != 0 {
		return
	}
	s.seq, s.model = b.Seq, in.Model
	s.RecordFunc(s.fill)
}

// Start and Close are the recorder's.
var _ pipeline.Output = (*snapshotter)(nil)
