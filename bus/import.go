package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
)

// Import records the bins of src as session, as a live run would have
// recorded them (see PrepareRecording for overwrite), waiting for every
// acknowledgement. It returns the number of bins imported. A failed import
// leaves no recording behind.
func Import(ctx context.Context, js jetstream.JetStream, session string, src acquire.BinSource, replicas int, overwrite bool) (int, error) {
	if _, err := PrepareRecording(ctx, js, session, SessionInfo{Shape: src.Shape()}, replicas, overwrite); err != nil {
		return 0, err
	}
	n, err := importBins(ctx, js, session, src)
	if err != nil {
		// A stream holding part of a file is worse than none: the next
		// import would be refused as "already recorded".
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := js.DeleteStream(dctx, StreamName(session)); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove the partial recording: %w", derr))
		}
	}
	return n, err
}

func importBins(ctx context.Context, js jetstream.JetStream, session string, src acquire.BinSource) (int, error) {
	var b acquire.Bin
	n := 0
	for ; ; n++ {
		err := src.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if _, err := js.PublishAsync(BinsSubject(session), acquire.AppendBinMessage(nil, &b)); err != nil {
			return n, fmt.Errorf("import bin %d: %w", b.Seq, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return n, nil
	case <-time.After(30 * time.Second):
		return n, fmt.Errorf("import: %d bins still unacknowledged after 30s", js.PublishAsyncPending())
	case <-ctx.Done():
		return n, ctx.Err()
	}
}
