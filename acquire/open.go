package acquire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sources are opened from one spec string, as the command line gives it:
//
//	sim                   the simulator (SimConfig from Params)
//	nats                  raw frames a bridge publishes on bci.<session>.raw
//	lsl:type='EEG'        a Lab Streaming Layer stream matching a predicate
//	file:rec.bcr, rec.edf a recorded file, its format from the extension or
//	                      Params.Format
//
// Each scheme and each file format registers itself, in its own file, with
// RegisterScheme or RegisterFormat; Open dispatches to it.

// Params carries what an opener may need beyond the spec string.
type Params struct {
	// Session names the session the source feeds (subjects, stream names).
	Session string
	// Format overrides the file extension ("bcr", "csv", "raw", "edf").
	Format string
	// Rebin merges this many rows of a binned table into one bin
	// (default 1).
	Rebin int
	// BinWidth is the bin width the stream is decoded at; a live source
	// that delivers bins of its own checks that they are this wide.
	BinWidth time.Duration
	// Raw describes raw int16 files beyond what a sidecar says.
	Raw RawOptions
	// Sim configures the simulator.
	Sim SimConfig
	// Services are the process's shared dependencies (its NATS
	// connection, say), found by type with Service.
	Services []any
}

// EnsureDefaults fills the zero fields of p.
func (p *Params) EnsureDefaults() {
	p.Rebin = max(p.Rebin, 1)
}

// Service returns the first service of type T in p.
func Service[T any](p *Params) (T, bool) {
	for _, s := range p.Services {
		if t, ok := s.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// Opened is an open source: either binned, delivering Bins directly, or
// continuous, delivering Frames for the signal chain.
type Opened struct {
	Bins   BinSource
	Frames Source
	// Live marks a source paced by the world (an amplifier, the network):
	// it cannot be read faster than real time.
	Live bool
	// Rebase marks a source whose bin times count from zero (the
	// simulator): when it is paced in real time its times become wall-clock
	// times, as a live array's would.
	Rebase bool
	// Close releases the source.
	Close func() error
}

// Opener opens sources of one scheme; arg is what follows "scheme:" in the
// spec (empty for a bare scheme).
type Opener func(ctx context.Context, arg string, p *Params) (Opened, error)

// FileOpener opens files of one format.
type FileOpener func(ctx context.Context, path string, p *Params) (Opened, error)

type format struct {
	open FileOpener
	exts []string
}

var (
	registryMu sync.RWMutex
	schemes    = map[string]Opener{}
	formats    = map[string]format{}
)

// RegisterScheme makes the sources of a scheme openable. It is meant for
// init functions; registering a scheme twice panics.
func RegisterScheme(scheme string, open Opener) { addScheme(schemes, "RegisterScheme", scheme, open) }

// addScheme registers open under scheme in m, one of the registries
// registryMu guards; "file" is taken by files, and registering a scheme
// twice panics, as that is a programming error.
func addScheme[T any](m map[string]T, caller, scheme string, open T) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := m[scheme]; dup || scheme == "file" {
		panic("acquire: " + caller + " called twice for " + scheme)
	}
	m[scheme] = open
}

// lookupScheme returns the opener m holds for the scheme of spec, and the
// rest of spec.
func lookupScheme[T any](m map[string]T, spec string) (open T, scheme, arg string, ok bool) {
	scheme, arg, _ = strings.Cut(spec, ":")
	registryMu.RLock()
	defer registryMu.RUnlock()
	open, ok = m[scheme]
	return open, scheme, arg, ok
}

// RegisterFormat makes a file format openable, by name (for Params.Format)
// and by its extensions (with the dot, lower case). It is meant for init
// functions; registering a name twice panics.
func RegisterFormat(name string, exts []string, open FileOpener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := formats[name]; dup {
		panic("acquire: RegisterFormat called twice for " + name)
	}
	formats[name] = format{open: open, exts: exts}
}

// ErrSpec is wrapped by errors about a source spec that names nothing
// openable.
var ErrSpec = errors.New("unknown source")

// Open opens the source spec names. A spec that is neither a registered
// scheme nor a file of a known format is an ErrSpec error listing what is
// known.
func Open(ctx context.Context, spec string, p Params) (Opened, error) {
	p.EnsureDefaults()
	open, scheme, arg, ok := lookupScheme(schemes, spec)
	switch {
	case ok:
		return open(ctx, arg, &p)
	case scheme == "file":
		return OpenFile(ctx, arg, &p)
	case spec == "":
		return Opened{}, fmt.Errorf("%w: empty source spec (have %s, file:PATH)", ErrSpec, strings.Join(Schemes(), ", "))
	}
	return OpenFile(ctx, spec, &p)
}

// OpenFile opens a recorded file by Params.Format or its extension.
func OpenFile(ctx context.Context, path string, p *Params) (Opened, error) {
	name, f, err := formatOf(path, p.Format)
	if err != nil {
		return Opened{}, err
	}
	o, err := f.open(ctx, path, p)
	if err != nil {
		return Opened{}, fmt.Errorf("%s file: %w", name, err)
	}
	return o, nil
}

func formatOf(path, override string) (string, format, error) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	if override != "" {
		name := strings.ToLower(override)
		if f, ok := formats[name]; ok {
			return name, f, nil
		}
		return "", format{}, fmt.Errorf("%w: format %q (have %s)", ErrSpec, override, strings.Join(formatNames(), ", "))
	}
	ext := strings.ToLower(filepath.Ext(path))
	for name, f := range formats {
		for _, e := range f.exts {
			if e == ext {
				return name, f, nil
			}
		}
	}
	return "", format{}, fmt.Errorf("%w %q: not a source scheme (%s) and no file format reads %q files (%s)", ErrSpec, path, strings.Join(schemeNames(), ", "), ext, strings.Join(formatNames(), ", "))
}

// HasFormat reports whether a file format of that name is registered.
func HasFormat(name string) bool {
	registryMu.RLock()
	defer registryMu.RUnlock()
	_, ok := formats[strings.ToLower(name)]
	return ok
}

// Schemes lists the registered schemes, sorted.
func Schemes() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return schemeNames()
}

func schemeNames() []string {
	out := make([]string, 0, len(schemes))
	for s := range schemes {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Formats describes the registered file formats for help texts, e.g.
// "bcr (.bcr), csv (.csv)".
func Formats() string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(formats))
	for _, name := range formatNames() {
		out = append(out, fmt.Sprintf("%s (%s)", name, strings.Join(formats[name].exts, " ")))
	}
	return strings.Join(out, ", ")
}

func formatNames() []string {
	out := make([]string, 0, len(formats))
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// binned wraps a binned file reader as an open source.
func binned[S interface {
	BinSource
	io.Closer
}](s S, err error) (Opened, error) {
	if err != nil {
		return Opened{}, err
	}
	return Opened{Bins: s, Close: s.Close}, nil
}

// continuous wraps a continuous file reader as an open source.
func continuous[S interface {
	Source
	io.Closer
}](s S, err error) (Opened, error) {
	if err != nil {
		return Opened{}, err
	}
	return Opened{Frames: s, Close: s.Close}, nil
}

// noRebin refuses --rebin for formats it means nothing to.
func noRebin(p *Params, what string) error {
	if p.Rebin > 1 {
		return fmt.Errorf("rebinning applies to binned tables, not to %s", what)
	}
	return nil
}
