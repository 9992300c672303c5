package session_test

import (
	"context"
	"encoding/json"
	"flag"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// toyOutput is the smallest output plug-in: it counts what it is fed and
// records its life cycle, so the test can see the session drive it.
type toyOutput struct {
	events   []string
	fed      atomic.Int64
	fedLate  atomic.Bool // fed after Close: a life-cycle bug
	closed   atomic.Bool
	lastSeq  atomic.Uint64
	prefix   string
	shapeSet acquire.Shape
}

func (o *toyOutput) Start(ctx context.Context) error {
	o.events = append(o.events, "start")
	return nil
}

func (o *toyOutput) Consume(in *decoder.Intent, _ *acquire.Bin) {
	if o.closed.Load() {
		o.fedLate.Store(true)
	}
	o.fed.Add(1)
	o.lastSeq.Store(in.Seq)
}

func (o *toyOutput) Close(ctx context.Context) error {
	o.events = append(o.events, "close")
	o.closed.Store(true)
	return nil
}

func (o *toyOutput) Report() (string, any) { return "toy", map[string]int64{"fed": o.fed.Load()} }

var toys = make(chan *toyOutput, 8)

// The registration a plug-in's own file would carry.
func init() {
	pipeline.Register(pipeline.Plugin{Name: "toy", Flags: func(fs *flag.FlagSet) pipeline.Binding {
		prefix := fs.String("toy-prefix", "", "switch the toy output on, with this prefix")
		headline := fs.Bool("toy-headline", false, "make the toy output head the summary")
		return pipeline.Binding{Output: func(_ context.Context, env *pipeline.Env) (pipeline.Output, error) {
			if *prefix == "" {
				return nil, nil
			}
			o := &toyOutput{prefix: *prefix, shapeSet: env.Shape}
			toys <- o
			if *headline {
				return headlineToy{o}, nil
			}
			return o, nil
		}}
	}})
}

// TestOutputPluginLifeCycle registers an output as a plug-in file would,
// switches it on with its own flag, and checks that a session built it,
// started it, fed it every intent and closed it.
func TestOutputPluginLifeCycle(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	factories := pipeline.BindFlags(fs).Outputs()
	require.NoError(t, fs.Parse([]string{"--toy-prefix", "x"}))
	nc, _ := startServer(t)
	const bins = 200
	res, err := session.Run(context.Background(), session.Options{
		Session: "toy", Conn: nc, Source: simSource(t, 2, bins, false), Model: model(t, "kalman", 1, 20*time.Millisecond), Outputs: factories,
	})
	require.NoError(t, err)
	var o *toyOutput
	select {
	case o = <-toys:
	default:
		t.Fatal("the session did not build the plug-in")
	}
	assert.Equal(t, []string{"start", "close"}, o.events)
	assert.Equal(t, int64(bins), o.fed.Load(), "fed every intent")
	assert.Equal(t, uint64(bins-1), o.lastSeq.Load())
	assert.False(t, o.fedLate.Load(), "never fed after Close")
	assert.Equal(t, 96, o.shapeSet.Channels)
	assert.Equal(t, map[string]int64{"fed": bins}, res.Outputs["toy"])

	// Off unless its flag says otherwise.
	fs = flag.NewFlagSet("run", flag.ContinueOnError)
	factories = pipeline.BindFlags(fs).Outputs()
	require.NoError(t, fs.Parse(nil))
	_, err = session.Run(context.Background(), session.Options{
		Session: "toy2", Conn: nc, Source: simSource(t, 2, 10, false), Model: model(t, "kalman", 1, 20*time.Millisecond), Outputs: factories,
	})
	require.NoError(t, err)
	assert.Empty(t, toys)
}

// headlineToy is a toy output whose report heads the summary.
type headlineToy struct{ *toyOutput }

func (headlineToy) Headline() {}

// TestHeadlineOutput: an output that is a pipeline.Headliner has its
// report at the top level of the summary's JSON, not among the outputs.
func TestHeadlineOutput(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	factories := pipeline.BindFlags(fs).Outputs()
	require.NoError(t, fs.Parse([]string{"--toy-prefix", "x", "--toy-headline"}))
	nc, _ := startServer(t)
	res, err := session.Run(context.Background(), session.Options{
		Session: "headline", Conn: nc, Source: simSource(t, 2, 50, false), Model: model(t, "kalman", 1, 20*time.Millisecond), Outputs: factories,
	})
	require.NoError(t, err)
	<-toys
	assert.NotContains(t, res.Outputs, "toy")
	assert.Equal(t, map[string]int64{"fed": 50}, res.Headlines["toy"])
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &top), "%s", b)
	assert.JSONEq(t, `{"fed":50}`, string(top["toy"]))
	assert.Contains(t, top, "bins", "beside the summary's own keys")
}
