package report_test

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/report"
)

func TestTrajectoriesWritesPNG(t *testing.T) {
	n := 200
	tm := make([]float64, n)
	truth, pred := make([][]float32, n), make([][]float32, n)
	for i := range n {
		tm[i] = float64(i) * 0.02
		truth[i] = []float32{float32(math.Sin(tm[i])), float32(math.Cos(tm[i]))}
		pred[i] = []float32{truth[i][0] + 0.1, truth[i][1] - 0.1}
	}
	path := filepath.Join(t.TempDir(), "traj.png")
	require.NoError(t, report.Trajectories(path, "test", tm, truth, pred, []string{"vel_x", "vel_y"}))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 500)

	assert.Error(t, report.Trajectories(filepath.Join(t.TempDir(), "x.svg"), "t", tm, truth, pred, []string{"a", "b"}))
	assert.Error(t, report.Trajectories(path, "t", tm[:3], truth, pred, []string{"a", "b"}))
}

func TestCurves(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.png")
	require.NoError(t, report.Curves(path, "learning", "epoch", "loss", map[string][]float64{"train": {3, 2, 1}, "val": {3.5, 2.5, 2}}))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000))
}
