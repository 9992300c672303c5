package acquire

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// Raw frames travel on bci.<session>.raw (and are recorded in JetStream) as
// one self-describing binary message each, all integers little-endian:
//
//	magic     [4]byte "BCIF"
//	version   uint8   1
//	format    uint8   0: float32 samples in µV
//	channels  uint32
//	samples   uint32  per channel
//	seq       uint64
//	time      int64   ns, first sample
//	rate      float64 Hz
//	data      [samples*channels]float32, sample-major
//	crc       uint32  CRC-32 (IEEE) of every preceding byte
const (
	FrameMagic   = "BCIF"
	FrameVersion = 1
	frameHeader  = 4 + 1 + 1 + 4 + 4 + 8 + 8 + 8
	maxFrameData = 64 << 20
)

// FrameMessageSize is the size of the message of a frame.
func FrameMessageSize(f *Frame) int { return frameHeader + 4*len(f.Data) + 4 }

// AppendFrameMessage appends f as one frame message to dst.
func AppendFrameMessage(dst []byte, f *Frame) []byte {
	le := binary.LittleEndian
	start := len(dst)
	dst = append(dst, FrameMagic...)
	dst = append(dst, FrameVersion, 0)
	dst = le.AppendUint32(dst, uint32(f.Channels))
	dst = le.AppendUint32(dst, uint32(f.Samples()))
	dst = le.AppendUint64(dst, f.Seq)
	dst = le.AppendUint64(dst, uint64(f.Time))
	dst = le.AppendUint64(dst, math.Float64bits(f.Rate))
	for _, v := range f.Data[:f.Samples()*f.Channels] {
		dst = le.AppendUint32(dst, math.Float32bits(v))
	}
	return le.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// DecodeFrameMessage parses a frame message into f, reusing f.Data. Errors
// wrap ErrFormat and say what is wrong.
func DecodeFrameMessage(p []byte, f *Frame) error {
	le := binary.LittleEndian
	if len(p) < frameHeader+4 || string(p[:4]) != FrameMagic {
		return fmt.Errorf("%w: not a frame message (bad magic or %d bytes)", ErrFormat, len(p))
	}
	if p[4] != FrameVersion || p[5] != 0 {
		return fmt.Errorf("%w: frame message version %d format %d, this build reads version %d format 0", ErrFormat, p[4], p[5], FrameVersion)
	}
	ch, n := uint64(le.Uint32(p[6:])), uint64(le.Uint32(p[10:]))
	if ch == 0 || ch*n > maxFrameData || uint64(len(p)) != frameHeader+4*ch*n+4 {
		return fmt.Errorf("%w: frame message of %d bytes declares %d channels × %d samples", ErrFormat, len(p), ch, n)
	}
	body := len(p) - 4
	if got, want := crc32.ChecksumIEEE(p[:body]), le.Uint32(p[body:]); got != want {
		return fmt.Errorf("%w: frame checksum %08x, stored %08x: the data is damaged", ErrFormat, got, want)
	}
	rate := math.Float64frombits(le.Uint64(p[30:]))
	if !(rate > 0) || math.IsInf(rate, 0) {
		return fmt.Errorf("%w: frame message rate %v", ErrFormat, rate)
	}
	f.Channels, f.Seq, f.Time, f.Rate = int(ch), le.Uint64(p[14:]), int64(le.Uint64(p[22:])), rate
	f.Data = resize(f.Data, int(ch*n))
	for i := range f.Data {
		f.Data[i] = math.Float32frombits(le.Uint32(p[frameHeader+4*i:]))
	}
	return nil
}
