package compare

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/bci-decode/bci-decode/dataset"
)

// HoldOut splits a set for a comparison: every testEvery-th trial when the
// set has at least that many trials, else the last 1/testEvery of its time
// range. It says which in its description.
func HoldOut(set *dataset.Set, testEvery int) (train, test *dataset.Set, split string) {
	if segs := len(set.Segments()); segs >= testEvery {
		train, test = set.SplitByTrial(testEvery)
		return train, test, fmt.Sprintf("every %d-th trial held out", testEvery)
	} else if segs > 1 {
		split = fmt.Sprintf("%d trials, so ", segs)
	}
	train, test = set.SplitByTime(1 / float64(testEvery))
	return train, test, split + fmt.Sprintf("the last 1/%d of the time range held out", testEvery)
}

// WriteTable prints the comparison as an aligned table.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s, %s: %d training bins, %d test bins\n", r.Source, r.Split, r.TrainBins, r.TestBins)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	seeds := len(r.Rows) > 0 && r.Rows[0].R2Seeds != nil
	head := []string{"decoder", "R²"}
	if seeds {
		head = []string{"decoder", fmt.Sprintf("R² (%d seeds)", len(r.Rows[0].R2Seeds)), "R² seeds averaged"}
	}
	for _, t := range r.Targets {
		head = append(head, "R² "+t)
	}
	for _, t := range r.Targets {
		head = append(head, "r "+t)
	}
	head = append(head, r.ClosedLoopColumns...)
	head = append(head, "params", "KiB", "MAC/step", "AC/step", "sparsity", "nJ/step", "dense nJ/step", "p50 µs", "p99 µs", "train s", "fit")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, e := range r.Rows {
		fmt.Fprintln(tw, strings.Join(e.cells(r.ClosedLoopColumns), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Verdict != "" {
		_, err := fmt.Fprintln(w, r.Verdict)
		return err
	}
	return nil
}

// cells are the row's table cells, with the closed-loop figures named by
// closedLoop after the offline scores ("-" where a row has none).
func (e Row) cells(closedLoop []string) []string {
	c := []string{e.Name, fmt.Sprintf("%.3f", e.R2)}
	if e.R2Seeds != nil {
		c = []string{e.Name, fmt.Sprintf("%.3f ± %.3f", e.R2, e.R2SD), fmt.Sprintf("%.3f", e.R2SeedAverage)}
	}
	for _, v := range e.R2PerDim {
		c = append(c, fmt.Sprintf("%.3f", v))
	}
	for _, v := range e.RPerDim {
		c = append(c, fmt.Sprintf("%.3f", v))
	}
	for _, k := range closedLoop {
		if v, ok := e.ClosedLoop[k]; ok {
			if sd, ok := e.ClosedLoopSD[k]; ok {
				c = append(c, fmt.Sprintf("%.3f ± %.3f", v, sd))
			} else {
				c = append(c, fmt.Sprintf("%.3f", v))
			}
		} else {
			c = append(c, "-")
		}
	}
	sparsity := "-"
	if e.ActivationSparsity != nil {
		sparsity = fmt.Sprintf("%.3f", *e.ActivationSparsity)
	}
	return append(c, fmt.Sprint(e.Params), fmt.Sprintf("%.1f", float64(e.FootprintBytes)/1024),
		fmt.Sprintf("%.0f", e.MACs), fmt.Sprintf("%.0f", e.ACs), sparsity,
		fmt.Sprintf("%.2f", e.EnergyNJ), fmt.Sprintf("%.1f", e.DenseEnergyNJ),
		fmt.Sprintf("%.2f", e.StepP50US), fmt.Sprintf("%.2f", e.StepP99US), fmt.Sprintf("%.1f", e.TrainSeconds), e.fitNotes())
}

// fitNotes summarises what training chose, e.g. "lags=5 ridge=10" or
// "epochs=12 val R²=0.71".
func (e Row) fitNotes() string {
	var notes []string
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		notes = append(notes, fmt.Sprintf("%s=%v", k, e.Details[k]))
	}
	if e.Epochs > 0 {
		notes = append(notes, fmt.Sprintf("epochs=%d val_r2=%.3f", e.Epochs, e.ValR2))
	}
	if e.ValSplit != "" {
		notes = append(notes, "val="+e.ValSplit)
	}
	if len(notes) == 0 {
		return "-"
	}
	return strings.Join(notes, " ")
}
