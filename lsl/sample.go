package lsl

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// Sample framing of protocol 1.10: a tag byte, the timestamp when the tag
// says it is transmitted, then the channel values (numbers in the agreed
// byte order; strings each with a length prefix).
const (
	tagDeduced     = 1 // the receiver computes previous stamp + 1/rate
	tagTransmitted = 2 // an 8-byte double follows
)

// testPatternStamp is the timestamp of the two handshake samples.
const testPatternStamp = 123456.789

// Number is the set of Go types samples can be pushed and pulled as.
type Number interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64
}

// ErrBadStream marks a sample stream that is truncated, corrupt or lies
// (bad tag, string longer than the limit, wrong test pattern).
var ErrBadStream = errors.New("lsl: bad sample stream")

// testPatternNumeric returns the handshake test pattern for a numeric
// format as little-endian wire bytes: channel k holds ±(k + offset + a
// format-specific base), negative for odd k, wrapped for integers as
// liblsl does.
func testPatternNumeric(f Format, nch, offset int) []byte {
	out := make([]byte, nch*f.Size())
	for k := 0; k < nch; k++ {
		switch f {
		case Float32:
			v := float32(k + offset)
			if k%2 == 1 {
				v = -v
			}
			binary.LittleEndian.PutUint32(out[4*k:], math.Float32bits(v))
		case Double64:
			v := float64(k + offset + 16777217)
			if k%2 == 1 {
				v = -v
			}
			binary.LittleEndian.PutUint64(out[8*k:], math.Float64bits(v))
		case Int32:
			v := int32((k + offset + 65537) % math.MaxInt32)
			if k%2 == 1 {
				v = -v
			}
			binary.LittleEndian.PutUint32(out[4*k:], uint32(v))
		case Int16:
			v := int16((k + offset + 257) % math.MaxInt16)
			if k%2 == 1 {
				v = -v
			}
			binary.LittleEndian.PutUint16(out[2*k:], uint16(v))
		case Int8:
			v := int8((k + offset + 1) % math.MaxInt8)
			if k%2 == 1 {
				v = -v
			}
			out[k] = byte(v)
		case Int64:
			v := int64(k) + 2147483649 + int64(offset)
			if k%2 == 1 {
				v = -v
			}
			binary.LittleEndian.PutUint64(out[8*k:], uint64(v))
		}
	}
	return out
}

// testPatternStrings is the string test pattern ("10", "-11", "12", ...),
// the same for both handshake samples.
func testPatternStrings(nch int) []string {
	out := make([]string, nch)
	for k := range out {
		v := k + 10
		if k%2 == 1 {
			v = -v
		}
		out[k] = strconv.Itoa(v)
	}
	return out
}

// appendStamp appends a sample header.
func appendStamp(b []byte, deduced bool, stamp float64) []byte {
	if deduced {
		return append(b, tagDeduced)
	}
	b = append(b, tagTransmitted)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(stamp))
}

// appendStrings appends string values with liblsl's length prefixes
// (1-byte length up to 255 bytes, else 4 bytes, else 8).
func appendStrings(b []byte, vals []string) []byte {
	for _, s := range vals {
		switch n := uint64(len(s)); {
		case n <= 0xFF:
			b = append(b, 1, byte(n))
		case n <= 0xFFFFFFFF:
			b = append(b, 4)
			b = binary.LittleEndian.AppendUint32(b, uint32(n))
		default:
			b = append(b, 8)
			b = binary.LittleEndian.AppendUint64(b, n)
		}
		b = append(b, s...)
	}
	return b
}

// sampleReader decodes the sample stream of one connection.
type sampleReader struct {
	r         *bufio.Reader
	format    Format
	nch       int
	size      int
	reverse   bool // the sender's byte order is big-endian
	suppress  bool // zero subnormal floats (the sender asked for it)
	maxString int
	rate      float64
	last      float64 // previous timestamp, for deduced stamps
	count     int64   // samples read, for error messages
	scratch   [8]byte
}

func newSampleReader(r *bufio.Reader, f Format, nch int, rate float64, maxString int) *sampleReader {
	return &sampleReader{r: r, format: f, nch: nch, size: f.Size(), rate: rate, maxString: maxString}
}

func (d *sampleReader) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: sample %d: %s", ErrBadStream, d.count, fmt.Sprintf(format, args...))
}

func (d *sampleReader) readErr(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: sample %d: stream ended in the %s: %w", ErrBadStream, d.count, what, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("lsl: sample %d: reading the %s: %w", d.count, what, err)
}

func (d *sampleReader) u64(b []byte) uint64 {
	if d.reverse {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// readStamp reads a sample header and returns the sample's timestamp,
// computing deduced ones as liblsl does (previous + 1/rate). A clean end
// of stream before the header returns io.EOF.
func (d *sampleReader) readStamp() (float64, error) {
	tag, err := d.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, d.readErr("tag", err)
	}
	var stamp float64
	switch tag {
	case tagDeduced:
		stamp = d.last
		if d.rate != 0 {
			stamp += 1.0 / d.rate
		}
	case tagTransmitted:
		if _, err := io.ReadFull(d.r, d.scratch[:8]); err != nil {
			return 0, d.readErr("timestamp", err)
		}
		stamp = math.Float64frombits(d.u64(d.scratch[:8]))
	default:
		return 0, d.errorf("invalid timestamp tag %d (want 1 or 2)", tag)
	}
	d.last = stamp
	return stamp, nil
}

// readNumeric reads one sample's values into dst (nch*size bytes) and
// leaves them little-endian, with subnormals zeroed when asked.
func (d *sampleReader) readNumeric(dst []byte) error {
	if _, err := io.ReadFull(d.r, dst); err != nil {
		return d.readErr("values", err)
	}
	if d.reverse && d.size > 1 {
		swapBytes(dst, d.size)
	}
	if d.suppress {
		suppressSubnormals(dst, d.format)
	}
	d.count++
	return nil
}

// readStrings reads one sample's strings into dst (nch entries).
func (d *sampleReader) readStrings(dst []string) error {
	for k := range dst {
		lenBytes, err := d.r.ReadByte()
		if err != nil {
			return d.readErr("string length", err)
		}
		var n uint64
		switch lenBytes {
		case 1:
			b, err := d.r.ReadByte()
			if err != nil {
				return d.readErr("string length", err)
			}
			n = uint64(b)
		case 2, 4, 8:
			if _, err := io.ReadFull(d.r, d.scratch[:lenBytes]); err != nil {
				return d.readErr("string length", err)
			}
			b := d.scratch[:lenBytes]
			switch lenBytes {
			case 2:
				if d.reverse {
					n = uint64(binary.BigEndian.Uint16(b))
				} else {
					n = uint64(binary.LittleEndian.Uint16(b))
				}
			case 4:
				if d.reverse {
					n = uint64(binary.BigEndian.Uint32(b))
				} else {
					n = uint64(binary.LittleEndian.Uint32(b))
				}
			default:
				n = d.u64(b)
			}
		default:
			return d.errorf("channel %d: invalid string length size %d (want 1, 2, 4 or 8)", k, lenBytes)
		}
		if n > uint64(d.maxString) {
			return d.errorf("channel %d: string of %d bytes exceeds the %d-byte limit", k, n, d.maxString)
		}
		if n == 0 {
			dst[k] = ""
			continue
		}
		// Read through the bufio buffer where the string fits in it, so a
		// lying length never allocates more than what arrived.
		if int(n) <= d.r.Size() {
			b, err := d.r.Peek(int(n))
			if err != nil {
				return d.readErr("string", err)
			}
			dst[k] = string(b)
			_, _ = d.r.Discard(int(n))
			continue
		}
		buf := make([]byte, 0, min(n, 1<<20))
		for uint64(len(buf)) < n {
			chunk := min(n-uint64(len(buf)), 1<<20)
			start := len(buf)
			buf = append(buf, make([]byte, chunk)...)
			if _, err := io.ReadFull(d.r, buf[start:]); err != nil {
				return d.readErr("string", err)
			}
		}
		dst[k] = string(buf)
	}
	d.count++
	return nil
}

func swapBytes(b []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.BigEndian.Uint64(b[i:]))
		}
	}
}

// suppressSubnormals flushes subnormal floats to (signed) zero, as liblsl
// does for a receiver that declared it cannot handle them.
func suppressSubnormals(b []byte, f Format) {
	switch f {
	case Float32:
		for i := 0; i+3 < len(b); i += 4 {
			v := binary.LittleEndian.Uint32(b[i:])
			if v != 0 && v&0x7fffffff <= 0x007fffff {
				binary.LittleEndian.PutUint32(b[i:], v&0x80000000)
			}
		}
	case Double64:
		for i := 0; i+7 < len(b); i += 8 {
			v := binary.LittleEndian.Uint64(b[i:])
			if v != 0 && v&0x7fffffffffffffff <= 0x000fffffffffffff {
				binary.LittleEndian.PutUint64(b[i:], v&0x8000000000000000)
			}
		}
	}
}

// encodeValues converts src to format f as little-endian bytes in dst
// (len(src)*f.Size() bytes). Conversions between number types are Go's
// (liblsl's static_cast).
func encodeValues[T Number](dst []byte, src []T, f Format) {
	switch f {
	case Float32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(float32(v)))
		}
	case Double64:
		for i, v := range src {
			binary.LittleEndian.PutUint64(dst[8*i:], math.Float64bits(float64(v)))
		}
	case Int32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], uint32(int32(v)))
		}
	case Int16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], uint16(int16(v)))
		}
	case Int8:
		for i, v := range src {
			dst[i] = byte(int8(v))
		}
	case Int64:
		for i, v := range src {
			binary.LittleEndian.PutUint64(dst[8*i:], uint64(int64(v)))
		}
	}
}

// decodeValues converts little-endian values of format f from src into
// dst (len(dst) values).
func decodeValues[T Number](dst []T, src []byte, f Format) {
	switch f {
	case Float32:
		for i := range dst {
			dst[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case Double64:
		for i := range dst {
			dst[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case Int32:
		for i := range dst {
			dst[i] = T(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	case Int16:
		for i := range dst {
			dst[i] = T(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	case Int8:
		for i := range dst {
			dst[i] = T(int8(src[i]))
		}
	case Int64:
		for i := range dst {
			dst[i] = T(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	}
}
