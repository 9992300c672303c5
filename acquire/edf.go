package acquire

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

func init() {
	open := func(_ context.Context, path string, p *Params) (Opened, error) {
		if err := noRebin(p, "EDF files"); err != nil {
			return Opened{}, err
		}
		return continuous(OpenEDF(path, EDFOptions{}))
	}
	RegisterFormat("edf", []string{".edf"}, open)
	RegisterFormat("bdf", []string{".bdf"}, open)
}

// EDFSignal describes one signal of an EDF/BDF file.
type EDFSignal struct {
	Label, Transducer, PhysDim, Prefilter string
	PhysMin, PhysMax                      float64
	DigMin, DigMax                        int
	// Samples is the number of samples per data record.
	Samples int
	// Rate is Samples / record duration (Hz).
	Rate float64
	// Annotations marks an "EDF Annotations" / "BDF Annotations" signal.
	Annotations bool
}

// EDFHeader is the parsed header of an EDF, EDF+ or BDF file.
type EDFHeader struct {
	BDF        bool // 24-bit samples (BioSemi)
	Plus       string
	Patient    string
	Recording  string
	StartDate  string
	StartTime  string
	HeaderSize int
	Records    int     // -1 when unknown
	RecordSec  float64 // duration of one data record
	Signals    []EDFSignal
}

// Annotation is one EDF+ time-stamped annotation.
type Annotation struct {
	Onset    float64 // seconds from the start of the recording
	Duration float64 // seconds; 0 when not given
	Text     string
}

// EDF streams the signals of an EDF/EDF+/BDF file that share one sampling
// rate as frames (one frame per data record), in µV when the signals'
// physical dimension is a voltage, and collects EDF+ annotations as records
// go by. It implements Source.
type EDF struct {
	file
	name   string
	r      *bufio.Reader
	hdr    EDFHeader
	sel    []int // signals delivered, in order
	bytes  int   // bytes per sample: 2 or 3
	recLen int   // bytes per record
	rec    []byte
	nrec   int
	off    int64
	scale  []float64 // per selected signal: phys = dig*scale + shift, in µV
	shift  []float64
	ann    []Annotation
	seq    uint64
}

// EDFOptions selects what an EDF reader delivers.
type EDFOptions struct {
	// Signals lists labels to deliver; empty delivers every data signal
	// at the most common sampling rate.
	Signals []string
}

// OpenEDF opens an EDF, EDF+ or BDF file.
func OpenEDF(path string, opts EDFOptions) (*EDF, error) {
	return openWith(path, "EDF", func(r io.Reader) (*EDF, error) { return NewEDF(r, path, opts) })
}

// NewEDF reads an EDF/BDF stream from r; name is used in errors.
func NewEDF(r io.Reader, name string, opts EDFOptions) (*EDF, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	hdr, err := readEDFHeader(br, name)
	if err != nil {
		return nil, err
	}
	e := &EDF{name: name, r: br, hdr: hdr, bytes: 2, off: int64(hdr.HeaderSize)}
	if hdr.BDF {
		e.bytes = 3
	}
	for _, s := range hdr.Signals {
		e.recLen += s.Samples * e.bytes
	}
	if e.recLen == 0 || e.recLen > 256<<20 {
		return nil, fmt.Errorf("%s: %w: data records of %d bytes", name, ErrFormat, e.recLen)
	}
	if e.sel, err = selectSignals(hdr, opts.Signals); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, i := range e.sel {
		s := hdr.Signals[i]
		unit := voltageScale(s.PhysDim)
		g := (s.PhysMax - s.PhysMin) / float64(s.DigMax-s.DigMin)
		e.scale = append(e.scale, g*unit)
		e.shift = append(e.shift, (s.PhysMin-float64(s.DigMin)*g)*unit)
	}
	e.rec = make([]byte, e.recLen)
	return e, nil
}

// voltageScale converts a physical dimension to µV; other dimensions are
// left as they are.
func voltageScale(dim string) float64 {
	switch strings.TrimSpace(dim) {
	case "V":
		return 1e6
	case "mV":
		return 1e3
	case "nV":
		return 1e-3
	}
	return 1
}

func selectSignals(hdr EDFHeader, labels []string) ([]int, error) {
	var sel []int
	if len(labels) > 0 {
		for _, l := range labels {
			found := -1
			for i, s := range hdr.Signals {
				if strings.EqualFold(strings.TrimSpace(s.Label), l) && !s.Annotations {
					found = i
				}
			}
			if found < 0 {
				return nil, fmt.Errorf("no data signal labelled %q", l)
			}
			sel = append(sel, found)
		}
	} else {
		count := map[int]int{}
		best := 0
		for _, s := range hdr.Signals {
			if !s.Annotations {
				count[s.Samples]++
				if count[s.Samples] > count[best] || count[s.Samples] == count[best] && s.Samples > best {
					best = s.Samples
				}
			}
		}
		for i, s := range hdr.Signals {
			if !s.Annotations && s.Samples == best {
				sel = append(sel, i)
			}
		}
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("%w: no data signals", ErrFormat)
	}
	for _, i := range sel[1:] {
		if hdr.Signals[i].Samples != hdr.Signals[sel[0]].Samples {
			return nil, fmt.Errorf("signals %q and %q have different rates; select signals of one rate", hdr.Signals[sel[0]].Label, hdr.Signals[i].Label)
		}
	}
	return sel, nil
}

// Header returns the parsed header.
func (e *EDF) Header() EDFHeader { return e.hdr }

// Annotations returns the EDF+ annotations of the records read so far.
func (e *EDF) Annotations() []Annotation { return e.ann }

// Info implements Source.
func (e *EDF) Info() Info {
	s0 := e.hdr.Signals[e.sel[0]]
	info := Info{Channels: len(e.sel), Rate: s0.Rate, Units: "uV"}
	if voltageScale(s0.PhysDim) == 1 && !strings.EqualFold(strings.TrimSpace(s0.PhysDim), "uV") && strings.TrimSpace(s0.PhysDim) != "µV" {
		info.Units = strings.TrimSpace(s0.PhysDim)
	}
	for _, i := range e.sel {
		info.ChannelNames = append(info.ChannelNames, strings.TrimSpace(e.hdr.Signals[i].Label))
	}
	return info
}

// ReadFrame implements Source: one data record per frame.
func (e *EDF) ReadFrame(ctx context.Context, f *Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.hdr.Records >= 0 && e.nrec >= e.hdr.Records {
		return io.EOF
	}
	n, err := io.ReadFull(e.r, e.rec)
	if errors.Is(err, io.EOF) {
		if e.hdr.Records >= 0 {
			return fmt.Errorf("%s: byte %d: %w: file ends after %d of %d data records", e.name, e.off, ErrFormat, e.nrec, e.hdr.Records)
		}
		return io.EOF
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: byte %d: %w: data record %d truncated (%d of %d bytes)", e.name, e.off, ErrFormat, e.nrec, n, e.recLen)
	}
	if err != nil {
		return fmt.Errorf("%s: byte %d: %w", e.name, e.off, err)
	}
	S := e.hdr.Signals[e.sel[0]].Samples
	C := len(e.sel)
	f.Seq, f.Channels, f.Rate = e.seq, C, e.hdr.Signals[e.sel[0]].Rate
	f.Time = int64(math.Round(float64(e.nrec) * e.hdr.RecordSec * 1e9))
	f.Data = resize(f.Data, S*C)
	// byte offset of each signal within the record
	off := 0
	next := 0
	for i, s := range e.hdr.Signals {
		size := s.Samples * e.bytes
		if s.Annotations {
			if err := e.parseTAL(e.rec[off : off+size]); err != nil {
				return fmt.Errorf("%s: byte %d: record %d: %w", e.name, e.off+int64(off), e.nrec, err)
			}
		}
		if next < C && e.sel[next] == i {
			e.decode(f.Data, next, C, e.rec[off:off+size])
			next++
		}
		off += size
	}
	// a selection out of header order is rare; fill it in a second pass
	if next < C {
		off = 0
		for i, s := range e.hdr.Signals {
			size := s.Samples * e.bytes
			for c, j := range e.sel {
				if j == i {
					e.decode(f.Data, c, C, e.rec[off:off+size])
				}
			}
			off += size
		}
	}
	e.off += int64(e.recLen)
	e.nrec++
	e.seq++
	return nil
}

func (e *EDF) decode(dst []float32, c, C int, p []byte) {
	scale, shift := e.scale[c], e.shift[c]
	if e.bytes == 2 {
		for s := 0; 2*s+1 < len(p); s++ {
			d := int16(uint16(p[2*s]) | uint16(p[2*s+1])<<8)
			dst[s*C+c] = float32(float64(d)*scale + shift)
		}
		return
	}
	for s := 0; 3*s+2 < len(p); s++ {
		d := int32(uint32(p[3*s])|uint32(p[3*s+1])<<8|uint32(p[3*s+2])<<16) << 8 >> 8
		dst[s*C+c] = float32(float64(d)*scale + shift)
	}
}

// parseTAL reads the time-stamped annotation lists of one record:
// "+onset[\x15duration]\x14text\x14...\x14\x00", zero-padded.
func (e *EDF) parseTAL(p []byte) error {
	for len(p) > 0 {
		end := bytes.IndexByte(p, 0)
		if end < 0 {
			end = len(p)
		}
		tal := p[:end]
		p = p[min(end+1, len(p)):]
		if len(tal) == 0 {
			continue
		}
		parts := bytes.Split(tal, []byte{0x14})
		head := string(parts[0])
		onsetStr, durStr, _ := strings.Cut(head, "\x15")
		onset, err := strconv.ParseFloat(onsetStr, 64)
		if err != nil || (onsetStr[0] != '+' && onsetStr[0] != '-') {
			return fmt.Errorf("%w: annotation onset %q", ErrFormat, onsetStr)
		}
		var dur float64
		if durStr != "" {
			if dur, err = strconv.ParseFloat(durStr, 64); err != nil || dur < 0 {
				return fmt.Errorf("%w: annotation duration %q", ErrFormat, durStr)
			}
		}
		for _, t := range parts[1:] {
			if len(t) > 0 {
				e.ann = append(e.ann, Annotation{Onset: onset, Duration: dur, Text: string(t)})
			}
		}
	}
	return nil
}
