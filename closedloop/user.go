package closedloop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
)

// UserOptions configures the simulated user. Zero fields take the defaults
// of EnsureDefaults.
type UserOptions struct {
	// Session names the cursor subject the user watches.
	Session string
	// Population is the array of neurons the user drives (required): the
	// simulator's cosine-tuned population, shared with the calibration
	// block so the decoder meets the neurons it was fit on.
	Population *acquire.Population
	// BinWidth is the bin width of the population's simulation (default
	// 20 ms).
	BinWidth time.Duration
	// Seed makes the spikes (and the population's drift) reproducible.
	Seed uint64
	// Delay is the visual feedback delay: the user intends from the cursor
	// as it was this long before the bin it fires (default 120 ms;
	// negative: none).
	Delay time.Duration
	// Gain and MaxSpeed shape the intended speed, Gain × distance to the
	// target capped at MaxSpeed: fast when far, slowing near the target
	// (defaults 5 /s and 25 cm/s).
	Gain, MaxSpeed float64
	// Trials ends the stream once the user has seen that many trials end
	// (0: never).
	Trials int
	// StartTime is the Start of bin 0 (ns).
	StartTime int64
	// Stall bounds the wait for a cursor state (default 10 s): a cursor
	// controller that stopped answering is an error, not a hang.
	Stall time.Duration
}

// EnsureDefaults fills the zero fields of o.
func (o *UserOptions) EnsureDefaults() {
	if o.BinWidth == 0 {
		o.BinWidth = 20 * time.Millisecond
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Delay == 0 {
		o.Delay = 120 * time.Millisecond
	}
	if o.Gain == 0 {
		o.Gain = 5
	}
	if o.MaxSpeed == 0 {
		o.MaxSpeed = 25
	}
	if o.Stall == 0 {
		o.Stall = 10 * time.Second
	}
}

// Validate reports settings that make no user.
func (o *UserOptions) Validate() error {
	switch {
	case o.Population == nil:
		return errors.New("simulated user: a population is required")
	case o.BinWidth < 100*time.Microsecond || o.BinWidth > time.Minute:
		return fmt.Errorf("simulated user: bin width %v (want 0.1 ms to 1 min)", o.BinWidth)
	case o.Delay > 10*time.Second:
		return fmt.Errorf("simulated user: delay %v (want at most 10 s)", o.Delay)
	case !(o.Gain > 0 && o.Gain <= 1000):
		return fmt.Errorf("simulated user: gain %v /s (want more than 0, at most 1000)", o.Gain)
	case !(o.MaxSpeed > 0 && o.MaxSpeed <= 1000):
		return fmt.Errorf("simulated user: max speed %v cm/s (want more than 0, at most 1000)", o.MaxSpeed)
	case o.Trials < 0:
		return fmt.Errorf("simulated user: %d trials", o.Trials)
	case o.Stall <= 0:
		return fmt.Errorf("simulated user: stall timeout %v", o.Stall)
	}
	return bus.ValidateSession(o.Session)
}

// User is the simulated BCI user, a bin source for the decoder. For each
// bin it looks at the cursor as it was Delay before the bin (states read
// from bci.<session>.cursor), intends a velocity toward the target from
// there, and its population fires for that velocity. It reads the state it
// needs before producing the bin and never looks at a later one, so the
// bins do not depend on how fast the loop runs. Each bin's targets are the
// velocity the user intended (vel_x, vel_y): the ground truth a decoder
// scored live is compared with. It is read by one goroutine (the
// pipeline's).
type User struct {
	opts  UserOptions
	sub   *nats.Subscription
	rng   *rand.Rand
	lag   uint64 // bins between the state a bin sees and the bin before it
	shape acquire.Shape

	seq    uint64
	states []CursorState // ring by seq
	valid  []bool
	seen   int64 // highest seq received; -1 before any
	viewed int64 // seq of view; -1 before any
	view   CursorState
	ended  int // trials the user has seen end
	msg    CursorState
}

// NewUser subscribes to the session's cursor states; Close unsubscribes.
func NewUser(nc *nats.Conn, opts UserOptions) (*User, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	sub, err := nc.SubscribeSync(bus.CursorSubject(opts.Session))
	if err != nil {
		return nil, fmt.Errorf("simulated user: subscribe %s: %w", bus.CursorSubject(opts.Session), err)
	}
	if err := nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("simulated user: %w", err)
	}
	lag := uint64(max(opts.Delay, 0) / opts.BinWidth)
	ring := int(max(64, 2*(lag+2)))
	u := &User{opts: opts, sub: sub, rng: rand.New(rand.NewPCG(opts.Seed, 0x75736572)), lag: lag,
		states: make([]CursorState, ring), valid: make([]bool, ring), seen: -1, viewed: -1}
	u.shape = acquire.Shape{Channels: opts.Population.Channels(), BinWidth: opts.BinWidth,
		ChannelNames: opts.Population.ChannelNames(), Targets: []string{"vel_x", "vel_y"}}
	return u, nil
}

// Shape implements acquire.BinSource.
func (u *User) Shape() acquire.Shape { return u.shape }

// Close unsubscribes.
func (u *User) Close() error {
	if err := u.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("simulated user: unsubscribe: %w", err)
	}
	return nil
}

// ReadBin implements acquire.BinSource. Bin j sees the cursor state of
// intent j-1-Delay/BinWidth (the cursor as it stood at the start of bin j,
// Delay ago) and waits for it; before any state is visible the user rests.
// It returns io.EOF once the user has seen Trials trials end.
func (u *User) ReadBin(ctx context.Context, b *acquire.Bin) error {
	j := u.seq
	if j >= u.lag+1 {
		need := int64(j - u.lag - 1)
		if err := u.await(ctx, need); err != nil {
			return err
		}
		u.look(need)
	}
	if u.opts.Trials > 0 && u.ended >= u.opts.Trials {
		return io.EOF
	}
	vx, vy := u.intend()
	w := int64(u.opts.BinWidth)
	b.Seq, b.Start = j, u.opts.StartTime+int64(j)*w
	b.End, b.Trial = b.Start+w, -1
	if u.viewed >= 0 {
		b.Trial = u.view.Trial
	}
	b.Features = resize(b.Features, u.shape.Channels)
	b.Target = resize(b.Target, 2)
	b.Target[0], b.Target[1] = float32(vx), float32(vy)
	u.opts.Population.Fire(u.rng, vx, vy, b.Features)
	u.seq++
	return nil
}

// await reads cursor states until one with seq need or later has come. It
// waits in slices of at most 100 ms, so ctx ends the wait within that.
func (u *User) await(ctx context.Context, need int64) error {
	deadline := time.Now().Add(u.opts.Stall)
	for u.seen < need {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := u.sub.NextMsg(min(time.Until(deadline), 100*time.Millisecond))
		switch {
		case errors.Is(err, nats.ErrTimeout):
			if time.Now().After(deadline) {
				return fmt.Errorf("simulated user: no cursor state for intent %d on %s within %v (last %d): is the cursor controller running?",
					need, bus.CursorSubject(u.opts.Session), u.opts.Stall, u.seen)
			}
			continue
		case err != nil:
			return fmt.Errorf("simulated user: read cursor: %w", err)
		}
		u.msg = CursorState{}
		if err := json.Unmarshal(m.Data, &u.msg); err != nil {
			return fmt.Errorf("simulated user: cursor message is not a cursor state: %w", err)
		}
		if int64(u.msg.Seq) <= u.viewed {
			continue // a watchdog's repeat of a state already seen
		}
		k := int(u.msg.Seq % uint64(len(u.states)))
		u.states[k], u.valid[k] = u.msg, true
		u.seen = max(u.seen, int64(u.msg.Seq))
	}
	return nil
}

// look moves the view forward to the latest state with seq at most need,
// counting the trials that ended on the way.
func (u *User) look(need int64) {
	for s := u.viewed + 1; s <= need; s++ {
		k := int(uint64(s) % uint64(len(u.states)))
		if !u.valid[k] || u.states[k].Seq != uint64(s) {
			continue // the intent was lost: keep the older view
		}
		u.view = u.states[k]
		u.valid[k] = false
		if u.view.State.ended() {
			u.ended++
		}
	}
	u.viewed = need
}

// intend is the velocity the user intends from its view: toward the target
// at Gain × distance, at most MaxSpeed.
func (u *User) intend() (vx, vy float64) {
	if u.viewed < 0 {
		return 0, 0
	}
	dx, dy := u.view.Target[0]-u.view.Pos[0], u.view.Target[1]-u.view.Pos[1]
	d := math.Hypot(dx, dy)
	if d < 1e-9 {
		return 0, 0
	}
	s := math.Min(u.opts.Gain*d, u.opts.MaxSpeed) / d
	return dx * s, dy * s
}

func resize(p []float32, n int) []float32 {
	if cap(p) < n {
		return make([]float32, n)
	}
	return p[:n]
}
