package acquire

import (
	"context"
	"errors"
)

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
// A source that waits (a socket, a live stream) returns ctx's error when
// ctx ends first; files check ctx between reads.
type Source interface {
	Info() Info
	ReadFrame(ctx context.Context, f *Frame) error
}

// ErrFormat is wrapped by every error that reports malformed input, so
// callers can tell bad data from I/O failures.
var ErrFormat = errors.New("malformed input")
