package pipeline_test

import (
	"context"
	"flag"
	"fmt"
	"sync/atomic"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// counter is the output of the README's plug-in example: it counts the
// intents it is fed.
type counter struct{ n atomic.Int64 }

func (c *counter) Start(ctx context.Context) error            { return nil }
func (c *counter) Consume(in *decoder.Intent, b *acquire.Bin) { c.n.Add(1) }
func (c *counter) Close(ctx context.Context) error            { return nil }
func (c *counter) Report() (string, any)                      { return "count", c.n.Load() }

// An output plug-in is one file: the output and one registration, whose
// flag switches it on for every command that decodes live. (The README's
// architecture section shows this example.)
func ExampleRegister() {
	pipeline.Register(pipeline.Plugin{Name: "count", Flags: func(fs *flag.FlagSet) pipeline.Binding {
		on := fs.Bool("count", false, "count the intents")
		return pipeline.Binding{Output: func(ctx context.Context, env *pipeline.Env) (pipeline.Output, error) {
			if !*on {
				return nil, nil // off for this session
			}
			return &counter{}, nil
		}}
	}})

	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	outputs := pipeline.BindFlags(fs).Outputs()
	_ = fs.Parse([]string{"--count"})
	o, _ := outputs[0](context.Background(), &pipeline.Env{})
	o.Consume(&decoder.Intent{}, &acquire.Bin{})
	name, n := o.(pipeline.Reporter).Report()
	fmt.Println(name, n)
	// Output: count 1
}
