package encoder

import (
	"context"
	"fmt"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/filters"
)

// FrameReader turns a continuous source into bins: it reads frames,
// conditions them with a filter chain and encodes them. It implements the
// pipeline's bin source. A partial bin at the end of the source is dropped.
type FrameReader struct {
	src   acquire.Source
	chain filters.Stage
	enc   *Encoder
	frame acquire.Frame
	tap   func(*acquire.Frame)
	names []string
}

// Tap makes the reader hand every raw frame to f, before it is filtered
// (e.g. to record it). f runs on the reading goroutine and must not keep
// the frame.
func (r *FrameReader) Tap(f func(*acquire.Frame)) { r.tap = f }

// NewFrameReader reads src through chain (nil for none) into enc.
func NewFrameReader(src acquire.Source, chain filters.Stage, enc *Encoder) (*FrameReader, error) {
	if info := src.Info(); info.Channels != enc.channels || info.Rate != enc.rate {
		return nil, fmt.Errorf("encoder: source has %d channels at %v Hz, the encoder %d at %v Hz", info.Channels, info.Rate, enc.channels, enc.rate)
	}
	return &FrameReader{src: src, chain: chain, enc: enc, names: featureNames(src.Info().ChannelNames, enc)}, nil
}

// Shape implements acquire.BinSource: the encoder's features, named after
// the source's channels.
func (r *FrameReader) Shape() acquire.Shape {
	return acquire.Shape{Channels: r.enc.Features(), BinWidth: r.enc.BinWidth(), ChannelNames: r.names}
}

// Encoder returns the reader's encoder.
func (r *FrameReader) Encoder() *Encoder { return r.enc }

// ReadBin implements acquire.BinSource.
func (r *FrameReader) ReadBin(ctx context.Context, b *acquire.Bin) error {
	for !r.enc.Next(b) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.src.ReadFrame(ctx, &r.frame); err != nil {
			return err
		}
		if r.tap != nil {
			r.tap(&r.frame)
		}
		if r.chain != nil {
			if err := r.chain.Process(&r.frame); err != nil {
				return err
			}
		}
		if err := r.enc.Process(&r.frame); err != nil {
			return err
		}
	}
	return nil
}

// featureNames names the encoder's features after the source's channels:
// crossing counts keep the channel's name, spike-band power adds "_power".
// Without a name for every channel there are none.
func featureNames(channels []string, enc *Encoder) []string {
	if len(channels) != enc.channels {
		return nil
	}
	names := append([]string(nil), channels...)
	if enc.Features() > len(channels) {
		for _, c := range channels {
			names = append(names, c+"_power")
		}
	}
	return names
}
