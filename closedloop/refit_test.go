package closedloop_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/closedloop"
	"github.com/bci-decode/bci-decode/eval"
	"github.com/bci-decode/bci-decode/replay"
)

// TestIntentionLabels scores the inferred intention of a recorded block
// against what the simulated user really intended (the bins' recorded
// targets, which a lab never has). Taking the cursor where the user saw it,
// 120 ms late, labels the bins closer to the truth than ReFIT as
// published, which takes it where it was.
func TestIntentionLabels(t *testing.T) {
	nc := conn(t)
	cal := calibrate(t, "kalman", calibSeed, 5*time.Minute, false)
	block(t, nc, "labels", cal.Model, cal.Population, blockSeed, 32, func(o *closedloop.Options) { o.Session.Record = true })
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := context.Background()
	truth, _, err := replay.ReadSet(ctx, js, "labels")
	require.NoError(t, err)
	score := func(in closedloop.Intention) float64 {
		set, err := in.Read(ctx, js, "labels")
		require.NoError(t, err)
		require.Equal(t, truth.Len(), set.Len(), "every bin of a clean block is labelled")
		return eval.Score(set.Y, truth.Y).MeanR2()
	}
	refit, seen := score(closedloop.Intention{}), score(closedloop.Intention{Delay: 120 * time.Millisecond})
	t.Logf("R² of the inferred intention against the true one: ReFIT %.3f, cursor seen 120 ms late %.3f", refit, seen)
	assert.Greater(t, refit, 0.4)
	assert.Greater(t, seen, refit+0.05)
}
