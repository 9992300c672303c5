package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/bci-decode/bci-decode/dataset"
)

// loadEvalSet reads a recorded binned data set for eval. Formats known to
// binnedOpeners are read through it; a .csv table without a registered
// reader is read by readCSVTable.
func loadEvalSet(path string, rebin int, targets []string) (*dataset.Set, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if _, ok := binnedOpeners[ext]; ok || ext != ".csv" {
		return loadSet(path, rebin, targets)
	}
	set, err := readCSVTable(path, rebin)
	if err != nil {
		return nil, err
	}
	return set.SelectTargets(targets...)
}

var binWidthInName = regexp.MustCompile(`bin(\d+)ms`)

// readCSVTable reads the binned CSV layouts of ../shared/data: an optional
// trial column, targets vel_x/vel_y/pos_x/pos_y (or hand_vel_*/hand_pos_*),
// and features rate_u* (spikes/s, converted to counts per bin using the
// bin width in the file name, default 100 ms) or unit_* (counts per 1 ms
// bin). rebin merges that many consecutive bins of one trial: counts add,
// targets average.
func readCSVTable(path string, rebin int) (*dataset.Set, error) {
	if rebin < 1 {
		return nil, fmt.Errorf("%w: --rebin must be at least 1", errUsage)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read table: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	trialCol := -1
	var featCols []int
	var featNames []string
	rate := false
	targetCols := map[string]int{}
	alias := map[string]string{"hand_vel_x": "vel_x", "hand_vel_y": "vel_y", "hand_pos_x": "pos_x", "hand_pos_y": "pos_y"}
	for i, h := range head {
		h = strings.TrimSpace(h)
		switch {
		case h == "trial":
			trialCol = i
		case strings.HasPrefix(h, "rate_"):
			rate = true
			featCols, featNames = append(featCols, i), append(featNames, h)
		case strings.HasPrefix(h, "unit_"):
			featCols, featNames = append(featCols, i), append(featNames, h)
		case h == "vel_x" || h == "vel_y" || h == "pos_x" || h == "pos_y":
			targetCols[h] = i
		case alias[h] != "":
			if _, ok := targetCols[alias[h]]; !ok {
				targetCols[alias[h]] = i
			}
		}
	}
	if len(featCols) == 0 {
		return nil, fmt.Errorf("%s: no rate_* or unit_* feature columns", path)
	}
	var tnames []string
	var tcols []int
	for _, n := range []string{"vel_x", "vel_y", "pos_x", "pos_y"} {
		if c, ok := targetCols[n]; ok {
			tnames, tcols = append(tnames, n), append(tcols, c)
		}
	}
	binMS := 1.0
	if rate {
		binMS = 100
		if m := binWidthInName.FindStringSubmatch(filepath.Base(path)); m != nil {
			binMS, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	set := &dataset.Set{BinWidth: int64(binMS*1e6) * int64(rebin), FeatureNames: featNames, TargetNames: tnames}
	var accX []float32
	var accY []float32
	n, curTrial := 0, 0
	flush := func() {
		if n == 0 {
			return
		}
		for i := range accY {
			accY[i] /= float32(n)
		}
		set.X = append(set.X, accX)
		set.Y = append(set.Y, accY)
		set.Trial = append(set.Trial, curTrial)
		accX, accY, n = nil, nil, 0
	}
	line := 1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		trial := -1
		if trialCol >= 0 {
			v, err := strconv.ParseFloat(rec[trialCol], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: trial %q: %w", path, line, rec[trialCol], err)
			}
			trial = int(v)
		}
		if n > 0 && (trial != curTrial || n == rebin) {
			flush()
		}
		if n == 0 {
			accX, accY, curTrial = make([]float32, len(featCols)), make([]float32, len(tcols)), trial
		}
		for k, c := range featCols {
			v, err := strconv.ParseFloat(rec[c], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %s %q: %w", path, line, head[c], rec[c], err)
			}
			if rate {
				v *= binMS / 1000
			}
			accX[k] += float32(v)
		}
		for k, c := range tcols {
			v, err := strconv.ParseFloat(rec[c], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %s %q: %w", path, line, head[c], rec[c], err)
			}
			accY[k] += float32(v)
		}
		n++
	}
	flush()
	if set.Len() == 0 {
		return nil, fmt.Errorf("%s: no bins", path)
	}
	return set, nil
}
