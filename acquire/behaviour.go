package acquire

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// BehaviourTable reads a CSV table of timestamped behaviour samples: a
// header whose first column is the time (time, timestamp or t, in seconds
// on the recording's clock: from its start for raw, SpikeGLX and EDF
// files) followed by one named column per value (vel_x, vel_y, ...), then
// one row per sample, in time order. It implements TargetSource.
type BehaviourTable struct {
	file
	name  string
	r     *csv.Reader
	names []string
	line  int
	last  int64
	rows  int
}

// maxBehaviourTime bounds a sample time (seconds): about 292 years of
// nanoseconds, so times cannot overflow.
const maxBehaviourTime = float64(math.MaxInt64/1e9) - 1

// OpenBehaviour opens a behaviour table file.
func OpenBehaviour(path string) (*BehaviourTable, error) {
	return openWith(path, "behaviour table", func(r io.Reader) (*BehaviourTable, error) { return NewBehaviour(r, path) })
}

// NewBehaviour reads a behaviour table from r; name is used in errors.
func NewBehaviour(r io.Reader, name string) (*BehaviourTable, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, with a clearer message
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: line 1: %w: cannot read the header: %v", name, ErrFormat, err)
	}
	switch strings.ToLower(strings.TrimSpace(header[0])) {
	case "time", "timestamp", "t":
	default:
		return nil, fmt.Errorf("%s: line 1: %w: the first column is %q, want the time in seconds (time, timestamp or t)", name, ErrFormat, header[0])
	}
	t := &BehaviourTable{name: name, r: cr, line: 1, last: math.MinInt64}
	if len(header) < 2 || len(header)-1 > MaxTargets {
		return nil, fmt.Errorf("%s: line 1: %w: %d value columns (want 1-%d)", name, ErrFormat, len(header)-1, MaxTargets)
	}
	seen := map[string]bool{}
	for i, h := range header[1:] {
		h = strings.TrimSpace(h)
		if h == "" || seen[h] {
			return nil, fmt.Errorf("%s: line 1 column %d: %w: empty or repeated column name %q", name, i+2, ErrFormat, h)
		}
		seen[h] = true
		t.names = append(t.names, h)
	}
	return t, nil
}

// Names implements TargetSource.
func (t *BehaviourTable) Names() []string { return t.names }

// ReadSample implements TargetSource. A malformed row is an error naming
// its line; times must increase.
func (t *BehaviourTable) ReadSample(ctx context.Context, v []float32) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	rec, err := t.r.Read()
	t.line++
	if errors.Is(err, io.EOF) {
		if t.rows == 0 {
			return 0, fmt.Errorf("%s: %w: no samples", t.name, ErrFormat)
		}
		return 0, io.EOF
	}
	if err != nil {
		return 0, fmt.Errorf("%s: line %d: %w: %v", t.name, t.line, ErrFormat, err)
	}
	if len(rec) != len(t.names)+1 {
		return 0, fmt.Errorf("%s: line %d: %w: %d columns, the header has %d", t.name, t.line, ErrFormat, len(rec), len(t.names)+1)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(rec[0]), 64)
	if err != nil || math.IsNaN(sec) || math.Abs(sec) > maxBehaviourTime {
		return 0, fmt.Errorf("%s: line %d: %w: time %q is not a number of seconds", t.name, t.line, ErrFormat, rec[0])
	}
	ns := int64(math.Round(sec * 1e9))
	if ns <= t.last {
		return 0, fmt.Errorf("%s: line %d: %w: time %v s does not follow the previous row's", t.name, t.line, ErrFormat, sec)
	}
	for i, s := range rec[1:] {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("%s: line %d column %d: %w: %q is not a finite number", t.name, t.line, i+2, ErrFormat, s)
		}
		v[i] = float32(x)
	}
	t.last = ns
	t.rows++
	return ns, nil
}
