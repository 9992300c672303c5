package report_test

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/report"
)

func TestCursorPaths(t *testing.T) {
	trials := []report.CursorTrial{
		{Path: [][2]float64{{2, 0}, {6, 1}, {10, 0}}, Target: [2]float64{10, 0}, Radius: 2, Success: true},
		{Start: [2]float64{10, 0}, Path: [][2]float64{{8, 3}, {12, 9}}, Target: [2]float64{}, Radius: 2},
	}
	path := filepath.Join(t.TempDir(), "cursor.png")
	require.NoError(t, report.CursorPaths(path, "closed loop", trials))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 500)

	assert.Error(t, report.CursorPaths(path, "none", nil))
	assert.Error(t, report.CursorPaths(filepath.Join(t.TempDir(), "c.svg"), "svg", trials))
}
