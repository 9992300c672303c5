package report

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/bci-decode/bci-decode/decoder"
)

// Progress returns a receiver of training epochs that draws a progress bar
// on w (epoch, losses, validation R², time left), one bar per decoder
// kind trained, and a function that ends the last bar (training may stop
// early). Both are no-ops when w is nil.
func Progress(w io.Writer) (epoch func(decoder.Epoch), done func()) {
	if w == nil {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	kind := ""
	done = func() {
		if bar != nil {
			_ = bar.Finish()
			bar = nil
		}
	}
	return func(e decoder.Epoch) {
		if bar == nil || e.Kind != kind {
			done()
			kind = e.Kind
			bar = progressbar.NewOptions(e.Epochs, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(kind),
				progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionSetPredictTime(true),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
		}
		m := e.Metrics
		bar.Describe(fmt.Sprintf("%s epoch %d/%d loss %.4f val %.4f val R² %.3f", e.Kind, e.Epoch, e.Epochs, m["train_loss"], m["val_loss"], m["val_r2"]))
		_ = bar.Set(e.Epoch)
		if e.Epoch == e.Epochs {
			done()
		}
	}, done
}
