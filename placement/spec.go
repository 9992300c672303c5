package placement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
)

// Buckets of the placement state.
const (
	SpecBucket   = "bci-sessions"
	LeaseBucket  = bus.LeaseBucket
	WorkerBucket = "bci-workers"
)

// Spec declares a session for the cluster to decode. The source is the
// simulator, so any process can produce the session's bins; Epoch fixes
// its schedule in wall-clock time, so a process that takes over produces
// the same bins at the same times.
type Spec struct {
	Session        string `json:"session"`
	Model          string `json:"model"`
	Channels       int    `json:"channels"`
	BinWidthNS     int64  `json:"bin_width_ns"`
	Seed           uint64 `json:"seed"`
	PopulationSeed uint64 `json:"population_seed"`
	// EpochNS is the Unix time of the start of bin 0.
	EpochNS       int64 `json:"epoch_ns"`
	Replicas      int   `json:"replicas"`
	SnapshotEvery int   `json:"snapshot_every"`
}

func (s Spec) validate() error {
	if err := bus.ValidateSession(s.Session); err != nil {
		return err
	}
	if s.Model == "" || s.Channels < 1 || s.BinWidthNS < 1e5 || s.EpochNS <= 0 {
		return fmt.Errorf("placement: incomplete session spec %+v", s)
	}
	return nil
}

// Buckets opens (creating if needed) the placement buckets; leases and
// heartbeats expire after ttl.
type Buckets struct {
	Specs, Leases, Workers jetstream.KeyValue
}

// ErrNoPlacement is returned by OpenBuckets, asked not to create them,
// when no session has been declared on the cluster.
var ErrNoPlacement = errors.New("no sessions declared on this cluster")

// OpenBuckets opens the placement buckets, creating missing ones with the
// given lease ttl and replica count (an existing bucket keeps its
// settings). A ttl of 0 only opens existing buckets.
func OpenBuckets(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (*Buckets, error) {
	if replicas < 1 {
		replicas = 1
	}
	open := func(cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
		kv, err := js.KeyValue(ctx, cfg.Bucket)
		if err == nil {
			return kv, nil
		}
		if ttl == 0 {
			if errors.Is(err, jetstream.ErrBucketNotFound) {
				return nil, ErrNoPlacement
			}
			return nil, err
		}
		kv, err = js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			return js.KeyValue(ctx, cfg.Bucket)
		}
		return kv, err
	}
	var b Buckets
	var err error
	if b.Specs, err = open(jetstream.KeyValueConfig{Bucket: SpecBucket, Replicas: replicas, Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("placement: %s: %w", SpecBucket, err)
	}
	if b.Leases, err = open(jetstream.KeyValueConfig{Bucket: LeaseBucket, TTL: ttl, Replicas: replicas, Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("placement: %s: %w", LeaseBucket, err)
	}
	if b.Workers, err = open(jetstream.KeyValueConfig{Bucket: WorkerBucket, TTL: ttl, Replicas: replicas, Storage: jetstream.FileStorage}); err != nil {
		return nil, fmt.Errorf("placement: %s: %w", WorkerBucket, err)
	}
	return &b, nil
}

// AddSession declares a session.
func (b *Buckets) AddSession(ctx context.Context, s Spec) error {
	if err := s.validate(); err != nil {
		return err
	}
	v, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := b.Specs.Create(ctx, s.Session, v); err != nil {
		return fmt.Errorf("placement: add session %s: %w", s.Session, err)
	}
	return nil
}

// Placement is one row of the sessions listing.
type Placement struct {
	Spec  Spec   `json:"spec"`
	Owner string `json:"owner,omitempty"`
}

// WorkerLoad is a live process and the number of sessions it decodes.
type WorkerLoad struct {
	ID       string `json:"id"`
	Sessions int    `json:"sessions"`
}

// List returns every declared session with its current owner, and the
// live workers.
func (b *Buckets) List(ctx context.Context) ([]Placement, []WorkerLoad, error) {
	specs, err := b.specs(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Placement, 0, len(specs))
	for _, s := range specs {
		p := Placement{Spec: s}
		if e, err := b.Leases.Get(ctx, s.Session); err == nil {
			p.Owner = string(e.Value())
		}
		out = append(out, p)
	}
	loads, err := b.loads(ctx)
	return out, loads, err
}

func (b *Buckets) specs(ctx context.Context) ([]Spec, error) {
	keys, err := b.Specs.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Spec
	for k := range keys.Keys() {
		e, err := b.Specs.Get(ctx, k)
		if err != nil {
			continue // deleted meanwhile
		}
		var s Spec
		if err := json.Unmarshal(e.Value(), &s); err != nil || s.validate() != nil {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (b *Buckets) loads(ctx context.Context) ([]WorkerLoad, error) {
	keys, err := b.Workers.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []WorkerLoad
	for k := range keys.Keys() {
		e, err := b.Workers.Get(ctx, k)
		if err != nil {
			continue
		}
		var l WorkerLoad
		if json.Unmarshal(e.Value(), &l) == nil {
			out = append(out, l)
		}
	}
	return out, nil
}
