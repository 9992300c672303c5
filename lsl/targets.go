package lsl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
)

// The "lsl" behaviour scheme: --targets lsl:PREDICATE labels bins with a
// second stream (a cursor, hand or joystick position or velocity), its
// samples aligned to the bins by their corrected stamps.
func init() {
	acquire.RegisterTargets("lsl", func(ctx context.Context, arg string, p *acquire.Params) (acquire.OpenedTargets, error) {
		cfg, err := configFrom(p.Services)
		if err != nil {
			return acquire.OpenedTargets{}, err
		}
		b, err := OpenBehaviour(ctx, cfg, arg, 10*time.Second)
		if err != nil {
			return acquire.OpenedTargets{}, err
		}
		return acquire.OpenedTargets{Samples: b, Close: b.Close}, nil
	})
}

// Behaviour reads a numeric stream sample by sample as an
// acquire.TargetSource: each value named by its channel label (or
// <stream>_<i>), each sample stamped on this machine's clock.
type Behaviour struct {
	in     *Inlet
	query  string
	names  []string
	stamps [1]int64
}

// OpenBehaviour resolves predicate (one stream, numeric, of any rate) and
// opens an inlet on it. The inlet keeps up to 10 s, so a recording that
// waits for a late neural stream loses no behaviour.
func OpenBehaviour(ctx context.Context, cfg *Config, predicate string, timeout time.Duration) (*Behaviour, error) {
	info, err := resolveOne(ctx, cfg, predicate, timeout)
	if err != nil {
		return nil, err
	}
	if info.Format == String {
		return nil, fmt.Errorf("lsl behaviour %s: %q is a string (marker) stream, not behaviour", predicate, info.Name)
	}
	in, err := OpenInlet(ctx, cfg, info, InletOptions{MaxBuffered: 10 * time.Second, Recover: true, Query: predicate})
	if err != nil {
		return nil, fmt.Errorf("lsl behaviour %s: %w", predicate, err)
	}
	b := &Behaviour{in: in, query: predicate}
	if b.names = labels(in.Info()); b.names == nil {
		for i := range info.ChannelCount {
			b.names = append(b.names, info.Name+"_"+strconv.Itoa(i))
		}
	}
	return b, nil
}

// Names implements acquire.TargetSource.
func (b *Behaviour) Names() []string { return b.names }

// ReadSample implements acquire.TargetSource.
func (b *Behaviour) ReadSample(ctx context.Context, v []float32) (int64, error) {
	_, err := b.in.PullFloat32(ctx, v, b.stamps[:])
	switch {
	case err == nil:
		return b.stamps[0], nil
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case errors.Is(err, ErrClosed):
		return 0, io.EOF
	}
	return 0, fmt.Errorf("lsl behaviour %s: %w", b.query, err)
}

// Report returns the inlet's counters, as Source.Report does.
func (b *Behaviour) Report() (string, any) {
	s := &Source{in: b.in, info: b.in.Info()}
	_, st := s.Report()
	return "lsl-targets", st
}

// Close closes the inlet.
func (b *Behaviour) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return b.in.Close(ctx)
}
