package decoder

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/bci-decode/bci-decode/modelfile"
)

// Decoder maps the features of one bin to the outputs of one timestep.
// Implementations keep their state between calls (filters, membranes) and
// must not allocate in Step.
type Decoder interface {
	// Kind names the decoder type, as stored in model files.
	Kind() string
	// Inputs is the number of features per bin the decoder expects.
	Inputs() int
	// Outputs is the number of values Step writes.
	Outputs() int
	// Step decodes one bin: features has Inputs() values, out receives
	// Outputs() values.
	Step(features, out []float32)
	// Reset returns the decoder to its state at the start of a stream.
	Reset()
}

// Marshaler is a decoder that can be saved to a model file.
type Marshaler interface {
	// MarshalModel returns JSON-encodable metadata and the binary payload.
	MarshalModel() (meta any, payload []byte, err error)
}

// Cloner is a decoder whose fitted parameters can be shared by an
// independent copy with its own state, for running several streams at once.
type Cloner interface {
	Clone() Decoder
}

// LoadFunc rebuilds a decoder of one kind from a model file's content.
type LoadFunc func(meta json.RawMessage, payload []byte) (Decoder, error)

// ErrUnknownKind is returned when a model file names a decoder kind that no
// package registered.
var ErrUnknownKind = errors.New("unknown decoder kind")

// ErrShape is wrapped when a decoder and a stream disagree on sizes.
var ErrShape = errors.New("shape mismatch")

var (
	registryMu sync.RWMutex
	registry   = map[string]LoadFunc{}
)

// Register makes a decoder kind loadable. It is meant for init functions;
// registering a kind twice panics, as that is a programming error.
func Register(kind string, load LoadFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[kind]; dup {
		panic("decoder: Register called twice for kind " + kind)
	}
	registry[kind] = load
}

// Kinds lists the registered decoder kinds, sorted.
func Kinds() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Save writes d to path and returns the model's content hash.
func Save(path string, d Decoder) (string, error) {
	b, hash, err := Encode(d)
	if err != nil {
		return "", err
	}
	if err := writeFile(path, b); err != nil {
		return "", err
	}
	return hash, nil
}

// Encode serialises d as a model file and returns it with its content hash.
func Encode(d Decoder) ([]byte, string, error) {
	m, ok := d.(Marshaler)
	if !ok {
		return nil, "", fmt.Errorf("decoder: %s decoders cannot be saved", d.Kind())
	}
	meta, payload, err := m.MarshalModel()
	if err != nil {
		return nil, "", fmt.Errorf("decoder: encode %s: %w", d.Kind(), err)
	}
	return modelfile.Encode(d.Kind(), meta, payload)
}

// Load reads a model file written by Save and returns the decoder and the
// model's content hash.
func Load(path string) (Decoder, string, error) {
	m, err := modelfile.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	d, err := FromModel(m)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	return d, m.Hash, nil
}

// Decode rebuilds a decoder from model-file bytes (e.g. from an object
// store) and returns it with its content hash.
func Decode(b []byte) (Decoder, string, error) {
	m, err := modelfile.Decode(b)
	if err != nil {
		return nil, "", err
	}
	d, err := FromModel(m)
	if err != nil {
		return nil, "", err
	}
	return d, m.Hash, nil
}

// FromModel rebuilds the decoder held in a parsed model file.
func FromModel(m *modelfile.Model) (Decoder, error) {
	registryMu.RLock()
	load, ok := registry[m.Kind]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownKind, m.Kind, Kinds())
	}
	d, err := load(m.Meta, m.Payload)
	if err != nil {
		return nil, fmt.Errorf("load %s model: %w", m.Kind, err)
	}
	return d, nil
}
