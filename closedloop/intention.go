package closedloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/replay"
)

// Intention infers what a closed-loop user intended, from what a lab
// records (bins, intents, cursor states), never from the simulated user's
// own intention: ReFIT (Gilja et al. 2012) turns each bin's decoded
// velocity toward the target from where the cursor was, keeping its speed,
// and sets it to zero while the cursor was on the target.
type Intention struct {
	// Delay, when set, takes the cursor where it was this long before each
	// bin: where the user, with its visual feedback delay, saw it (the
	// refinement of FIT, Fan et al. 2014). Zero is ReFIT as published.
	Delay time.Duration
}

// Validate reports a delay that means nothing.
func (o Intention) Validate() error {
	if o.Delay < 0 || o.Delay > 10*time.Second {
		return fmt.Errorf("intention: delay %v (want 0 to 10 s)", o.Delay)
	}
	return nil
}

// Labels describes the labels, for the retrained model's provenance.
func (o Intention) Labels() string {
	s := "ReFIT intention (decoded velocity turned toward the target, zero on it)"
	if o.Delay > 0 {
		s += fmt.Sprintf(", cursor seen %v late", o.Delay)
	}
	return s
}

// Read reads a recorded closed-loop session as a training set whose
// targets (vel_x, vel_y) are the inferred intention. Bins whose intent was
// not ok, or whose intent or cursor states were not recorded, are left
// out. It fits replay.RetrainOptions.Read.
func (o Intention) Read(ctx context.Context, js jetstream.JetStream, session string) (*dataset.Set, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	intents, err := replay.RecordedIntents(ctx, js, session)
	if err != nil {
		return nil, err
	}
	states, err := RecordedCursor(ctx, js, session)
	if err != nil {
		return nil, err
	}
	if len(states) == 0 {
		return nil, fmt.Errorf("session %q recorded no cursor states on its cursor subject: not a closed-loop session", session)
	}
	src, err := replay.Open(ctx, js, session, replay.Range{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	sh := src.Shape()
	l := newLabeller(intents, states, uint64(o.Delay/sh.BinWidth))
	set := &dataset.Set{BinWidth: sh.BinWidth, FeatureNames: sh.ChannelNames, TargetNames: []string{"vel_x", "vel_y"}}
	var b acquire.Bin
	for {
		err := src.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("session %q: %w", session, err)
		}
		y, trial, ok := l.label(b.Seq)
		if !ok {
			continue
		}
		set.X = append(set.X, append([]float32(nil), b.Features...))
		set.Y = append(set.Y, []float32{float32(y[0]), float32(y[1])})
		set.Trial = append(set.Trial, trial)
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("session %q: no bin has an ok intent and cursor states to infer the intention from", session)
	}
	return set, nil
}

// labeller infers each bin's intention from the intents and cursor states
// of a session, by seq.
type labeller struct {
	intents map[uint64]*decoder.Intent
	states  map[uint64]*CursorState
	lag     uint64 // bins the user saw the cursor late
}

// newLabeller indexes intents and states by seq, keeping the first of each:
// the decoded intent and the state it produced, not a watchdog's repeat.
func newLabeller(intents []decoder.Intent, states []CursorState, lag uint64) *labeller {
	l := &labeller{intents: make(map[uint64]*decoder.Intent, len(intents)), states: make(map[uint64]*CursorState, len(states)), lag: lag}
	for i := range intents {
		if _, dup := l.intents[intents[i].Seq]; !dup {
			l.intents[intents[i].Seq] = &intents[i]
		}
	}
	for i := range states {
		if _, dup := l.states[states[i].Seq]; !dup {
			l.states[states[i].Seq] = &states[i]
		}
	}
	return l
}

// label is bin seq's inferred intention and trial. The cursor stood where
// the intent lag+1 bins before left it (the centre before the first), and
// the target is the one the intent was applied toward.
func (l *labeller) label(seq uint64) (v [2]float64, trial int, ok bool) {
	in, cur := l.intents[seq], l.states[seq]
	if in == nil || cur == nil || in.Status != decoder.StatusOK || len(in.Values) < 2 {
		return v, 0, false
	}
	var pos [2]float64
	if seq > l.lag {
		prev := l.states[seq-1-l.lag]
		if prev == nil {
			return v, 0, false
		}
		pos = prev.Pos
	}
	return Refit([2]float64{float64(in.Values[0]), float64(in.Values[1])}, pos, cur.Target, cur.Radius), cur.Trial, true
}

// Refit is ReFIT's intended velocity: the decoded velocity v turned to
// point from pos at the target, keeping its speed; zero when pos is on the
// target (within radius), where the user means to hold still.
func Refit(v, pos, target [2]float64, radius float64) [2]float64 {
	dx, dy := target[0]-pos[0], target[1]-pos[1]
	d := math.Hypot(dx, dy)
	if d <= radius || d == 0 {
		return [2]float64{}
	}
	s := math.Hypot(v[0], v[1]) / d
	return [2]float64{dx * s, dy * s}
}
