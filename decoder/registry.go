package decoder

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/bci-decode/bci-decode/dataset"
)

// Plugin is a decoder kind: how to load its model files and how to train
// one. A new kind is one file that registers its Plugin in an init
// function; every command that loads, trains or compares decoders then
// knows it.
type Plugin struct {
	// Kind names the decoder type, as stored in model files (unique).
	Kind string
	// Doc describes the kind in one line, for help texts.
	Doc string
	// Load rebuilds a decoder from a model file's content.
	Load LoadFunc
	// Fit trains a decoder; nil for kinds that are only loaded.
	Fit FitFunc
	// Family groups kinds that share training settings (the spiking
	// networks); Flags binds the family's settings to command-line flags
	// once per flag set and returns a function giving their values, which
	// Fit finds in FitOptions.Tuning under the family's name.
	Family string
	Flags  func(fs *flag.FlagSet) func() (any, error)
	// SeedFree says that Fit ignores FitOptions.Seed (a closed-form fit),
	// so comparisons over seeds fit the kind once.
	SeedFree bool
}

// LoadFunc rebuilds a decoder of one kind from a model file's content.
type LoadFunc func(meta json.RawMessage, payload []byte) (Decoder, error)

// FitFunc trains a decoder of one kind on a training set.
type FitFunc func(ctx context.Context, train *dataset.Set, opts FitOptions) (Decoder, error)

// FitOptions are the training settings every kind understands, plus each
// family's own.
type FitOptions struct {
	// Seed makes training reproducible.
	Seed uint64
	// Epochs bounds iterative training; 0 is the kind's default.
	Epochs int
	// Progress, when set, receives each epoch of iterative training.
	Progress func(Epoch)
	// Tuning holds families' settings by family name (see BindFitFlags).
	Tuning map[string]any
	// Init, when set, is a trained decoder to start from. Iterative kinds
	// continue training from it when it is of their kind (fine-tuning);
	// kinds fitted in closed form, and other kinds, start afresh.
	Init Decoder
}

// Epoch reports one epoch of iterative training.
type Epoch struct {
	Kind          string
	Epoch, Epochs int
	// Metrics holds the epoch's figures: "train_loss", "val_loss",
	// "val_r2".
	Metrics map[string]float64
}

var (
	registryMu sync.RWMutex
	registry   = map[string]Plugin{}
)

// Register makes a decoder kind loadable, and trainable when it has a Fit.
// It is meant for init functions; registering a kind twice panics, as that
// is a programming error.
func Register(p Plugin) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[p.Kind]; dup || p.Load == nil {
		panic("decoder: Register(" + p.Kind + "): duplicate kind or no Load")
	}
	registry[p.Kind] = p
}

func lookup(kind string) (Plugin, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	p, ok := registry[kind]
	return p, ok
}

// Kinds lists the registered decoder kinds, sorted.
func Kinds() []string { return kinds(func(Plugin) bool { return true }) }

// Trainable lists the kinds that can be trained, sorted.
func Trainable() []string { return kinds(func(p Plugin) bool { return p.Fit != nil }) }

func kinds(keep func(Plugin) bool) []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k, p := range registry {
		if keep(p) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ErrUnknownKind is returned when a model file or a command names a
// decoder kind that no package registered.
var ErrUnknownKind = fmt.Errorf("unknown decoder kind")

// CheckTrainable reports whether kind can be trained, with the list of
// those that can when it cannot.
func CheckTrainable(kind string) error {
	if p, ok := lookup(kind); ok && p.Fit != nil {
		return nil
	}
	return fmt.Errorf("%w %q (trainable: %s)", ErrUnknownKind, kind, strings.Join(Trainable(), ", "))
}

// SeedFree reports whether training kind gives the same decoder from any
// seed (Plugin.SeedFree).
func SeedFree(kind string) bool {
	p, ok := lookup(kind)
	return ok && p.SeedFree
}

// Fit trains a decoder of the given kind.
func Fit(ctx context.Context, kind string, train *dataset.Set, opts FitOptions) (Decoder, error) {
	if err := CheckTrainable(kind); err != nil {
		return nil, err
	}
	p, _ := lookup(kind)
	d, err := p.Fit(ctx, train, opts)
	if err != nil {
		return nil, fmt.Errorf("train %s: %w", kind, err)
	}
	return d, nil
}

// BindFitFlags registers every family's training flags on fs and returns
// the function that checks their values and stores them in a FitOptions
// once fs is parsed.
func BindFitFlags(fs *flag.FlagSet) func(*FitOptions) error {
	registryMu.RLock()
	families := map[string]func(*flag.FlagSet) func() (any, error){}
	for _, p := range registry {
		if p.Family != "" && p.Flags != nil {
			families[p.Family] = p.Flags
		}
	}
	registryMu.RUnlock()
	values := map[string]func() (any, error){}
	for _, name := range sortedKeys(families) {
		values[name] = families[name](fs)
	}
	return func(o *FitOptions) error {
		if o.Tuning == nil {
			o.Tuning = map[string]any{}
		}
		for _, name := range sortedKeys(values) {
			v, err := values[name]()
			if err != nil {
				return err
			}
			o.Tuning[name] = v
		}
		return nil
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Train fits a decoder of kind to train and returns it as a model, with
// its content hash, as if it had been loaded from a file. Info's targets
// and bin width default to the set's.
func Train(ctx context.Context, kind string, train *dataset.Set, opts FitOptions, info ModelInfo) (*Loaded, error) {
	d, err := Fit(ctx, kind, train, opts)
	if err != nil {
		return nil, err
	}
	if info.Targets == nil {
		info.Targets = train.TargetNames
	}
	if info.BinWidthNS == 0 {
		info.BinWidthNS = int64(train.BinWidth)
	}
	_, hash, err := Encode(d, info)
	if err != nil {
		return nil, err
	}
	return &Loaded{Decoder: d, Hash: hash, Info: info}, nil
}
