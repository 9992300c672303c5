package acquire

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// readEDFHeader parses the fixed and per-signal parts of an EDF/BDF header.
func readEDFHeader(r io.Reader, name string) (EDFHeader, error) {
	var h EDFHeader
	fixed := make([]byte, 256)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return h, fmt.Errorf("%s: byte 0: %w: file shorter than the 256-byte EDF header", name, ErrFormat)
	}
	switch {
	case fixed[0] == 0xff && string(fixed[1:8]) == "BIOSEMI":
		h.BDF = true
	case string(fixed[:8]) == "0       ":
	default:
		return h, fmt.Errorf("%s: byte 0: %w: version %q is neither EDF (\"0\") nor BDF (0xFF BIOSEMI)", name, ErrFormat, fixed[:8])
	}
	field := func(off, n int) string { return strings.TrimSpace(string(fixed[off : off+n])) }
	h.Patient, h.Recording = field(8, 80), field(88, 80)
	h.StartDate, h.StartTime = field(168, 8), field(176, 8)
	reserved := field(192, 44)
	if strings.HasPrefix(reserved, "EDF+") || strings.HasPrefix(reserved, "BDF+") {
		h.Plus = reserved[:min(5, len(reserved))] // "EDF+C" or "EDF+D"
	}
	num := func(off, n int, what string) (float64, error) {
		v, err := strconv.ParseFloat(field(off, n), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s: byte %d: %w: %s %q is not a number", name, off, ErrFormat, what, field(off, n))
		}
		return v, nil
	}
	hs, err := num(184, 8, "header size")
	if err != nil {
		return h, err
	}
	recs, err := num(236, 8, "number of data records")
	if err != nil {
		return h, err
	}
	dur, err := num(244, 8, "data record duration")
	if err != nil {
		return h, err
	}
	ns, err := num(252, 4, "number of signals")
	if err != nil {
		return h, err
	}
	if ns < 1 || ns > 4096 || ns != math.Trunc(ns) {
		return h, fmt.Errorf("%s: byte 252: %w: %v signals", name, ErrFormat, ns)
	}
	n := int(ns)
	if int(hs) != 256*(n+1) {
		return h, fmt.Errorf("%s: byte 184: %w: header size %v, but %d signals need %d bytes", name, ErrFormat, hs, n, 256*(n+1))
	}
	if recs < -1 || recs != math.Trunc(recs) {
		return h, fmt.Errorf("%s: byte 236: %w: %v data records", name, ErrFormat, recs)
	}
	h.HeaderSize, h.Records, h.RecordSec = int(hs), int(recs), dur
	sig := make([]byte, 256*n)
	if _, err := io.ReadFull(r, sig); err != nil {
		return h, fmt.Errorf("%s: byte 256: %w: header truncated (%d signal headers need %d bytes)", name, ErrFormat, n, 256*n)
	}
	// Signal fields are stored field by field: all labels, then all
	// transducers, ... each of the given width.
	widths := []int{16, 80, 8, 8, 8, 8, 8, 80, 8, 32}
	starts := make([]int, len(widths))
	for i := 1; i < len(widths); i++ {
		starts[i] = starts[i-1] + widths[i-1]*n
	}
	get := func(f, i int) string {
		o := starts[f] + widths[f]*i
		return strings.TrimSpace(string(sig[o : o+widths[f]]))
	}
	at := func(f, i int) int { return 256 + starts[f] + widths[f]*i }
	h.Signals = make([]EDFSignal, n)
	for i := range n {
		s := &h.Signals[i]
		s.Label, s.Transducer, s.PhysDim, s.Prefilter = get(0, i), get(1, i), get(2, i), get(7, i)
		s.Annotations = s.Label == "EDF Annotations" || s.Label == "BDF Annotations"
		vals := make([]float64, 5)
		for k, f := range []int{3, 4, 5, 6, 8} {
			v, err := strconv.ParseFloat(get(f, i), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return h, fmt.Errorf("%s: byte %d: %w: signal %d (%s): field %q is not a number", name, at(f, i), ErrFormat, i, s.Label, get(f, i))
			}
			vals[k] = v
		}
		s.PhysMin, s.PhysMax = vals[0], vals[1]
		s.DigMin, s.DigMax, s.Samples = int(vals[2]), int(vals[3]), int(vals[4])
		lim := 32767
		if h.BDF {
			lim = 1<<23 - 1
		}
		switch {
		case s.Samples < 1 || s.Samples > 1<<24:
			return h, fmt.Errorf("%s: byte %d: %w: signal %d (%s): %d samples per record", name, at(8, i), ErrFormat, i, s.Label, s.Samples)
		case !s.Annotations && (s.DigMax <= s.DigMin || s.DigMin < -lim-1 || s.DigMax > lim):
			return h, fmt.Errorf("%s: byte %d: %w: signal %d (%s): digital range [%d, %d]", name, at(5, i), ErrFormat, i, s.Label, s.DigMin, s.DigMax)
		case !s.Annotations && s.PhysMax == s.PhysMin:
			return h, fmt.Errorf("%s: byte %d: %w: signal %d (%s): empty physical range", name, at(3, i), ErrFormat, i, s.Label)
		}
		if dur > 0 {
			s.Rate = float64(s.Samples) / dur
		}
	}
	if !(dur > 0) {
		return h, fmt.Errorf("%s: byte 244: %w: data record duration %v (records without duration are not streamable)", name, ErrFormat, dur)
	}
	return h, nil
}
