package encoder

import (
	"context"
	"fmt"

	"github.com/bci-decode/bci-decode/acquire"
)

// BinnedReader streams the bins of a source that bins on its own (hardware,
// sorted datasets, the simulator) as Bins, reading straight into the Bin's
// slices so nothing is copied or allocated per bin.
type BinnedReader struct {
	src  acquire.BinnedSource
	info acquire.BinnedInfo
	raw  acquire.Binned
}

// NewBinnedReader wraps src.
func NewBinnedReader(src acquire.BinnedSource) *BinnedReader {
	return &BinnedReader{src: src, info: src.BinnedInfo()}
}

// Info describes the stream.
func (r *BinnedReader) Info() acquire.BinnedInfo { return r.info }

// ReadBin fills b with the next bin; it returns io.EOF at the end of the
// source. ctx is checked before each read; sources that block watch their
// own context.
func (r *BinnedReader) ReadBin(ctx context.Context, b *Bin) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.raw.Counts, r.raw.Targets = b.Features[:0], b.Target[:0]
	err := r.src.ReadBinned(&r.raw)
	b.Features, b.Target = r.raw.Counts, r.raw.Targets
	if err != nil {
		return err
	}
	if len(b.Features) != r.info.Channels {
		return fmt.Errorf("bin %d has %d channels, the source declared %d: %w", r.raw.Seq, len(b.Features), r.info.Channels, acquire.ErrFormat)
	}
	b.Seq, b.Start, b.End, b.Trial = r.raw.Seq, r.raw.Start, r.raw.End, r.raw.Trial
	b.Width = b.End - b.Start
	return nil
}
