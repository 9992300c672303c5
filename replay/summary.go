package replay

import (
	"fmt"
	"io"
	"time"

	"github.com/bci-decode/bci-decode/report"
)

// Summary describes a finished replay; its JSON form is what the replay
// command prints with --json.
type Summary struct {
	Session   string `json:"session,omitempty"`
	Bins      uint64 `json:"bins"`
	Intents   int    `json:"intents"`
	Identical *bool  `json:"identical,omitempty"`
	Compared  int    `json:"compared,omitempty"`
	// Uncaptured counts replayed intents the recording had not captured
	// live (see Diff).
	Uncaptured int       `json:"uncaptured,omitempty"`
	Mismatch   string    `json:"mismatch,omitempty"`
	SpeedX     float64   `json:"speed_x"`
	Seconds    float64   `json:"elapsed_s"`
	Model      string    `json:"model"`
	Swaps      uint64    `json:"swaps"`
	R2         *float64  `json:"r2,omitempty"`
	R2PerDim   []float64 `json:"r2_per_dim,omitempty"`
	// Reordering counts the recorded bins stored out of seq order.
	Reordering
}

// Summarise describes the job's result; with compare set it also checks
// the replayed intents against the live ones, bit for bit.
func (j *Job) Summarise(res *Result, compare bool) Summary {
	sh := j.Source.Shape()
	out := Summary{Bins: res.Stats.Bins, Intents: len(res.Intents), Seconds: res.Elapsed.Seconds(),
		Model: j.Model.Hash, Swaps: res.Stats.Swaps, SpeedX: res.Speed(sh.BinWidth)}
	if sc, ok := res.Score(j.Model.Info.Targets, sh.Targets); ok && sc.Defined() {
		m := sc.MeanR2()
		out.R2, out.R2PerDim = &m, sc.R2
	}
	if src, ok := j.Source.(*Source); ok {
		out.Reordering = src.Reordering()
	}
	if compare {
		d := Compare(j.Live, res.Intents)
		out.Identical, out.Compared, out.Mismatch, out.Uncaptured = &d.Identical, d.Compared, d.Mismatch, d.Uncaptured
	}
	return out
}

// WriteText prints the summary for a person.
func (s Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "replayed %d bins into %d intents in %.2fs (%.0fx real time), %d model swaps followed\n", s.Bins, s.Intents, s.Seconds, s.SpeedX, s.Swaps)
	if s.R2 != nil {
		fmt.Fprintf(w, "R² against recorded targets %.3f (per dimension %.3f)\n", *s.R2, s.R2PerDim)
	}
	if r := s.Reordering; r.Reordered+r.Duplicates > 0 {
		fmt.Fprintf(w, "the recording stored %d bins out of seq order and %d twice: replayed in order, once\n", r.Reordered, r.Duplicates)
	}
	if s.Late > 0 {
		fmt.Fprintf(w, "the recording stored %d bins too far out of order to replay in place: skipped\n", s.Late)
	}
	switch {
	case s.Identical == nil:
	case *s.Identical && s.Uncaptured > 0:
		fmt.Fprintf(w, "identical: all %d intents match the live run bit for bit (%d more replayed, which the recording had not captured live)\n", s.Compared, s.Uncaptured)
	case *s.Identical:
		fmt.Fprintf(w, "identical: all %d intents match the live run bit for bit\n", s.Compared)
	default:
		fmt.Fprintf(w, "NOT identical: %s\n", s.Mismatch)
	}
}

// Plot draws the first 30 s of the replay's outputs against the recorded
// targets to path (PNG).
func (j *Job) Plot(path string, res *Result) error {
	sh := j.Source.Shape()
	idx, ok := sh.TargetIndex(j.Model.Info.Targets)
	if !ok {
		return fmt.Errorf("plot: the recording has no targets named %v", j.Model.Info.Targets)
	}
	n := min(len(res.Intents), int(30*time.Second/sh.BinWidth))
	t := make([]float64, n)
	truth, pred := make([][]float32, n), make([][]float32, n)
	for i := range n {
		t[i] = float64(i) * sh.BinWidth.Seconds()
		pred[i] = res.Intents[i].Values
		truth[i] = make([]float32, len(idx))
		for k, c := range idx {
			truth[i][k] = res.Targets[i][c]
		}
	}
	return report.Trajectories(path, "replay", t, truth, pred, j.Model.Info.Targets)
}
