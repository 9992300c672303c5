package acquire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bci-decode/bci-decode/internal/budget"
)

func init() {
	RegisterFormat("raw", []string{".dat", ".bin"}, func(_ context.Context, path string, p *Params) (Opened, error) {
		if err := noRebin(p, "raw files"); err != nil {
			return Opened{}, err
		}
		return continuous(OpenRaw(path, p.Raw))
	})
}

// RawOptions describes an interleaved little-endian int16 file (.dat/.bin as
// written by Open Ephys, SpikeGLX and Kilosort tools). Fields left zero are
// taken from a SpikeGLX .meta sidecar when there is one.
type RawOptions struct {
	Channels int
	Rate     float64 // Hz
	// GainUV converts one bit to µV (default DefaultRawGain when neither
	// given nor in a sidecar).
	GainUV float64
	// FrameSamples is the number of samples per channel in a frame
	// (default Rate/100, 10 ms).
	FrameSamples int
	// Meta is the SpikeGLX sidecar; default: the file's path with .meta.
	Meta string
}

// DefaultRawGain is the µV per bit of Intan amplifiers (Open Ephys).
const DefaultRawGain = 0.195

// EnsureDefaults fills the zero fields of o that have defaults: the gain and
// the frame size (Channels and Rate have none: they come from the caller or
// a sidecar).
func (o *RawOptions) EnsureDefaults() {
	if o.GainUV == 0 {
		o.GainUV = DefaultRawGain
	}
	if o.FrameSamples <= 0 {
		o.FrameSamples = max(1, int(o.Rate/100))
	}
}

// Validate reports settings that describe no raw stream.
func (o *RawOptions) Validate(name string) error {
	switch {
	case o.Channels < 1 || o.Channels > 1<<16 || !(o.Rate > 0 && o.Rate <= 1e6):
		return fmt.Errorf("%s: raw int16 files need a channel count (1-65536) and a sampling rate (up to 1 MHz), from flags or a SpikeGLX .meta sidecar; have %d channels at %v Hz", name, o.Channels, o.Rate)
	case !(o.GainUV > 0 && o.GainUV < 1e6):
		return fmt.Errorf("%s: raw gain %v µV per bit", name, o.GainUV)
	case o.FrameSamples > 1<<20:
		return fmt.Errorf("%s: %d samples per frame", name, o.FrameSamples)
	}
	return nil
}

// Raw streams an interleaved int16 file as frames.
type Raw struct {
	file
	name  string
	r     *bufio.Reader
	opts  RawOptions
	off   int64 // byte offset of the next frame
	buf   []byte
	tail  []byte // a partial sample frame at the end of the stream
	seq   uint64
	n     int64 // samples per channel read
	names []string
}

// OpenRaw opens a raw int16 recording.
func OpenRaw(path string, opts RawOptions) (*Raw, error) {
	meta := opts.Meta
	if meta == "" {
		meta = strings.TrimSuffix(path, filepath.Ext(path)) + ".meta"
		if _, err := os.Stat(meta); err != nil {
			meta = ""
		}
	}
	if meta != "" {
		m, err := ReadSpikeGLXMeta(meta)
		if err != nil {
			return nil, err
		}
		if opts.Channels == 0 {
			opts.Channels = m.Channels
		}
		if opts.Rate == 0 {
			opts.Rate = m.Rate
		}
		if opts.GainUV == 0 {
			opts.GainUV = m.GainUV
		}
	}
	opts.EnsureDefaults()
	if err := opts.Validate(path); err != nil {
		return nil, err
	}
	return openWith(path, "raw recording", func(r io.Reader) (*Raw, error) { return NewRaw(r, path, opts) })
}

// NewRaw reads a raw int16 stream from rd; name is used in errors. Channels
// and Rate must be set.
func NewRaw(rd io.Reader, name string, opts RawOptions) (*Raw, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(name); err != nil {
		return nil, err
	}
	// A frame is read as int16 and delivered as float32.
	if err := budget.Check(fmt.Sprintf("%s: frames of %d samples of %d channels", name, opts.FrameSamples, opts.Channels), uint64(opts.FrameSamples)*uint64(opts.Channels), 6); err != nil {
		return nil, err
	}
	r := &Raw{name: name, r: bufio.NewReaderSize(rd, 1<<20), opts: opts}
	r.names = make([]string, opts.Channels)
	for i := range r.names {
		r.names[i] = "ch" + strconv.Itoa(i)
	}
	return r, nil
}

// Info implements Source.
func (r *Raw) Info() Info {
	return Info{Channels: r.opts.Channels, Rate: r.opts.Rate, Units: "uV", ChannelNames: r.names}
}

// ReadFrame implements Source. A file that ends inside a sample frame gives
// every complete sample first, then an error naming the byte offset of the
// partial one.
func (r *Raw) ReadFrame(ctx context.Context, f *Frame) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	C := r.opts.Channels
	frameBytes := 2 * C
	want := r.opts.FrameSamples * frameBytes
	if cap(r.buf) < want {
		r.buf = make([]byte, want)
	}
	if r.tail != nil {
		return fmt.Errorf("%s: byte %d: %w: file ends inside a sample frame (%d of %d bytes for %d channels)", r.name, r.off, ErrFormat, len(r.tail), frameBytes, C)
	}
	n, err := io.ReadFull(r.r, r.buf[:want])
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: byte %d: %w", r.name, r.off, err)
	}
	whole := n / frameBytes * frameBytes
	if whole == 0 {
		return fmt.Errorf("%s: byte %d: %w: file ends inside a sample frame (%d of %d bytes for %d channels)", r.name, r.off, ErrFormat, n, frameBytes, C)
	}
	if n != whole {
		// deliver the whole samples now, report the partial one next
		r.tail = append([]byte(nil), r.buf[whole:n]...)
	}
	S := whole / frameBytes
	f.Seq, f.Rate, f.Channels = r.seq, r.opts.Rate, C
	f.Time = int64(float64(r.n) / r.opts.Rate * 1e9)
	f.Data = resize(f.Data, S*C)
	g := float32(r.opts.GainUV)
	for i := range f.Data {
		f.Data[i] = float32(int16(binary.LittleEndian.Uint16(r.buf[2*i:]))) * g
	}
	r.off += int64(whole)
	r.n += int64(S)
	r.seq++
	return nil
}

// SpikeGLXMeta is what a SpikeGLX .meta sidecar says about its binary file.
type SpikeGLXMeta struct {
	Channels int
	Rate     float64
	GainUV   float64
	Fields   map[string]string
}

// ReadSpikeGLXMeta parses a SpikeGLX .meta file: nSavedChans, the sampling
// rate (imSampRate or niSampRate) and the µV per bit from the ADC range,
// maximal integer and amplifier gain (imAiRangeMax / imMaxInt /
// imChan0apGain, 500 for Neuropixels 1.0 AP bands when absent; niAiRangeMax
// / 32768 / niMNGain for NI-DAQ files).
func ReadSpikeGLXMeta(path string) (SpikeGLXMeta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return SpikeGLXMeta{}, fmt.Errorf("read SpikeGLX meta: %w", err)
	}
	return ParseSpikeGLXMeta(string(b), path)
}

// ParseSpikeGLXMeta parses the text of a .meta file; name is used in errors.
func ParseSpikeGLXMeta(text, name string) (SpikeGLXMeta, error) {
	m := SpikeGLXMeta{Fields: map[string]string{}}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return m, fmt.Errorf("%s: line %d: %w: %q is not key=value", name, i+1, ErrFormat, line)
		}
		m.Fields[strings.TrimPrefix(k, "~")] = v
	}
	num := func(key string) (float64, bool, error) {
		v, ok := m.Fields[key]
		if !ok {
			return 0, false, nil
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(x > 0) {
			return 0, true, fmt.Errorf("%s: %w: %s=%q is not a positive number", name, ErrFormat, key, v)
		}
		return x, true, nil
	}
	ch, ok, err := num("nSavedChans")
	if err != nil {
		return m, err
	}
	if !ok || ch != float64(int(ch)) {
		return m, fmt.Errorf("%s: %w: no whole nSavedChans", name, ErrFormat)
	}
	m.Channels = int(ch)
	for _, key := range []string{"imSampRate", "niSampRate"} {
		if r, ok, err := num(key); err != nil {
			return m, err
		} else if ok {
			m.Rate = r
			break
		}
	}
	if m.Rate == 0 {
		return m, fmt.Errorf("%s: %w: no imSampRate or niSampRate", name, ErrFormat)
	}
	if rng, ok, err := num("imAiRangeMax"); err != nil {
		return m, err
	} else if ok {
		maxInt, ok, err := num("imMaxInt")
		if err != nil {
			return m, err
		}
		if !ok {
			maxInt = 512
		}
		gain, ok, err := num("imChan0apGain")
		if err != nil {
			return m, err
		}
		if !ok {
			gain = 500
		}
		m.GainUV = rng / maxInt / gain * 1e6
	} else if rng, ok, err := num("niAiRangeMax"); err != nil {
		return m, err
	} else if ok {
		gain, ok, err := num("niMNGain")
		if err != nil {
			return m, err
		}
		if !ok {
			gain = 1
		}
		m.GainUV = rng / 32768 / gain * 1e6
	}
	return m, nil
}
