package acquire

import (
	"context"
	"fmt"
)

// Looped replays the first frames of a source forever, with increasing seq
// and time, copying each into the caller's buffer as a source would: a
// benchmark then measures what reads it, not what made the frames.
type Looped struct {
	info   Info
	frames []Frame
	seq    uint64
}

// Loop reads n frames from src and returns a source that replays them.
func Loop(ctx context.Context, src Source, n int) (*Looped, error) {
	l := &Looped{info: src.Info(), frames: make([]Frame, n)}
	for i := range l.frames {
		if err := src.ReadFrame(ctx, &l.frames[i]); err != nil {
			return nil, fmt.Errorf("loop: frame %d: %w", i, err)
		}
	}
	return l, nil
}

// Info implements Source.
func (l *Looped) Info() Info { return l.info }

// Frames is the number of frames read so far.
func (l *Looped) Frames() uint64 { return l.seq }

// ReadFrame implements Source; it never ends.
func (l *Looped) ReadFrame(_ context.Context, f *Frame) error {
	src := &l.frames[l.seq%uint64(len(l.frames))]
	samples := uint64(src.Samples())
	f.Seq, f.Rate, f.Channels = l.seq, src.Rate, src.Channels
	f.Time = int64(float64(l.seq*samples) / src.Rate * 1e9)
	f.Data = append(f.Data[:0], src.Data...)
	l.seq++
	return nil
}
