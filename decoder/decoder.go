package decoder

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
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

// ErrShape is wrapped when a decoder and a stream disagree on sizes.
var ErrShape = errors.New("shape mismatch")

// ModelInfo describes what a model was trained on. It is stored beside the
// decoder's parameters in the model file.
type ModelInfo struct {
	// Targets names the decoder's outputs in order (e.g. vel_x, vel_y).
	Targets []string `json:"targets"`
	// BinWidthNS is the bin width the model was trained with.
	BinWidthNS int64 `json:"bin_width_ns"`
	// TrainedOn describes the training data.
	TrainedOn string `json:"trained_on,omitempty"`
	// TrainedAt is when training finished (RFC 3339).
	TrainedAt string `json:"trained_at,omitempty"`
	// Metrics holds held-out figures measured after training.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// envelope is the JSON metadata of a model file: what the model was
// trained on, and the decoder's own metadata.
type envelope struct {
	Info   ModelInfo       `json:"info"`
	Params json.RawMessage `json:"params"`
}

// Loaded is a decoder read from a model file, with its provenance.
type Loaded struct {
	Decoder
	// Hash is the model file's content hash.
	Hash string
	// Info says what the model was trained on.
	Info ModelInfo
}

// Save writes d with its info to path and returns the model's content hash.
func Save(path string, d Decoder, info ModelInfo) (string, error) {
	b, hash, err := Encode(d, info)
	if err != nil {
		return "", err
	}
	if err := writeFile(path, b); err != nil {
		return "", err
	}
	return hash, nil
}

// Encode serialises d with its info as a model file and returns it with its
// content hash.
func Encode(d Decoder, info ModelInfo) ([]byte, string, error) {
	m, ok := d.(Marshaler)
	if !ok {
		return nil, "", fmt.Errorf("decoder: %s decoders cannot be saved", d.Kind())
	}
	meta, payload, err := m.MarshalModel()
	if err != nil {
		return nil, "", fmt.Errorf("decoder: encode %s: %w", d.Kind(), err)
	}
	params, err := json.Marshal(meta)
	if err != nil {
		return nil, "", fmt.Errorf("decoder: encode %s metadata: %w", d.Kind(), err)
	}
	if len(info.Targets) != 0 && len(info.Targets) != d.Outputs() {
		return nil, "", fmt.Errorf("decoder: %d target names for %d outputs: %w", len(info.Targets), d.Outputs(), ErrShape)
	}
	return modelfile.Encode(d.Kind(), envelope{Info: info, Params: params}, payload)
}

// Load reads a model file written by Save.
func Load(path string) (*Loaded, error) {
	m, err := modelfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l, err := FromModel(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Decode rebuilds a decoder from model-file bytes (e.g. from an object
// store).
func Decode(b []byte) (*Loaded, error) {
	m, err := modelfile.Decode(b)
	if err != nil {
		return nil, err
	}
	return FromModel(m)
}

// FromModel rebuilds the decoder held in a parsed model file.
func FromModel(m *modelfile.Model) (*Loaded, error) {
	p, ok := lookup(m.Kind)
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %v)", ErrUnknownKind, m.Kind, Kinds())
	}
	var env envelope
	if err := json.Unmarshal(m.Meta, &env); err != nil || env.Params == nil {
		return nil, fmt.Errorf("%w: %s model metadata has no decoder parameters", modelfile.ErrCorrupt, m.Kind)
	}
	d, err := p.Load(env.Params, m.Payload)
	if err != nil {
		return nil, fmt.Errorf("load %s model: %w", m.Kind, err)
	}
	if len(env.Info.Targets) != 0 && len(env.Info.Targets) != d.Outputs() {
		return nil, fmt.Errorf("%w: %s model names %d targets for %d outputs", modelfile.ErrCorrupt, m.Kind, len(env.Info.Targets), d.Outputs())
	}
	return &Loaded{Decoder: d, Hash: m.Hash, Info: env.Info}, nil
}

// BinWidth is the bin width the model was trained with (0 when unknown).
func (i ModelInfo) BinWidth() time.Duration { return time.Duration(i.BinWidthNS) }

// Fits reports whether the model can decode a stream of the given shape:
// as many features per bin as it has inputs, and bins as wide as those it
// was trained on. Every place where a model meets a stream asks this.
func (l *Loaded) Fits(s acquire.Shape) error {
	if l.Inputs() != s.Channels {
		return fmt.Errorf("model %.12s (%s) expects %d features per bin, the stream has %d: %w", l.Hash, l.Kind(), l.Inputs(), s.Channels, ErrShape)
	}
	if w := l.Info.BinWidth(); w != 0 && s.BinWidth != 0 && w != s.BinWidth {
		return fmt.Errorf("model %.12s (%s) was trained on %v bins, the stream has %v bins: %w", l.Hash, l.Kind(), w, s.BinWidth, ErrShape)
	}
	return nil
}
