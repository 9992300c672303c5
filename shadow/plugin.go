package shadow

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
)

// The --shadow flag of every command that decodes live.
func init() {
	pipeline.Register(pipeline.Plugin{Name: "shadow", Flags: func(fs *flag.FlagSet) pipeline.Binding {
		path := fs.String("shadow", "", "model file to decode every bin with beside the live model, publishing on bci.<session>.shadow.intent (promote it with swap)")
		return pipeline.Binding{Output: func(ctx context.Context, env *pipeline.Env) (pipeline.Output, error) {
			if *path == "" {
				return nil, nil
			}
			m, err := decoder.Load(*path)
			if err != nil {
				return nil, fmt.Errorf("--shadow: %w", err)
			}
			return build(env, m)
		}}
	}})
}

// Factory returns an output factory that shadows every session it builds
// for with a copy of m (decoders keep state, so sessions never share one).
func Factory(m *decoder.Loaded) pipeline.Factory {
	return func(_ context.Context, env *pipeline.Env) (pipeline.Output, error) {
		c, ok := m.Decoder.(decoder.Cloner)
		if !ok {
			return nil, fmt.Errorf("shadow: %s decoders cannot be copied for a session", m.Kind())
		}
		cp := *m
		cp.Decoder = c.Clone()
		return build(env, &cp)
	}
}

func build(env *pipeline.Env, m *decoder.Loaded) (pipeline.Output, error) {
	nc, ok := pipeline.Service[*nats.Conn](env)
	if !ok {
		return nil, errors.New("shadow: the session has no NATS connection")
	}
	return New(env, nc, Options{Model: m})
}
