package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/decoder"
)

// ErrNoModel is returned for a model hash the store does not hold.
var ErrNoModel = errors.New("no such model")

// Models stores model files in the JetStream Object Store, named by their
// content hash.
type Models struct {
	os jetstream.ObjectStore
}

// OpenModels opens the model bucket, creating it with the given replica
// count if it does not exist (an existing bucket keeps its replicas).
func OpenModels(ctx context.Context, js jetstream.JetStream, replicas int) (*Models, error) {
	if replicas < 1 {
		replicas = 1
	}
	if os, err := js.ObjectStore(ctx, ModelBucket); err == nil {
		return &Models{os: os}, nil
	}
	os, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      ModelBucket,
		Description: "bci-decode model files by SHA-256",
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", ModelBucket, err)
	}
	return &Models{os: os}, nil
}

// Put stores a model file and returns its content hash. The file is
// verified first, so the store never holds a model that does not load.
func (m *Models) Put(ctx context.Context, model []byte) (string, error) {
	l, err := decoder.Decode(model)
	if err != nil {
		return "", fmt.Errorf("store model: %w", err)
	}
	if _, err := m.os.GetInfo(ctx, l.Hash); err == nil {
		return l.Hash, nil // content-addressed: already there
	}
	if _, err := m.os.Put(ctx, jetstream.ObjectMeta{Name: l.Hash, Description: l.Kind()}, bytes.NewReader(model)); err != nil {
		return "", fmt.Errorf("store model %s: %w", l.Hash, err)
	}
	return l.Hash, nil
}

// Get loads the model with the given content hash.
func (m *Models) Get(ctx context.Context, hash string) (*decoder.Loaded, error) {
	b, err := m.os.GetBytes(ctx, hash)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%w %q in bucket %s", ErrNoModel, hash, ModelBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("fetch model %s: %w", hash, err)
	}
	l, err := decoder.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", hash, err)
	}
	if l.Hash != hash {
		return nil, fmt.Errorf("model stored as %s has content hash %s: the store is damaged", hash, l.Hash)
	}
	return l, nil
}
