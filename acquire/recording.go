package acquire

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"
)

// Binned recording files (".bcr") hold a stream of bins with their targets:
// what "bci-decode simulate" writes and "train" and "run" read. Layout, all
// integers little-endian:
//
//	magic      [4]byte "BCIR"
//	version    uint16  currently 1
//	headerLen  uint32
//	header     JSON RecordingHeader
//	records    until end of file, each RecordSize(channels, targets) bytes:
//	  seq      uint64
//	  start    int64   ns
//	  end      int64   ns
//	  trial    int32
//	  counts   [channels]float32
//	  targets  [targets]float32
//	  crc      uint32  CRC-32 (IEEE) of the preceding bytes of the record
const (
	RecordingMagic   = "BCIR"
	RecordingVersion = 1
	recordFixed      = 8 + 8 + 8 + 4 + 4
	maxHeader        = 16 << 20
)

func init() {
	RegisterFormat("bcr", []string{".bcr"}, func(_ context.Context, path string, p *Params) (Opened, error) {
		if err := noRebin(p, "recordings"); err != nil {
			return Opened{}, err
		}
		return binned(OpenRecording(path))
	})
}

// RecordingHeader describes a binned recording.
type RecordingHeader struct {
	Channels     int      `json:"channels"`
	BinWidthNS   int64    `json:"bin_width_ns"`
	ChannelNames []string `json:"channel_names,omitempty"`
	TargetNames  []string `json:"target_names"`
	// Source says where the bins came from (e.g. "simulator seed=1").
	Source string `json:"source,omitempty"`
}

// NewRecordingHeader describes a recording of bins of the given shape.
func NewRecordingHeader(s Shape, source string) RecordingHeader {
	return RecordingHeader{Channels: s.Channels, BinWidthNS: int64(s.BinWidth), ChannelNames: s.ChannelNames, TargetNames: s.Targets, Source: source}
}

// Shape is the shape of the recording's bins.
func (h RecordingHeader) Shape() Shape {
	return Shape{Channels: h.Channels, BinWidth: time.Duration(h.BinWidthNS), ChannelNames: h.ChannelNames, Targets: h.TargetNames}
}

// RecordSize is the size in bytes of one record.
func RecordSize(channels, targets int) int { return recordFixed + 4*(channels+targets) }

// AppendRecord appends b as one record to dst.
func AppendRecord(dst []byte, b *Bin) []byte {
	le := binary.LittleEndian
	start := len(dst)
	dst = le.AppendUint64(dst, b.Seq)
	dst = le.AppendUint64(dst, uint64(b.Start))
	dst = le.AppendUint64(dst, uint64(b.End))
	dst = le.AppendUint32(dst, uint32(int32(b.Trial)))
	for _, v := range b.Features {
		dst = le.AppendUint32(dst, math.Float32bits(v))
	}
	for _, v := range b.Target {
		dst = le.AppendUint32(dst, math.Float32bits(v))
	}
	return le.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// DecodeRecord parses one record of the given shape from p (exactly
// RecordSize bytes) into b, reusing b's slices. Errors wrap ErrFormat.
func DecodeRecord(p []byte, b *Bin, channels, targets int) error {
	if len(p) != RecordSize(channels, targets) {
		return fmt.Errorf("%w: record is %d bytes, want %d for %d channels and %d targets", ErrFormat, len(p), RecordSize(channels, targets), channels, targets)
	}
	le := binary.LittleEndian
	body := len(p) - 4
	if got, want := crc32.ChecksumIEEE(p[:body]), le.Uint32(p[body:]); got != want {
		return fmt.Errorf("%w: record checksum %08x, stored %08x: the data is damaged", ErrFormat, got, want)
	}
	b.Seq = le.Uint64(p)
	b.Start = int64(le.Uint64(p[8:]))
	b.End = int64(le.Uint64(p[16:]))
	b.Trial = int(int32(le.Uint32(p[24:])))
	b.Features = resize(b.Features, channels)
	b.Target = resize(b.Target, targets)
	off := 28
	for i := range b.Features {
		b.Features[i] = math.Float32frombits(le.Uint32(p[off:]))
		off += 4
	}
	for i := range b.Target {
		b.Target[i] = math.Float32frombits(le.Uint32(p[off:]))
		off += 4
	}
	return nil
}

// RecordingWriter writes a binned recording.
type RecordingWriter struct {
	w   *bufio.Writer
	c   io.Closer
	hdr RecordingHeader
	buf []byte
}

// CreateRecording creates the file at path and writes the header.
func CreateRecording(path string, hdr RecordingHeader) (*RecordingWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create recording: %w", err)
	}
	w, err := NewRecordingWriter(f, hdr)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.c = f
	return w, nil
}

// NewRecordingWriter writes the header to w and returns a writer for records.
func NewRecordingWriter(w io.Writer, hdr RecordingHeader) (*RecordingWriter, error) {
	if err := hdr.Shape().Validate(); err != nil {
		return nil, fmt.Errorf("recording: invalid header: %w", err)
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return nil, fmt.Errorf("recording: encode header: %w", err)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	head := append([]byte(RecordingMagic), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(head[4:], RecordingVersion)
	binary.LittleEndian.PutUint32(head[6:], uint32(len(js)))
	if _, err := bw.Write(append(head, js...)); err != nil {
		return nil, fmt.Errorf("recording: write header: %w", err)
	}
	return &RecordingWriter{w: bw, hdr: hdr}, nil
}

// Write appends one bin; its shape must match the header.
func (w *RecordingWriter) Write(b *Bin) error {
	if len(b.Features) != w.hdr.Channels || len(b.Target) != len(w.hdr.TargetNames) {
		return fmt.Errorf("recording: bin %d has %d channels and %d targets, the header says %d and %d",
			b.Seq, len(b.Features), len(b.Target), w.hdr.Channels, len(w.hdr.TargetNames))
	}
	w.buf = AppendRecord(w.buf[:0], b)
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("recording: write bin %d: %w", b.Seq, err)
	}
	return nil
}

// Close flushes the writer and closes the file it created, if any.
func (w *RecordingWriter) Close() error {
	err := w.w.Flush()
	if w.c != nil {
		if cerr := w.c.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("recording: close: %w", err)
	}
	return nil
}

// RecordingReader streams a binned recording; it implements BinSource.
type RecordingReader struct {
	file
	name string
	r    *bufio.Reader
	hdr  RecordingHeader
	off  int64 // byte offset of the next record
	buf  []byte
	n    uint64
}

// OpenRecording opens a binned recording file.
func OpenRecording(path string) (*RecordingReader, error) {
	return openWith(path, "recording", func(r io.Reader) (*RecordingReader, error) { return NewRecordingReader(r, path) })
}

// NewRecordingReader reads a recording from r; name is used in errors.
func NewRecordingReader(r io.Reader, name string) (*RecordingReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head := make([]byte, 10)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, fmt.Errorf("%s: byte 0: %w: file too short for a recording header", name, ErrFormat)
	}
	if string(head[:4]) != RecordingMagic {
		return nil, fmt.Errorf("%s: byte 0: %w: magic %q, want %q (not a bci-decode recording)", name, ErrFormat, head[:4], RecordingMagic)
	}
	if v := binary.LittleEndian.Uint16(head[4:]); v != RecordingVersion {
		return nil, fmt.Errorf("%s: byte 4: %w: recording version %d, this build reads version %d", name, ErrFormat, v, RecordingVersion)
	}
	n := binary.LittleEndian.Uint32(head[6:])
	if n > maxHeader {
		return nil, fmt.Errorf("%s: byte 6: %w: header length %d exceeds %d", name, ErrFormat, n, maxHeader)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(br, js); err != nil {
		return nil, fmt.Errorf("%s: byte 10: %w: header truncated (want %d bytes)", name, ErrFormat, n)
	}
	var hdr RecordingHeader
	if err := json.Unmarshal(js, &hdr); err != nil {
		return nil, fmt.Errorf("%s: byte 10: %w: header: %v", name, ErrFormat, err)
	}
	if err := hdr.Shape().Validate(); err != nil {
		return nil, fmt.Errorf("%s: byte 10: header: %w", name, err)
	}
	return &RecordingReader{name: name, r: br, hdr: hdr, off: int64(10 + n), buf: make([]byte, RecordSize(hdr.Channels, len(hdr.TargetNames)))}, nil
}

// Header returns the recording's header.
func (r *RecordingReader) Header() RecordingHeader { return r.hdr }

// Shape implements BinSource.
func (r *RecordingReader) Shape() Shape { return r.hdr.Shape() }

// ReadBin implements BinSource. A damaged or truncated record is reported
// with its byte offset; values that are not finite are reported with their
// channel.
func (r *RecordingReader) ReadBin(ctx context.Context, b *Bin) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := io.ReadFull(r.r, r.buf)
	switch {
	case errors.Is(err, io.EOF):
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: byte %d: %w: truncated record %d (%d of %d bytes)", r.name, r.off, ErrFormat, r.n, n, len(r.buf))
	case err != nil:
		return fmt.Errorf("%s: byte %d: %w", r.name, r.off, err)
	}
	if err := DecodeRecord(r.buf, b, r.hdr.Channels, len(r.hdr.TargetNames)); err != nil {
		return fmt.Errorf("%s: byte %d: record %d: %w", r.name, r.off, r.n, err)
	}
	for c, v := range b.Features {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%s: byte %d: record %d channel %d: %w: value %v", r.name, r.off+28+4*int64(c), r.n, c, ErrFormat, v)
		}
	}
	r.off += int64(len(r.buf))
	r.n++
	return nil
}

// WriteRecording copies src to a new recording file at path, describing
// it as source, and returns the number of bins written. A failed copy
// removes the partial file.
func WriteRecording(ctx context.Context, path string, src BinSource, source string) (int, error) {
	w, err := CreateRecording(path, NewRecordingHeader(src.Shape(), source))
	if err != nil {
		return 0, err
	}
	n, err := copyBins(ctx, w, src)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return n, err
	}
	return n, nil
}

func copyBins(ctx context.Context, w *RecordingWriter, src BinSource) (int, error) {
	var b Bin
	for n := 0; ; n++ {
		err := src.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err == nil {
			err = w.Write(&b)
		}
		if err != nil {
			return n, err
		}
	}
}

// CheckRecording reads a recording through and returns its number of bins,
// or the first error with its place: a caller about to replace something
// with the file (import --overwrite) learns that it is whole first.
func CheckRecording(ctx context.Context, path string) (int, error) {
	rec, err := OpenRecording(path)
	if err != nil {
		return 0, err
	}
	defer rec.Close()
	var b Bin
	for n := 0; ; n++ {
		err := rec.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
