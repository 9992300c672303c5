package placement

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
)

// Declaration is a session to declare: a simulated array decoded by a
// model, which a worker will take.
type Declaration struct {
	Session string
	// Model is the content hash of a model in the store; ModelFile, when
	// set instead, is stored first.
	Model, ModelFile string
	Sim              acquire.SimConfig
	Replicas         int
	SnapshotEvery    int
}

// Declare checks that the model fits the simulated array and declares the
// session, returning its spec.
func Declare(ctx context.Context, nc *nats.Conn, d Declaration) (Spec, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return Spec{}, err
	}
	models, err := bus.OpenModels(ctx, js, d.Replicas)
	if err != nil {
		return Spec{}, err
	}
	if d.ModelFile != "" {
		b, err := os.ReadFile(d.ModelFile)
		if err != nil {
			return Spec{}, err
		}
		if d.Model, err = models.Put(ctx, b); err != nil {
			return Spec{}, fmt.Errorf("%s: %w", d.ModelFile, err)
		}
	}
	m, err := models.Get(ctx, d.Model)
	if err != nil {
		return Spec{}, err
	}
	c := d.Sim
	if err := m.Fits(acquire.Shape{Channels: c.Channels, BinWidth: c.BinWidth}); err != nil {
		return Spec{}, err
	}
	b, err := OpenBuckets(ctx, js, time.Second, d.Replicas)
	if err != nil {
		return Spec{}, err
	}
	spec := Spec{Session: d.Session, Model: m.Hash, Channels: c.Channels, BinWidthNS: int64(c.BinWidth),
		Seed: c.Seed, PopulationSeed: c.PopulationSeed, EpochNS: time.Now().UnixNano(), Replicas: d.Replicas, SnapshotEvery: d.SnapshotEvery}
	return spec, b.AddSession(ctx, spec)
}
