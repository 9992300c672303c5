package replay

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
	"github.com/bci-decode/bci-decode/encoder"
)

// ReadSet reads every recorded bin of a session, with its targets, into a
// dataset in time order, for retraining.
func ReadSet(ctx context.Context, js jetstream.JetStream, session string) (*dataset.Set, bus.SessionInfo, error) {
	src, err := Open(ctx, js, session, Range{})
	if err != nil {
		return nil, bus.SessionInfo{}, err
	}
	defer src.Close()
	info := src.Info()
	if len(info.Targets) == 0 {
		return nil, info, fmt.Errorf("session %q recorded no behavioural targets: nothing to retrain on", session)
	}
	set := &dataset.Set{BinWidth: info.BinWidth, TargetNames: info.Targets}
	var b encoder.Bin
	for {
		err := src.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, info, err
		}
		if len(b.Target) != len(info.Targets) {
			return nil, info, fmt.Errorf("session %q: bin %d has %d targets, the session records %d", session, b.Seq, len(b.Target), len(info.Targets))
		}
		set.X = append(set.X, append([]float32(nil), b.Features...))
		set.Y = append(set.Y, append([]float32(nil), b.Target...))
		set.Trial = append(set.Trial, b.Trial)
	}
	if set.Len() == 0 {
		return nil, info, fmt.Errorf("session %q has no recorded bins", session)
	}
	return set, info, nil
}
