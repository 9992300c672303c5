package replay

import (
	"context"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// Paced releases src's bins at the pace they were recorded: bin i no
// earlier than its end's offset from the first bin's start after the first
// read. Bin times are left as recorded, so intents stay identical.
func Paced(src pipeline.BinReader) pipeline.BinReader { return &paced{src: src} }

type paced struct {
	src   pipeline.BinReader
	pacer acquire.Pacer
	epoch time.Time
	first int64
}

func (p *paced) ReadBin(ctx context.Context, b *encoder.Bin) error {
	if err := p.src.ReadBin(ctx, b); err != nil {
		return err
	}
	if p.epoch.IsZero() {
		p.epoch, p.first = time.Now(), b.Start
	}
	return p.pacer.WaitUntil(ctx, p.epoch.Add(time.Duration(b.End-p.first)))
}
