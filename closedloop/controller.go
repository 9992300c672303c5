package closedloop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
)

// ControllerOptions configures a cursor controller.
type ControllerOptions struct {
	// Session names the subjects: intents are read from
	// bci.<session>.intent, cursor states published on bci.<session>.cursor.
	Session string
	// Task is the cursor task the controller runs.
	Task TaskOptions
	// BinWidth is the time one intent's velocity moves the cursor for
	// (the session's bin width; default 20 ms).
	BinWidth time.Duration
	// Pending bounds the intents waiting to be applied (default 65536);
	// beyond it NATS drops them and the controller counts a slow-consumer
	// error.
	Pending int
	Log     zerolog.Logger
}

// EnsureDefaults fills the zero fields of o.
func (o *ControllerOptions) EnsureDefaults() {
	o.Task.EnsureDefaults()
	if o.BinWidth == 0 {
		o.BinWidth = 20 * time.Millisecond
	}
	if o.Pending == 0 {
		o.Pending = 1 << 16
	}
}

// Validate reports settings that make no controller.
func (o *ControllerOptions) Validate() error {
	if o.BinWidth < 100*time.Microsecond || o.BinWidth > time.Minute {
		return fmt.Errorf("cursor controller: bin width %v (want 0.1 ms to 1 min)", o.BinWidth)
	}
	if o.Pending < 1 {
		return fmt.Errorf("cursor controller: %d pending intents", o.Pending)
	}
	if err := o.Task.Validate(); err != nil {
		return err
	}
	return bus.ValidateSession(o.Session)
}

// ControllerStats counts what a controller did.
type ControllerStats struct {
	// Applied counts intents applied; Moving those that were ok and moved
	// the cursor (stale and halted ones stop it).
	Applied uint64 `json:"intents_applied"`
	Moving  uint64 `json:"intents_moving"`
	// Ignored counts messages that were not usable intents (not JSON,
	// class intents, fewer than 2 values).
	Ignored   uint64 `json:"ignored"`
	Published uint64 `json:"cursor_states"`
	Errors    uint64 `json:"publish_errors"`
}

// Controller is a cursor controller as a prosthetic's would be: it
// subscribes to a session's intents, moves a cursor with them (velocity
// intents are integrated over a bin width, position intents set the
// position; stale and halted intents stop it), runs the cursor task, and
// publishes the cursor state after every intent. Each intent is one bin of
// the task's time, a watchdog's repeats included. It knows the decoder
// only through NATS.
type Controller struct {
	nc   *nats.Conn
	opts ControllerOptions
	sub  *nats.Subscription
	task *task

	stop context.CancelFunc
	wg   sync.WaitGroup
	err  error // of the goroutine, read after wg.Wait

	// owned by the controller's goroutine
	pos, vel [2]float64
	in       decoder.Intent
	state    CursorState
	body     []byte

	applied, moving, ignored, published, errs atomic.Uint64
	lastSeq                                   atomic.Int64 // -1 before the first intent
	notify                                    chan struct{}
	mu                                        sync.Mutex // guards task.done for Trials
}

// NewController prepares a controller; Start subscribes and runs it.
func NewController(nc *nats.Conn, opts ControllerOptions) (*Controller, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	c := &Controller{nc: nc, opts: opts, task: newTask(opts.Task, opts.BinWidth, [2]float64{}), notify: make(chan struct{}, 1)}
	c.lastSeq.Store(-1)
	return c, nil
}

// Start subscribes to the session's intents and applies them on a
// goroutine of its own until Close or until ctx ends.
func (c *Controller) Start(ctx context.Context) error {
	sub, err := c.nc.SubscribeSync(bus.IntentSubject(c.opts.Session))
	if err != nil {
		return fmt.Errorf("cursor controller: subscribe %s: %w", bus.IntentSubject(c.opts.Session), err)
	}
	if err := sub.SetPendingLimits(c.opts.Pending, -1); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("cursor controller: %w", err)
	}
	// The subscription must be known to the server before any intent is
	// published, or the first ones would be missed.
	if err := c.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("cursor controller: %w", err)
	}
	c.sub = sub
	ctx, c.stop = context.WithCancel(ctx)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.err = c.loop(ctx)
	}()
	return nil
}

func (c *Controller) loop(ctx context.Context) error {
	for {
		m, err := c.sub.NextMsgWithContext(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, nats.ErrSlowConsumer) {
				c.opts.Log.Error().Err(err).Msg("cursor controller fell behind: intents were dropped")
				continue
			}
			return fmt.Errorf("cursor controller: %w", err)
		}
		c.apply(m.Data)
	}
}

// apply moves the cursor with one intent message and publishes the state.
func (c *Controller) apply(data []byte) {
	c.in = decoder.Intent{Values: c.in.Values[:0]}
	if err := json.Unmarshal(data, &c.in); err != nil || c.in.Kind == decoder.KindClass || len(c.in.Values) < 2 {
		c.ignored.Add(1)
		return
	}
	dt := c.opts.BinWidth.Seconds()
	vx, vy := float64(c.in.Values[0]), float64(c.in.Values[1])
	ok := c.in.Status == decoder.StatusOK && !math.IsNaN(vx+vy) && !math.IsInf(vx+vy, 0)
	prev := c.pos
	switch {
	case !ok:
		c.vel = [2]float64{}
	case c.in.Kind == decoder.KindPosition:
		c.pos = c.task.clamp([2]float64{vx, vy})
	default:
		c.pos = c.task.clamp([2]float64{c.pos[0] + vx*dt, c.pos[1] + vy*dt})
	}
	if ok {
		c.vel = [2]float64{(c.pos[0] - prev[0]) / dt, (c.pos[1] - prev[1]) / dt}
		c.moving.Add(1)
	}
	target, radius := c.task.target()
	c.mu.Lock()
	phase, trial := c.task.step(c.pos)
	c.mu.Unlock()
	c.state = CursorState{Seq: c.in.Seq, Time: c.in.SampleTime, Pos: c.pos, Vel: c.vel, Target: target, Radius: radius,
		Trial: trial, State: phase, Status: c.in.Status}
	c.body = c.state.AppendJSON(c.body[:0])
	if err := c.nc.Publish(bus.CursorSubject(c.opts.Session), c.body); err != nil {
		if c.errs.Add(1) == 1 {
			c.opts.Log.Error().Err(err).Msg("publish cursor state failed; counting failures")
		}
	} else {
		c.published.Add(1)
	}
	c.applied.Add(1)
	c.lastSeq.Store(int64(c.in.Seq))
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// WaitApplied returns once the intent with the given seq (or a later one)
// has been applied, or with ctx's error.
func (c *Controller) WaitApplied(ctx context.Context, seq uint64) error {
	for c.lastSeq.Load() < int64(seq) {
		select {
		case <-c.notify:
		case <-ctx.Done():
			return fmt.Errorf("cursor controller: intent %d not applied (last %d): %w", seq, c.lastSeq.Load(), ctx.Err())
		}
	}
	return nil
}

// Close stops the controller, unsubscribes and flushes the cursor states
// it published, bounded by ctx (5 s when it has no deadline). Intents not
// yet applied are left.
func (c *Controller) Close(ctx context.Context) error {
	if c.stop == nil {
		return nil
	}
	c.stop()
	c.wg.Wait()
	c.stop = nil
	errs := []error{c.err}
	if err := c.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, fmt.Errorf("cursor controller: unsubscribe: %w", err))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if err := c.nc.FlushWithContext(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, fmt.Errorf("cursor controller: flush: %w", err))
	}
	return errors.Join(errs...)
}

// Trials returns the trials completed so far, in order.
func (c *Controller) Trials() []Trial {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Trial(nil), c.task.done...)
}

// Stats returns the controller's counters.
func (c *Controller) Stats() ControllerStats {
	return ControllerStats{Applied: c.applied.Load(), Moving: c.moving.Load(), Ignored: c.ignored.Load(),
		Published: c.published.Load(), Errors: c.errs.Load()}
}

// Report implements the pipeline's Reporter, for status messages.
func (c *Controller) Report() (string, any) { return "cursor", c.Stats() }
