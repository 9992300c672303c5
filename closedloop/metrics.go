package closedloop

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Trial is one completed trial of the cursor task: where it started, the
// target, the cursor's path and how it ended. Times are counted in bins
// from target onset: the cursor is at Path[k] at the end of bin k, (k+1)
// bin widths after onset.
type Trial struct {
	Index  int        `json:"trial"`
	Target [2]float64 `json:"target"`
	Radius float64    `json:"radius"`
	// Start is the cursor position at target onset.
	Start    [2]float64    `json:"start"`
	Path     [][2]float64  `json:"path"`
	BinWidth time.Duration `json:"bin_width_ns"`
	// Outcome is PhaseSuccess or PhaseTimeout.
	Outcome Phase `json:"outcome"`
	// FirstEntry is the bin the cursor first entered the target (-1:
	// never); FinalEntry the bin of the entry it then held (-1: none).
	FirstEntry int `json:"first_entry"`
	FinalEntry int `json:"final_entry"`
}

// Succeeded reports whether the target was acquired and held.
func (t *Trial) Succeeded() bool {
	return t.Outcome == PhaseSuccess && t.FinalEntry >= 0 && t.FinalEntry < len(t.Path)
}

// AcquisitionTime is the time from target onset to the entry that was
// held (the hold itself excluded, as in Gilja et al. 2012).
func (t *Trial) AcquisitionTime() time.Duration { return time.Duration(t.FinalEntry+1) * t.BinWidth }

// DialIn is the time from the first entry into the target to the entry
// that was held: 0 when the first entry was held.
func (t *Trial) DialIn() time.Duration { return time.Duration(t.FinalEntry-t.FirstEntry) * t.BinWidth }

// PathEfficiency is the straight-line distance from the start to where the
// cursor entered for good, over the length of the path it took there: 1
// for a straight reach.
func (t *Trial) PathEfficiency() float64 {
	length, prev := 0.0, t.Start
	for _, p := range t.Path[:t.FinalEntry+1] {
		length += dist(p, prev)
		prev = p
	}
	straight := dist(t.Path[t.FinalEntry], t.Start)
	if length == 0 {
		return 1 // started inside the target
	}
	return straight / length
}

// Difficulty is the Fitts index of difficulty in bits, log2(1 + D/W), with
// D the distance from the start to the target's centre and W the target's
// width (its diameter).
func (t *Trial) Difficulty() float64 {
	return math.Log2(1 + dist(t.Target, t.Start)/(2*t.Radius))
}

func dist(a, b [2]float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

// Metrics summarise a block of trials. Times and efficiencies are means
// over the successful trials (with their standard deviation), the success
// rate is over all of them.
type Metrics struct {
	Trials          int     `json:"trials"`
	Successes       int     `json:"successes"`
	SuccessRate     float64 `json:"success_rate"`
	AcquisitionTime float64 `json:"acquisition_time_s"`
	AcquisitionSD   float64 `json:"acquisition_time_sd_s"`
	PathEfficiency  float64 `json:"path_efficiency"`
	DialIn          float64 `json:"dial_in_s"`
	// Throughput is the mean over successful trials of the index of
	// difficulty over the acquisition time (bits/s).
	Throughput float64 `json:"throughput_bps"`
}

// Score computes a block's metrics from its trials. Every closed-loop
// figure the package, its commands and its tests report comes from here.
// With no successful trial the means are 0.
func Score(trials []Trial) Metrics {
	m := Metrics{Trials: len(trials)}
	var acq, eff, dial, tp []float64
	for i := range trials {
		t := &trials[i]
		if !t.Succeeded() {
			continue
		}
		a := t.AcquisitionTime().Seconds()
		acq = append(acq, a)
		eff = append(eff, t.PathEfficiency())
		dial = append(dial, t.DialIn().Seconds())
		tp = append(tp, t.Difficulty()/a)
	}
	m.Successes = len(acq)
	if m.Trials > 0 {
		m.SuccessRate = float64(m.Successes) / float64(m.Trials)
	}
	m.AcquisitionTime, m.AcquisitionSD = meanSD(acq)
	m.PathEfficiency, _ = meanSD(eff)
	m.DialIn, _ = meanSD(dial)
	m.Throughput, _ = meanSD(tp)
	return m
}

// meanSD is the mean and the sample standard deviation of v; the
// deviation is 0 with fewer than two values, both are with none.
func meanSD(v []float64) (mean, sd float64) {
	switch len(v) {
	case 0:
		return 0, 0
	case 1:
		return v[0], 0
	}
	return stat.MeanStdDev(v, nil)
}
