package replay_test

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/replay"
)

func TestReplayRangeAndDataset(t *testing.T) {
	js, model := recordSession(t, "r1", 500)
	ctx := context.Background()

	src, err := replay.Open(ctx, js, "r1", replay.Range{From: 2e9, To: 4e9})
	require.NoError(t, err)
	res, err := replay.Run(ctx, src, model, replay.Options{})
	src.Close()
	require.NoError(t, err)
	require.Len(t, res.Intents, 100, "2 s of 20 ms bins")
	assert.Equal(t, uint64(100), res.Intents[0].Seq)

	set, info, err := replay.ReadSet(ctx, js, "r1")
	require.NoError(t, err)
	assert.Equal(t, 500, set.Len())
	assert.Equal(t, 96, info.Shape.Channels)
	assert.Equal(t, []string{"vel_x", "vel_y", "pos_x", "pos_y"}, set.TargetNames)

	_, err = replay.Open(ctx, js, "missing", replay.Range{})
	assert.ErrorIs(t, err, bus.ErrNoSession)
}

// TestReplayReportsCorruptMessage stores a damaged bin in a session's
// stream: replay stops with an error that names the stream message, and the
// recording itself is untouched.
func TestReplayReportsCorruptMessage(t *testing.T) {
	js, model := recordSession(t, "bad", 50)
	ctx := context.Background()
	_, err := js.Publish(ctx, bus.BinsSubject("bad"), []byte("BCIB\x01garbage"))
	require.NoError(t, err)
	src, err := replay.Open(ctx, js, "bad", replay.Range{})
	require.NoError(t, err)
	defer src.Close()
	res, err := replay.Run(ctx, src, model, replay.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stream BCI_bad message")
	assert.Len(t, res.Intents, 50, "every good bin before it was replayed")

	s, err := js.Stream(ctx, "BCI_bad")
	require.NoError(t, err)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(bus.BinsSubject("bad")))
	require.NoError(t, err)
	assert.Equal(t, uint64(51), info.State.Subjects[bus.BinsSubject("bad")])
}

func TestCompare(t *testing.T) {
	a := []decoder.Intent{{Seq: 0, Values: []float32{1, 2}, Model: "m"}, {Seq: 1, Values: []float32{3, 4}, Model: "m"}}
	b := []decoder.Intent{{Seq: 0, Values: []float32{1, 2}, Model: "m", DecodeTime: 99}, {Seq: 1, Values: []float32{3, 4.0000005}, Model: "m"}}
	d := replay.Compare(a, a)
	assert.True(t, d.Identical)
	d = replay.Compare(a, b)
	assert.False(t, d.Identical)
	assert.Contains(t, d.Mismatch, "value 1")
	assert.Equal(t, 1, d.Compared)
	d = replay.Compare(a, a[:1])
	assert.False(t, d.Identical, "a live intent without a replayed twin")
	assert.Equal(t, 1, d.Unreplayed)

	// The recording missed seq 1 of three live intents: the other two pair
	// with their replayed twins by seq, and the runs are identical.
	three := append(slices.Clone(a), decoder.Intent{Seq: 2, Values: []float32{5, 6}, Model: "m"})
	d = replay.Compare([]decoder.Intent{three[0], three[2]}, three)
	assert.True(t, d.Identical, d.Mismatch)
	assert.Equal(t, 2, d.Compared)
	assert.Equal(t, 1, d.Uncaptured)
}

// TestReplayDeliversBinsInSeqOrder stores a recorded session's bins again
// as a recording can hold them after lost acknowledgements: one sent again
// and stored 50 bins late, one stored twice. Its replay is the original's,
// bit for bit, and says what it put back in order.
func TestReplayDeliversBinsInSeqOrder(t *testing.T) {
	js, model := recordSession(t, "ordered", 200)
	ctx := context.Background()
	src, err := replay.Open(ctx, js, "ordered", replay.Range{})
	require.NoError(t, err)
	var bins []acquire.Bin
	for {
		var b acquire.Bin
		if err := src.ReadBin(ctx, &b); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		bins = append(bins, b)
	}
	_, err = bus.EnsureStream(ctx, js, "shuffled", src.Info(), 1)
	require.NoError(t, err)
	src.Close()
	order := slices.Concat(seqRange(0, 100), seqRange(101, 151), []int{100}, seqRange(151, 200), []int{120})
	for _, i := range order {
		_, err := js.Publish(ctx, bus.BinsSubject("shuffled"), acquire.AppendBinMessage(nil, &bins[i]))
		require.NoError(t, err)
	}

	replayed := map[string][]decoder.Intent{}
	for _, name := range []string{"ordered", "shuffled"} {
		src, err := replay.Open(ctx, js, name, replay.Range{})
		require.NoError(t, err)
		res, err := replay.Run(ctx, src, model, replay.Options{})
		require.NoError(t, err)
		replayed[name] = res.Intents
		r := src.Reordering()
		src.Close()
		if name == "shuffled" {
			assert.Equal(t, replay.Reordering{Reordered: 1, Duplicates: 1}, r, "bins out of order, and twice")
		} else {
			assert.Zero(t, r)
		}
	}
	d := replay.Compare(replayed["ordered"], replayed["shuffled"])
	assert.True(t, d.Identical, d.Mismatch)
	assert.Equal(t, 200, d.Compared)

	// Stored more than the read-ahead after its place, a bin cannot be
	// put back: it is skipped and counted as late, not as a duplicate.
	late := slices.Concat(seqRange(0, 5), seqRange(6, 200), seqRange(0, 5), seqRange(6, 200))
	_, err = bus.EnsureStream(ctx, js, "late", src.Info(), 1)
	require.NoError(t, err)
	for k := range 12 {
		for _, i := range late {
			b := bins[i]
			b.Seq += uint64(k * 200)
			_, err := js.Publish(ctx, bus.BinsSubject("late"), acquire.AppendBinMessage(nil, &b))
			require.NoError(t, err)
		}
	}
	five := bins[5]
	_, err = js.Publish(ctx, bus.BinsSubject("late"), acquire.AppendBinMessage(nil, &five))
	require.NoError(t, err)
	lsrc, err := replay.Open(ctx, js, "late", replay.Range{})
	require.NoError(t, err)
	defer lsrc.Close()
	n := 0
	for {
		var b acquire.Bin
		if err := lsrc.ReadBin(ctx, &b); err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		assert.NotEqual(t, uint64(5), b.Seq)
		n++
	}
	assert.Equal(t, 12*199, n)
	assert.Equal(t, replay.Reordering{Late: 1, Duplicates: 12 * 199}, lsrc.Reordering())
}

func seqRange(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
