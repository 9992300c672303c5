package acquire

import "errors"

// Frame is one block of continuous samples from a source.
type Frame struct {
	// Seq numbers frames from 0 in the order the source produced them.
	Seq uint64
	// Time is the acquisition time of the first sample in Unix nanoseconds
	// (or nanoseconds since the start of a recording when no clock exists).
	Time int64
	// Rate is the sampling rate in Hz.
	Rate float64
	// Channels is the number of channels interleaved in Data.
	Channels int
	// Data holds samples in sample-major order, Data[s*Channels+c], in µV.
	Data []float32
}

// Samples returns the number of samples per channel held in f.
func (f *Frame) Samples() int {
	if f.Channels == 0 {
		return 0
	}
	return len(f.Data) / f.Channels
}

// Info describes a continuous source.
type Info struct {
	Channels     int
	Rate         float64
	Units        string
	ChannelNames []string
}

// Source is a stream of continuous frames.
//
// ReadFrame fills f, reusing f.Data's capacity where it can, and returns
// io.EOF once the source is exhausted. The frame belongs to the caller.
type Source interface {
	Info() Info
	ReadFrame(f *Frame) error
}

// Binned is one bin of pre-binned spike counts, as delivered by sources that
// bin on their own. Targets carry the behaviour recorded alongside, when the
// source has it.
type Binned struct {
	Seq uint64
	// Start and End bound the bin in nanoseconds (Unix time for live
	// sources, time since the start of the recording for files).
	Start, End int64
	// Trial identifies the trial the bin belongs to; -1 when the source has
	// no trial structure.
	Trial int
	// Counts holds one value per channel (spike counts or features).
	Counts []float32
	// Targets holds the behavioural variables (e.g. hand velocity).
	Targets []float32
}

// BinnedInfo describes a binned source.
type BinnedInfo struct {
	Channels int
	// BinWidth is the width of one bin in nanoseconds.
	BinWidth int64
	// ChannelNames, when known, names each feature column.
	ChannelNames []string
	// TargetNames names each entry of Binned.Targets (e.g. "vel_x").
	TargetNames []string
}

// BinnedSource is a stream of pre-binned counts.
//
// ReadBinned fills b, reusing the capacity of its slices, and returns io.EOF
// once the source is exhausted.
type BinnedSource interface {
	BinnedInfo() BinnedInfo
	ReadBinned(b *Binned) error
}

// ErrFormat is wrapped by every error that reports malformed input, so
// callers can tell bad data from I/O failures.
var ErrFormat = errors.New("malformed input")
