package closedloop

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

// drive steps a task through a path and returns the phases.
func drive(tk *task, path ...[2]float64) []Phase {
	out := make([]Phase, len(path))
	for i, p := range path {
		out[i], _ = tk.step(p)
	}
	return out
}

// line returns n points from a (exclusive) to b (inclusive).
func line(a, b [2]float64, n int) [][2]float64 {
	out := make([][2]float64, n)
	for i := range out {
		f := float64(i+1) / float64(n)
		out[i] = [2]float64{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}
	}
	return out
}

func repeat(p [2]float64, n int) [][2]float64 {
	out := make([][2]float64, n)
	for i := range out {
		out[i] = p
	}
	return out
}

func testTask(t *testing.T) (*task, [2]float64) {
	t.Helper()
	o := TaskOptions{Hold: 100 * time.Millisecond, Timeout: time.Second, Seed: 3}
	o.EnsureDefaults()
	require.NoError(t, o.Validate())
	tk := newTask(o, 20*time.Millisecond, [2]float64{})
	target, r := tk.target()
	require.InDelta(t, 10, math.Hypot(target[0], target[1]), 1e-9, "centre-out targets lie on the circle")
	require.Equal(t, 2.0, r)
	return tk, target
}

func TestTaskSuccessAfterHold(t *testing.T) {
	tk, target := testTask(t)
	path := line([2]float64{}, target, 10)    // 1 cm per bin: within 2 cm from bin 7
	path = append(path, repeat(target, 3)...) // held 100 ms at bin 12
	phases := drive(tk, path...)
	assert.Equal(t, PhaseReaching, phases[6])
	assert.Equal(t, PhaseHolding, phases[7])
	assert.Equal(t, PhaseHolding, phases[11])
	assert.Equal(t, PhaseSuccess, phases[12])
	require.Len(t, tk.done, 1)
	tr := tk.done[0]
	assert.Equal(t, 7, tr.FirstEntry)
	assert.Equal(t, 7, tr.FinalEntry)
	assert.Len(t, tr.Path, 13)
	next, _ := tk.target()
	assert.Equal(t, [2]float64{}, next, "centre-out-and-back: the next target is the centre")
	assert.Equal(t, target, tk.cur.Start, "the next trial starts where the cursor is")
	assert.Equal(t, 1, tk.cur.Index)
}

func TestTaskHoldBrokenThenDialIn(t *testing.T) {
	tk, target := testTask(t)
	out := [2]float64{target[0] * 1.5, target[1] * 1.5} // 5 cm beyond: outside
	path := line([2]float64{}, target, 10)              // enter at bin 7
	path = append(path, out, out)                       // leave at 10 (held 40 ms)
	path = append(path, repeat(target, 6)...)           // re-enter at 12, held 100 ms at 17
	phases := drive(tk, path...)
	assert.Equal(t, PhaseReaching, phases[10])
	assert.Equal(t, PhaseHolding, phases[12])
	assert.Equal(t, PhaseSuccess, phases[17])
	require.Len(t, tk.done, 1)
	tr := tk.done[0]
	assert.Equal(t, 7, tr.FirstEntry)
	assert.Equal(t, 12, tr.FinalEntry)
}

func TestTaskTimeout(t *testing.T) {
	tk, _ := testTask(t)
	phases := drive(tk, repeat([2]float64{-5, -5}, 50)...) // 1 s, never in
	assert.Equal(t, PhaseReaching, phases[48])
	assert.Equal(t, PhaseTimeout, phases[49])
	require.Len(t, tk.done, 1)
	assert.Equal(t, PhaseTimeout, tk.done[0].Outcome)
	assert.Equal(t, -1, tk.done[0].FirstEntry)
}

func TestTaskTargets(t *testing.T) {
	t.Run("centre-out visits each target once per block of 8", func(t *testing.T) {
		tk, _ := testTask(t)
		seen := map[[2]int]int{}
		for range 16 {
			target, _ := tk.target()
			drive(tk, repeat(target, 6)...) // succeed at once
			back, _ := tk.target()
			require.Equal(t, [2]float64{}, back)
			seen[[2]int{int(math.Round(target[0])), int(math.Round(target[1]))}]++
			drive(tk, repeat(back, 6)...)
		}
		assert.Len(t, seen, 8)
		for k, n := range seen {
			assert.Equal(t, 2, n, "target %v", k)
		}
	})
	t.Run("random targets are in the square and away from the cursor", func(t *testing.T) {
		o := TaskOptions{Kind: acquire.TaskRandomTarget, Seed: 9}
		o.EnsureDefaults()
		tk := newTask(o, 20*time.Millisecond, [2]float64{})
		for range 200 {
			target, _ := tk.target()
			assert.LessOrEqual(t, math.Abs(target[0]), 10.0)
			assert.LessOrEqual(t, math.Abs(target[1]), 10.0)
			assert.GreaterOrEqual(t, dist(target, tk.cur.Start), 4.0)
			drive(tk, repeat(target, 26)...)
		}
	})
}

func TestTaskOptionsValidate(t *testing.T) {
	for name, mod := range map[string]func(*TaskOptions){
		"kind":          func(o *TaskOptions) { o.Kind = "spiral" },
		"target radius": func(o *TaskOptions) { o.TargetRadius = 11 },
		"timeout":       func(o *TaskOptions) { o.Timeout = o.Hold },
		"workspace":     func(o *TaskOptions) { o.Workspace = 5 },
		"nan radius":    func(o *TaskOptions) { o.Radius = math.NaN() },
	} {
		o := TaskOptions{}
		o.EnsureDefaults()
		mod(&o)
		assert.Error(t, o.Validate(), name)
	}
}

func TestClamp(t *testing.T) {
	tk, _ := testTask(t)
	assert.Equal(t, [2]float64{15, -15}, tk.clamp([2]float64{40, -100}))
}
