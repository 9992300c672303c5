package filters_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/filters"
	"github.com/bci-decode/bci-decode/internal/shareddata"
)

type scipyCase struct {
	Kind    string             `json:"kind"`
	Order   int                `json:"order"`
	Fs      float64            `json:"fs"`
	Cutoffs []float64          `json:"cutoffs"`
	SOS     [][6]float64       `json:"sos"`
	Input   []float64          `json:"input"`
	Output  []float64          `json:"output"`
	Gain    map[string]float64 `json:"gain_at_hz"`
}

func loadScipy(t *testing.T) []scipyCase {
	t.Helper()
	b, err := os.ReadFile(shareddata.Path(t, "testvectors", "butterworth_sos.json"))
	require.NoError(t, err)
	var doc struct {
		Cases []scipyCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.NotEmpty(t, doc.Cases)
	return doc.Cases
}

// maxRelErr is max|a-b| relative to the largest |b|: the error of a whole
// signal relative to its scale.
func maxRelErr(a, b []float64) float64 {
	scale, worst := 0.0, 0.0
	for _, v := range b {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range a {
		worst = math.Max(worst, math.Abs(a[i]-b[i]))
	}
	return worst / scale
}

// TestMatchesSciPy compares our designs' responses with SciPy's
// butter(..., output="sos") + sosfilt on the reference vectors.
func TestMatchesSciPy(t *testing.T) {
	for _, c := range loadScipy(t) {
		t.Run(fmt.Sprintf("%s-%d-%v", c.Kind, c.Order, c.Cutoffs), func(t *testing.T) {
			sos, err := filters.Butterworth(c.Kind, c.Order, c.Fs, c.Cutoffs...)
			require.NoError(t, err)
			ref := filters.SOS(nil)
			for _, r := range c.SOS {
				ref = append(ref, filters.Section(r))
			}
			got := sos.Response(c.Input)
			e := maxRelErr(got, c.Output)
			t.Logf("max relative error of the response: %.2e", e)
			assert.Less(t, e, 1e-6)
			for f, want := range c.Gain {
				hz, err := strconv.ParseFloat(f, 64)
				require.NoError(t, err)
				g := sos.Gain(hz, c.Fs)
				assert.InDelta(t, want, g, 1e-6*math.Max(1, want), "gain at %v Hz", hz)
				// our evaluation of SciPy's own sections agrees too
				assert.InDelta(t, want, ref.Gain(hz, c.Fs), 1e-9*math.Max(1, want))
			}
		})
	}
}

// TestDesignsAgainstIdealMagnitude checks every kind and order 1-10 against
// the analytic Butterworth magnitude |H| = 1/sqrt(1+(w/wc)^(2N)) in
// pre-warped frequency, which SciPy's designs obey exactly.
func TestDesignsAgainstIdealMagnitude(t *testing.T) {
	fs := 1000.0
	warp := func(f float64) float64 { return math.Tan(math.Pi * f / fs) }
	for order := 1; order <= 10; order++ {
		for _, tc := range []struct {
			kind    string
			cutoffs []float64
			ideal   func(f float64) float64
		}{
			{"lowpass", []float64{100}, func(f float64) float64 { return 1 / math.Sqrt(1+math.Pow(warp(f)/warp(100), float64(2*order))) }},
			{"highpass", []float64{100}, func(f float64) float64 { return 1 / math.Sqrt(1+math.Pow(warp(100)/warp(f), float64(2*order))) }},
			{"bandpass", []float64{50, 200}, func(f float64) float64 {
				w, w0, bw := warp(f), math.Sqrt(warp(50)*warp(200)), warp(200)-warp(50)
				x := (w*w - w0*w0) / (w * bw)
				return 1 / math.Sqrt(1+math.Pow(x, float64(2*order)))
			}},
			{"bandstop", []float64{50, 200}, func(f float64) float64 {
				w, w0, bw := warp(f), math.Sqrt(warp(50)*warp(200)), warp(200)-warp(50)
				x := (w * bw) / (w*w - w0*w0)
				return 1 / math.Sqrt(1+math.Pow(x, float64(2*order)))
			}},
		} {
			sos, err := filters.Butterworth(tc.kind, order, fs, tc.cutoffs...)
			require.NoError(t, err)
			for _, f := range []float64{1, 20, 49, 80, 100, 150, 199, 300, 450} {
				want := tc.ideal(f)
				assert.InDelta(t, want, sos.Gain(f, fs), 1e-6*math.Max(want, 1e-3), "%s order %d at %v Hz", tc.kind, order, f)
			}
		}
	}
}

func TestButterworthRejectsBadDesigns(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		order   int
		fs      float64
		cutoffs []float64
	}{
		{"lowpass", 0, 1000, []float64{100}},
		{"lowpass", 11, 1000, []float64{100}},
		{"lowpass", 2, 1000, []float64{500}},
		{"lowpass", 2, 1000, []float64{100, 200}},
		{"bandpass", 2, 1000, []float64{200, 100}},
		{"bandpass", 2, 1000, []float64{100}},
		{"comb", 2, 1000, []float64{100}},
		{"highpass", 2, 0, []float64{100}},
	} {
		_, err := filters.Butterworth(tc.kind, tc.order, tc.fs, tc.cutoffs...)
		assert.ErrorIs(t, err, filters.ErrDesign, "%+v", tc)
	}
}
