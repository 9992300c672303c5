package closedloop

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// trialOf runs a hand-made trajectory through the task and returns the
// trial it completes.
func trialOf(t *testing.T, path [][2]float64) Trial {
	t.Helper()
	tk, _ := testTask(t)
	drive(tk, path...)
	if len(tk.done) != 1 {
		t.Fatalf("the path completed %d trials", len(tk.done))
	}
	return tk.done[0]
}

func TestMetricsStraightReach(t *testing.T) {
	_, target := testTask(t)
	path := append(line([2]float64{}, target, 10), repeat(target, 3)...)
	tr := trialOf(t, path)
	// 1 cm per bin, within 2 cm of the target at bin 7: 8 bins = 160 ms
	assert.Equal(t, 160*time.Millisecond, tr.AcquisitionTime())
	assert.Equal(t, time.Duration(0), tr.DialIn())
	assert.InDelta(t, 1, tr.PathEfficiency(), 1e-12)
	id := math.Log2(1 + 10.0/4)
	assert.InDelta(t, id, tr.Difficulty(), 1e-12)
	m := Score([]Trial{tr})
	assert.Equal(t, roundMetrics(Metrics{Trials: 1, Successes: 1, SuccessRate: 1, AcquisitionTime: 0.16, PathEfficiency: 1, Throughput: id / 0.16}), roundMetrics(m))
}

func TestMetricsDetourAndDialIn(t *testing.T) {
	_, target := testTask(t)
	// out along x by 6, then straight to the target: path length 6 + |target - (6,0)|
	corner := [2]float64{6, 0}
	path := append(line([2]float64{}, corner, 3), line(corner, target, 10)...)
	// the entry point: first point within 2 cm of the target
	out := [2]float64{target[0] * 1.5, target[1] * 1.5}
	path = append(path, out)                  // leave again
	path = append(path, repeat(target, 6)...) // come back and hold
	tr := trialOf(t, path)
	final := tr.FinalEntry
	assert.Equal(t, len(path)-6, final)
	assert.Greater(t, tr.DialIn(), time.Duration(0))
	assert.Equal(t, time.Duration(final-tr.FirstEntry)*20*time.Millisecond, tr.DialIn())
	length, prev := 0.0, [2]float64{}
	for _, p := range path[:final+1] {
		length += dist(p, prev)
		prev = p
	}
	assert.InDelta(t, dist(target, [2]float64{})/length, tr.PathEfficiency(), 1e-12)
	assert.Less(t, tr.PathEfficiency(), 0.9)
}

func TestMetricsBlock(t *testing.T) {
	_, target := testTask(t)
	fast := trialOf(t, append(line([2]float64{}, target, 10), repeat(target, 3)...)) // in at bin 7: 160 ms
	slow := trialOf(t, append(line([2]float64{}, target, 20), target))               // in at bin 15: 320 ms
	miss := trialOf(t, repeat([2]float64{-5, -5}, 50))
	m := Score([]Trial{fast, slow, miss})
	assert.Equal(t, 3, m.Trials)
	assert.Equal(t, 2, m.Successes)
	assert.InDelta(t, 2.0/3, m.SuccessRate, 1e-12)
	assert.InDelta(t, 0.24, m.AcquisitionTime, 1e-12)
	assert.InDelta(t, math.Sqrt(2*0.08*0.08), m.AcquisitionSD, 1e-12, "sample sd of 0.16 and 0.32")
	assert.InDelta(t, 1, m.PathEfficiency, 1e-12)
	assert.Zero(t, m.DialIn)
	id := math.Log2(1 + 10.0/4)
	assert.InDelta(t, (id/0.16+id/0.32)/2, m.Throughput, 1e-12)
	assert.Equal(t, Metrics{Trials: 1}, Score([]Trial{miss}), "no success: no means")
	assert.Equal(t, Metrics{}, Score(nil))
}

// roundMetrics rounds away float noise for exact comparison.
func roundMetrics(m Metrics) Metrics {
	r := func(v float64) float64 { return math.Round(v*1e9) / 1e9 }
	m.SuccessRate, m.AcquisitionTime, m.AcquisitionSD = r(m.SuccessRate), r(m.AcquisitionTime), r(m.AcquisitionSD)
	m.PathEfficiency, m.DialIn, m.Throughput = r(m.PathEfficiency), r(m.DialIn), r(m.Throughput)
	return m
}
