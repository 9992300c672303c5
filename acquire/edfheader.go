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
	h, n, err := readEDFFixed(r, name)
	if err != nil {
		return h, err
	}
	sig := make([]byte, 256*n)
	if _, err := io.ReadFull(r, sig); err != nil {
		return h, fmt.Errorf("%s: byte 256: %w: header truncated (%d signal headers need %d bytes)", name, ErrFormat, n, 256*n)
	}
	h.Signals = make([]EDFSignal, n)
	for i := range n {
		if err := h.parseSignal(sig, n, i, name); err != nil {
			return h, err
		}
	}
	if !(h.RecordSec > 0) {
		return h, fmt.Errorf("%s: byte 244: %w: data record duration %v (records without duration are not streamable)", name, ErrFormat, h.RecordSec)
	}
	return h, nil
}

// readEDFFixed parses the fixed 256 bytes of the header and returns the
// number of signals.
func readEDFFixed(r io.Reader, name string) (EDFHeader, int, error) {
	var h EDFHeader
	fixed := make([]byte, 256)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return h, 0, fmt.Errorf("%s: byte 0: %w: file shorter than the 256-byte EDF header", name, ErrFormat)
	}
	switch {
	case fixed[0] == 0xff && string(fixed[1:8]) == "BIOSEMI":
		h.BDF = true
	case string(fixed[:8]) == "0       ":
	default:
		return h, 0, fmt.Errorf("%s: byte 0: %w: version %q is neither EDF (\"0\") nor BDF (0xFF BIOSEMI)", name, ErrFormat, fixed[:8])
	}
	field := func(off, n int) string { return strings.TrimSpace(string(fixed[off : off+n])) }
	h.Patient, h.Recording = field(8, 80), field(88, 80)
	h.StartDate, h.StartTime = field(168, 8), field(176, 8)
	if reserved := field(192, 44); strings.HasPrefix(reserved, "EDF+") || strings.HasPrefix(reserved, "BDF+") {
		h.Plus = reserved[:min(5, len(reserved))] // "EDF+C" or "EDF+D"
	}
	var nums [4]float64
	for i, f := range []struct {
		off, n int
		what   string
	}{{184, 8, "header size"}, {236, 8, "number of data records"}, {244, 8, "data record duration"}, {252, 4, "number of signals"}} {
		v, err := strconv.ParseFloat(field(f.off, f.n), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return h, 0, fmt.Errorf("%s: byte %d: %w: %s %q is not a number", name, f.off, ErrFormat, f.what, field(f.off, f.n))
		}
		nums[i] = v
	}
	hs, recs, dur, ns := nums[0], nums[1], nums[2], nums[3]
	if ns < 1 || ns > 4096 || ns != math.Trunc(ns) {
		return h, 0, fmt.Errorf("%s: byte 252: %w: %v signals", name, ErrFormat, ns)
	}
	n := int(ns)
	if int(hs) != 256*(n+1) {
		return h, 0, fmt.Errorf("%s: byte 184: %w: header size %v, but %d signals need %d bytes", name, ErrFormat, hs, n, 256*(n+1))
	}
	if recs < -1 || recs != math.Trunc(recs) {
		return h, 0, fmt.Errorf("%s: byte 236: %w: %v data records", name, ErrFormat, recs)
	}
	h.HeaderSize, h.Records, h.RecordSec = int(hs), int(recs), dur
	return h, n, nil
}

// Signal fields are stored field by field: all labels, then all
// transducers, ... each of these widths.
var edfSignalWidths = [10]int{16, 80, 8, 8, 8, 8, 8, 80, 8, 32}

// parseSignal parses signal i of the n signal headers in sig.
func (h *EDFHeader) parseSignal(sig []byte, n, i int, name string) error {
	var starts [len(edfSignalWidths)]int
	for f := 1; f < len(starts); f++ {
		starts[f] = starts[f-1] + edfSignalWidths[f-1]*n
	}
	get := func(f int) string {
		o := starts[f] + edfSignalWidths[f]*i
		return strings.TrimSpace(string(sig[o : o+edfSignalWidths[f]]))
	}
	at := func(f int) int { return 256 + starts[f] + edfSignalWidths[f]*i }
	s := &h.Signals[i]
	s.Label, s.Transducer, s.PhysDim, s.Prefilter = get(0), get(1), get(2), get(7)
	s.Annotations = s.Label == "EDF Annotations" || s.Label == "BDF Annotations"
	var vals [5]float64
	for k, f := range []int{3, 4, 5, 6, 8} {
		v, err := strconv.ParseFloat(get(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: byte %d: %w: signal %d (%s): field %q is not a number", name, at(f), ErrFormat, i, s.Label, get(f))
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
		return fmt.Errorf("%s: byte %d: %w: signal %d (%s): %d samples per record", name, at(8), ErrFormat, i, s.Label, s.Samples)
	case !s.Annotations && (s.DigMax <= s.DigMin || s.DigMin < -lim-1 || s.DigMax > lim):
		return fmt.Errorf("%s: byte %d: %w: signal %d (%s): digital range [%d, %d]", name, at(5), ErrFormat, i, s.Label, s.DigMin, s.DigMax)
	case !s.Annotations && s.PhysMax == s.PhysMin:
		return fmt.Errorf("%s: byte %d: %w: signal %d (%s): empty physical range", name, at(3), ErrFormat, i, s.Label)
	}
	if h.RecordSec > 0 {
		s.Rate = float64(s.Samples) / h.RecordSec
	}
	return nil
}
