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
	"time"
)

func init() {
	RegisterFormat("csv", []string{".csv"}, func(_ context.Context, path string, p *Params) (Opened, error) {
		return binned(OpenTable(path, TableOptions{Rebin: p.Rebin}))
	})
}

// TableOptions configures a binned table source. Zero fields take defaults.
type TableOptions struct {
	// BinWidth is the width of one row; 0 infers it from a timestamp column
	// (seconds), or takes DefaultTableBin when there is none.
	BinWidth time.Duration
	// Rebin merges this many consecutive rows of one trial into one bin:
	// counts are summed, targets averaged; a trial's last rows that do not
	// fill a bin are dropped. 0 or 1 keeps rows as they are.
	Rebin int
	// KeepRates keeps rate_* columns as rates (spikes/s) instead of
	// converting them to counts per row (rate × width).
	KeepRates bool
}

// DefaultTableBin is the row width of tables without a timestamp column
// (the 100 ms bins of the chewie_m1 dataset).
const DefaultTableBin = 100 * time.Millisecond

// Feature and target columns of binned tables.
var (
	featurePrefixes = []string{"unit_", "rate_"}
	// canonicalTargets maps column names to target names; the canonical
	// kinematics come first, in this order.
	canonicalTargets = []struct{ col, name string }{
		{"vel_x", "vel_x"}, {"hand_vel_x", "vel_x"},
		{"vel_y", "vel_y"}, {"hand_vel_y", "vel_y"},
		{"pos_x", "pos_x"}, {"hand_pos_x", "pos_x"},
		{"pos_y", "pos_y"}, {"hand_pos_y", "pos_y"},
	}
	// bookkeeping columns are neither features nor targets.
	bookkeeping = map[string]bool{"timestamp": true, "trial": true, "bin": true}
)

// Table streams a CSV table of binned spike counts (or rates) with
// behavioural columns, such as the MC_Maze trials (1 ms rows, unit_*
// counts, hand_vel_*) and the chewie_m1 session (100 ms rows, trial column,
// rate_* rates, vel_*). It implements BinSource; rows are read one at a
// time, so tables of any length stream in constant memory.
type Table struct {
	file
	name  string
	r     *csv.Reader
	opts  TableOptions
	shape Shape

	featCols, targCols []int
	trialCol, timeCol  int
	rateScale          float32 // 1 for counts, the row width in s for rates
	rates              bool

	header   []string
	cols     int
	width    time.Duration // of one row
	rows     int64         // rows read
	line     int           // line number of the last row read
	seq      uint64
	buffered []tableRow // rows read ahead, to be returned first
	first    tableRow   // first row of the bin being built
	row      tableRow   // scratch for further rows
}

type tableRow struct {
	trial int
	feat  []float32
	targ  []float32
	line  int
	index int64   // row number from 0
	time  float64 // timestamp column (s), when there is one
}

func (t *Table) newRow() tableRow {
	return tableRow{feat: make([]float32, len(t.featCols)), targ: make([]float32, len(t.targCols))}
}

func (r *tableRow) copyFrom(o *tableRow) {
	r.trial, r.line, r.index, r.time = o.trial, o.line, o.index, o.time
	copy(r.feat, o.feat)
	copy(r.targ, o.targ)
}

// readRow parses the next CSV record into r.
func (t *Table) readRow(r *tableRow) error {
	rec, err := t.r.Read()
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	t.line++
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s: line %d: %w: %v", t.name, pe.Line, ErrFormat, pe.Err)
		}
		return fmt.Errorf("%s: line %d: %w", t.name, t.line, err)
	}
	if len(rec) != t.cols {
		return fmt.Errorf("%s: line %d: %w: %d columns, the header has %d", t.name, t.line, ErrFormat, len(rec), t.cols)
	}
	r.line, r.index = t.line, t.rows
	t.rows++
	for i, c := range t.featCols {
		v, err := t.parseCell(rec, c, t.line)
		if err != nil {
			return err
		}
		r.feat[i] = float32(v)
	}
	for i, c := range t.targCols {
		v, err := t.parseCell(rec, c, t.line)
		if err != nil {
			return err
		}
		r.targ[i] = float32(v)
	}
	r.trial = 0
	if t.trialCol >= 0 {
		v, err := t.parseCell(rec, t.trialCol, t.line)
		if err != nil {
			return err
		}
		if v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
			return fmt.Errorf("%s: line %d column %d (trial): %w: %v is not a trial number", t.name, t.line, t.trialCol+1, ErrFormat, v)
		}
		r.trial = int(v)
	}
	if t.timeCol >= 0 {
		v, err := t.parseCell(rec, t.timeCol, t.line)
		if err != nil {
			return err
		}
		r.time = v
	}
	return nil
}

// next returns the next row, read-ahead rows first.
func (t *Table) next(r *tableRow) error {
	if len(t.buffered) > 0 {
		r.copyFrom(&t.buffered[0])
		t.buffered = t.buffered[1:]
		return nil
	}
	return t.readRow(r)
}

// ReadBin implements BinSource: one bin from Rebin rows of one trial.
func (t *Table) ReadBin(ctx context.Context, b *Bin) error {
	k := t.opts.Rebin
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := t.next(&t.first); err != nil {
			return err
		}
		b.Features = resize(b.Features, len(t.featCols))
		b.Target = resize(b.Target, len(t.targCols))
		copy(b.Features, t.first.feat)
		copy(b.Target, t.first.targ)
		n := 1
		for n < k {
			err := t.next(&t.row)
			if errors.Is(err, io.EOF) {
				return io.EOF // a partial last bin is dropped
			}
			if err != nil {
				return err
			}
			if t.row.trial != t.first.trial {
				// The trial ended inside the bin: drop the partial bin
				// and start the next one with this row.
				t.buffered = append(t.buffered[:0], t.newRow())
				t.buffered[0].copyFrom(&t.row)
				break
			}
			for i, v := range t.row.feat {
				b.Features[i] += v
			}
			for i, v := range t.row.targ {
				b.Target[i] += v
			}
			n++
		}
		if n < k {
			continue
		}
		for i := range b.Features {
			b.Features[i] *= t.rateScale
		}
		for i := range b.Target {
			b.Target[i] /= float32(k)
		}
		b.Seq = t.seq
		b.Trial = t.first.trial
		if t.timeCol < 0 {
			b.Start = t.first.index * int64(t.width)
		} else {
			b.Start = int64(math.Round(t.first.time * 1e9))
		}
		b.End = b.Start + int64(t.shape.BinWidth)
		t.seq++
		return nil
	}
}

// EnsureDefaults fills the zero fields of o with their defaults.
func (o *TableOptions) EnsureDefaults() { o.Rebin = max(o.Rebin, 1) }

// Validate reports settings that mean nothing.
func (o *TableOptions) Validate() error {
	if o.Rebin < 1 || o.Rebin > 1<<16 || o.BinWidth < 0 {
		return fmt.Errorf("table: rebin %d (want 1-65536), bin width %v", o.Rebin, o.BinWidth)
	}
	return nil
}

// OpenTable opens a CSV table file.
func OpenTable(path string, opts TableOptions) (*Table, error) {
	return openWith(path, "table", func(r io.Reader) (*Table, error) { return NewTable(r, path, opts) })
}

// NewTable reads a table from r; name is used in errors. It reads the
// header and, to infer the bin width, the first two rows.
func NewTable(r io.Reader, name string, opts TableOptions) (*Table, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, with a clearer message
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: line 1: %w: cannot read the header: %v", name, ErrFormat, err)
	}
	t := &Table{name: name, r: cr, opts: opts, trialCol: -1, timeCol: -1, line: 1, header: append([]string(nil), header...), cols: len(header)}
	var featNames, targNames []string
	used := map[int]bool{}
	for _, ct := range canonicalTargets {
		for i, h := range header {
			if h == ct.col && !used[i] && !contains(targNames, ct.name) {
				t.targCols, targNames, used[i] = append(t.targCols, i), append(targNames, ct.name), true
			}
		}
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case used[i]:
		case h == "trial":
			t.trialCol = i
		case h == "timestamp":
			t.timeCol = i
		case bookkeeping[h]:
		case hasPrefix(h, featurePrefixes):
			t.featCols, featNames = append(t.featCols, i), append(featNames, h)
			if strings.HasPrefix(h, "rate_") {
				t.rates = true
			}
		case h == "":
			return nil, fmt.Errorf("%s: line 1 column %d: %w: empty column name", name, i+1, ErrFormat)
		default:
			t.targCols, targNames = append(t.targCols, i), append(targNames, h)
		}
	}
	if len(t.featCols) == 0 {
		return nil, fmt.Errorf("%s: line 1: %w: no feature columns (names starting with %v)", name, ErrFormat, featurePrefixes)
	}
	width := opts.BinWidth
	if width == 0 {
		width = DefaultTableBin
		if t.timeCol >= 0 {
			if width, err = t.inferWidth(); err != nil {
				return nil, err
			}
		}
	}
	if width <= 0 {
		return nil, fmt.Errorf("%s: %w: bin width %v", name, ErrFormat, width)
	}
	t.width = width
	t.rateScale = 1
	if t.rates && !opts.KeepRates {
		t.rateScale = float32(width.Seconds())
	}
	t.shape = Shape{Channels: len(t.featCols), BinWidth: width * time.Duration(opts.Rebin), ChannelNames: featNames, Targets: targNames}
	t.row = t.newRow()
	t.first = t.newRow()
	return t, nil
}

// inferWidth reads the first two rows to measure the timestamp step, and
// keeps them to be read again.
func (t *Table) inferWidth() (time.Duration, error) {
	var ts [2]float64
	var rows [2]tableRow
	for i := range 2 {
		rows[i] = t.newRow()
		err := t.readRow(&rows[i])
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%s: %w: need two rows to infer the bin width from timestamps (or give it)", t.name, ErrFormat)
		}
		if err != nil {
			return 0, err
		}
		ts[i] = rows[i].time
	}
	step := ts[1] - ts[0]
	if !(step > 0) {
		return 0, fmt.Errorf("%s: line %d: %w: timestamps do not increase (%g then %g)", t.name, rows[1].line, ErrFormat, ts[0], ts[1])
	}
	// Timestamps are seconds with rounding noise; keep microseconds.
	w := time.Duration(math.Round(step*1e6)) * time.Microsecond
	t.buffered = append(t.buffered, rows[0], rows[1])
	return w, nil
}

// Shape implements BinSource.
func (t *Table) Shape() Shape { return t.shape }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// parseCell parses one numeric cell, rejecting NaN and Inf.
func (t *Table) parseCell(rec []string, col int, line int) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(rec[col]), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: line %d column %d (%s): %w: %q is not a number", t.name, line, col+1, t.header[col], ErrFormat, rec[col])
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: line %d column %d (%s): %w: value %v", t.name, line, col+1, t.header[col], ErrFormat, v)
	}
	return v, nil
}
