package replay

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/dataset"
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
	if len(info.Shape.Targets) == 0 {
		return nil, info, fmt.Errorf("session %q recorded no behavioural targets: nothing to retrain on", session)
	}
	set, err := dataset.Read(ctx, src)
	if err != nil {
		return nil, info, fmt.Errorf("session %q: %w", session, err)
	}
	if set.Len() == 0 {
		return nil, info, fmt.Errorf("session %q has no recorded bins", session)
	}
	return set, info, nil
}
