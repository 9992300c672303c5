package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/dataset"
)

// binnedOpeners open recorded binned data by file extension. Files that add
// formats register them in init functions.
var binnedOpeners = map[string]func(path string, rebin int) (acquire.BinnedSource, io.Closer, error){
	".bcr": func(path string, rebin int) (acquire.BinnedSource, io.Closer, error) {
		if rebin > 1 {
			return nil, nil, fmt.Errorf("%w: --rebin applies to tables, not to .bcr recordings", errUsage)
		}
		r, err := acquire.OpenRecording(path)
		if err != nil {
			return nil, nil, err
		}
		return r, r, nil
	},
}

// binnedFormats lists the extensions openBinned knows, for help texts.
func binnedFormats() string {
	known := make([]string, 0, len(binnedOpeners))
	for k := range binnedOpeners {
		known = append(known, k)
	}
	sort.Strings(known)
	return strings.Join(known, ", ")
}

func init() {
	binnedOpeners[".csv"] = func(path string, rebin int) (acquire.BinnedSource, io.Closer, error) {
		t, err := acquire.OpenTable(path, acquire.TableOptions{Rebin: rebin})
		if err != nil {
			return nil, nil, err
		}
		return t, t, nil
	}
}

// openBinned opens a recorded binned source.
func openBinned(path string, rebin int) (acquire.BinnedSource, io.Closer, error) {
	ext := strings.ToLower(filepath.Ext(path))
	open, ok := binnedOpeners[ext]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s: unknown binned data format %q (known: %s)", errUsage, path, ext, binnedFormats())
	}
	return open(path, rebin)
}

// loadSet reads a whole binned recording and keeps the named targets.
func loadSet(path string, rebin int, targets []string) (*dataset.Set, error) {
	src, c, err := openBinned(path, rebin)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	set, err := dataset.Read(src)
	if err != nil {
		return nil, err
	}
	if set.Len() == 0 {
		return nil, fmt.Errorf("%s: no bins", path)
	}
	return set.SelectTargets(targets...)
}
