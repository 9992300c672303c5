package closedloop

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/internal/testkit"
	"github.com/bci-decode/bci-decode/replay"
	"github.com/bci-decode/bci-decode/session"
)

func TestExploreLabels(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	srv := testkit.Server(t, bus.ServerOptions{})
	nc := testkit.Connect(t, srv.ClientURL())
	ctx := context.Background()
	cal, err := Calibrate(ctx, CalibrationOptions{Sim: acquire.SimConfig{Seed: 1, PopulationSeed: 1}, Duration: time.Minute, Kind: os.Getenv("KIND"), Fit: decoder.FitOptions{Seed: 1}})
	require.NoError(t, err)
	_, err = Run(ctx, Options{Session: session.Options{Session: "lab", Conn: nc, Model: cal.Model, Record: true}, Trials: 64, User: UserOptions{Population: cal.Population}})
	require.NoError(t, err)
	js, _ := jetstream.New(nc)
	intents, _ := replay.RecordedIntents(ctx, js, "lab")
	states, _ := RecordedCursor(ctx, js, "lab")
	truth, _, err := replay.ReadSet(ctx, js, "lab")
	require.NoError(t, err)
	l := newLabeller(intents, states, 0)
	for _, lag := range []int{0, 6} {
		var se, ss, sdec float64
		var mx, my float64
		n := 0
		for j := range truth.Len() {
			v, _, ok := l.label(uint64(j))
			if lag > 0 && j > lag {
				in, cur, prev := l.intents[uint64(j)], l.states[uint64(j)], l.states[uint64(j-1-lag)]
				v = Refit([2]float64{float64(in.Values[0]), float64(in.Values[1])}, prev.Pos, cur.Target, cur.Radius)
			}
			if !ok {
				continue
			}
			in := l.intents[uint64(j)]
			y := truth.Y[j]
			for d := range 2 {
				se += math.Pow(v[d]-float64(y[d]), 2)
				sdec += math.Pow(float64(in.Values[d])-float64(y[d]), 2)
			}
			mx += float64(y[0])
			my += float64(y[1])
			n++
		}
		mx /= float64(n)
		my /= float64(n)
		for j := range truth.Len() {
			y := truth.Y[j]
			ss += math.Pow(float64(y[0])-mx, 2) + math.Pow(float64(y[1])-my, 2)
		}
		t.Logf("lag %d: R2 refit vs truth %.3f, decoded vs truth %.3f (n %d)", lag, 1-se/ss, 1-sdec/ss, n)
	}
}
