package closedloop

import (
	"context"
	"math"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
)

// CursorState is what the cursor controller publishes on
// bci.<session>.cursor after each intent it applies: what a screen would
// show (the cursor, the target) and where the trial stands. Positions are
// in cm and velocities in cm/s, the simulator's units. Dashboards draw it
// and the simulated user sees it.
type CursorState struct {
	// Seq is the bin seq of the intent applied.
	Seq uint64 `json:"seq"`
	// Time is the intent's sample time (Unix ns).
	Time   int64      `json:"time"`
	Pos    [2]float64 `json:"pos"`
	Vel    [2]float64 `json:"vel"`
	Target [2]float64 `json:"target"`
	Radius float64    `json:"radius"`
	Trial  int        `json:"trial"`
	State  Phase      `json:"state"`
	// Status is the status of the intent applied: the cursor moves on ok
	// intents only.
	Status decoder.Status `json:"status"`
}

// AppendJSON appends the state as one JSON object to dst, with the field
// names of encoding/json's output, without allocating beyond dst's growth.
func (s *CursorState) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, s.Seq, 10)
	dst = append(dst, `,"time":`...)
	dst = strconv.AppendInt(dst, s.Time, 10)
	dst = appendPair(append(dst, `,"pos":`...), s.Pos)
	dst = appendPair(append(dst, `,"vel":`...), s.Vel)
	dst = appendPair(append(dst, `,"target":`...), s.Target)
	dst = appendNumber(append(dst, `,"radius":`...), s.Radius)
	dst = append(dst, `,"trial":`...)
	dst = strconv.AppendInt(dst, int64(s.Trial), 10)
	dst = strconv.AppendQuote(append(dst, `,"state":`...), string(s.State))
	dst = strconv.AppendQuote(append(dst, `,"status":`...), string(s.Status))
	return append(dst, '}')
}

func appendPair(dst []byte, p [2]float64) []byte {
	dst = appendNumber(append(dst, '['), p[0])
	dst = appendNumber(append(dst, ','), p[1])
	return append(dst, ']')
}

// appendNumber writes v, or 0 for a value JSON cannot hold (never
// produced: positions are clamped to the workspace, velocities finite).
func appendNumber(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, '0')
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// RecordedCursor reads every cursor state a recorded session holds, in
// order.
func RecordedCursor(ctx context.Context, js jetstream.JetStream, session string) ([]CursorState, error) {
	return bus.ReadJSON[CursorState](ctx, js, session, bus.CursorSubject(session), "cursor states")
}
