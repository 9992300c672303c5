package acquire_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/internal/shareddata"
)

func TestTableMCMaze(t *testing.T) {
	path := shareddata.Path(t, "data", "mc_maze_trials", "trial_748.csv")
	tests := []struct {
		rebin int
		width time.Duration
	}{{1, 1e6}, {20, 20e6}}
	for _, tc := range tests {
		tab, err := acquire.OpenTable(path, acquire.TableOptions{Rebin: tc.rebin})
		require.NoError(t, err)
		info := tab.Shape()
		assert.Equal(t, 182, info.Channels)
		assert.Equal(t, tc.width, info.BinWidth)
		assert.Equal(t, []string{"vel_x", "vel_y", "pos_x", "pos_y"}, info.Targets[:4])
		assert.Contains(t, info.Targets, "cursor_pos_x")
		bins, err := readAll(tab)
		require.NoError(t, err)
		require.NoError(t, tab.Close())
		// about 3.2 s of 1 ms rows
		assert.InDelta(t, 3200/tc.rebin, len(bins), float64(300/tc.rebin))
		var spikes float64
		for i, b := range bins {
			assert.Equal(t, uint64(i), b.Seq)
			assert.Equal(t, 0, b.Trial)
			assert.Equal(t, tc.width, b.Width())
			for _, c := range b.Features {
				assert.GreaterOrEqual(t, c, float32(0))
				assert.LessOrEqual(t, c, float32(tc.rebin))
				spikes += float64(c)
			}
		}
		assert.Greater(t, spikes, 1000.0, "the trial has spikes")
		if tc.rebin > 1 {
			assert.Equal(t, int64(tc.width), bins[1].Start-bins[0].Start)
		}
	}
}

func TestTableChewie(t *testing.T) {
	path := shareddata.Path(t, "data", "chewie_m1", "chewie_20131003_bin100ms_all.csv")
	tab, err := acquire.OpenTable(path, acquire.TableOptions{})
	require.NoError(t, err)
	defer tab.Close()
	info := tab.Shape()
	assert.Equal(t, 174, info.Channels)
	assert.Equal(t, 100*time.Millisecond, info.BinWidth)
	assert.Equal(t, "rate_u000", info.ChannelNames[0])
	assert.Equal(t, []string{"vel_x", "vel_y", "pos_x", "pos_y", "target", "acc_x", "acc_y", "force_x", "force_y"}, info.Targets)
	bins, err := readAll(tab)
	require.NoError(t, err)
	assert.Len(t, bins, 1640)
	trials := map[int]bool{}
	for _, b := range bins {
		trials[b.Trial] = true
		for _, c := range b.Features {
			// rates in spikes/s become counts per 100 ms bin
			assert.InDelta(t, math.Round(float64(c)), c, 1e-3, "counts are whole")
		}
	}
	assert.Len(t, trials, 159)
}

func TestTableRebinKeepsTrialsApart(t *testing.T) {
	csv := "trial,vel_x,unit_a\n" +
		"1,1,1\n1,3,2\n1,5,3\n" + // 3 rows: one bin of 2, one row dropped
		"2,7,4\n2,9,5\n" // 2 rows: one bin
	tab, err := acquire.NewTable(strings.NewReader(csv), "t.csv", acquire.TableOptions{Rebin: 2, BinWidth: 10e6})
	require.NoError(t, err)
	bins, err := readAll(tab)
	require.NoError(t, err)
	require.Len(t, bins, 2)
	assert.Equal(t, []float32{3}, bins[0].Features)
	assert.Equal(t, []float32{2}, bins[0].Target)
	assert.Equal(t, 1, bins[0].Trial)
	assert.Equal(t, []float32{9}, bins[1].Features)
	assert.Equal(t, []float32{8}, bins[1].Target)
	assert.Equal(t, 2, bins[1].Trial)
	assert.Equal(t, int64(20e6), bins[0].End-bins[0].Start)
}

func TestTableErrors(t *testing.T) {
	tests := []struct {
		name, csv, want string
	}{
		{"empty", "", "line 1"},
		{"no features", "vel_x,vel_y\n1,2\n", "no feature columns"},
		{"short row", "vel_x,unit_a\n1,2\n3\n", "line 3: malformed input: 1 columns, the header has 2"},
		{"not a number", "vel_x,unit_a\n1,2\n3,x\n", `line 3 column 2 (unit_a): malformed input: "x" is not a number`},
		{"nan", "vel_x,unit_a\n1,2\nNaN,1\n", "line 3 column 1 (vel_x): malformed input: value NaN"},
		{"inf", "vel_x,unit_a\n1,+Inf\n", "line 2 column 2 (unit_a)"},
		{"bad trial", "trial,unit_a\n1.5,2\n", "not a trial number"},
		{"timestamps backwards", "timestamp,unit_a\n2,1\n1,1\n", "timestamps do not increase"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab, err := acquire.NewTable(strings.NewReader(tc.csv), "t.csv", acquire.TableOptions{})
			if err == nil {
				_, err = readAll(tab)
			}
			require.ErrorIs(t, err, acquire.ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "t.csv: "), err.Error())
		})
	}
}

func FuzzTable(f *testing.F) {
	f.Add([]byte("trial,vel_x,unit_a,unit_b\n1,1,0,1\n1,2,1,0\n2,3,0,0\n"), 2)
	f.Add([]byte("timestamp,hand_vel_x,unit_1\n0.001,1,0\n0.002,2,1\n"), 1)
	f.Add([]byte("trial,bin,rate_u000\n0,0,10\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, rebin int) {
		if rebin < 0 || rebin > 50 {
			return
		}
		tab, err := acquire.NewTable(bytes.NewReader(data), "fuzz", acquire.TableOptions{Rebin: rebin})
		if err != nil {
			return
		}
		info := tab.Shape()
		bins, _ := readAll(tab)
		for _, b := range bins {
			if len(b.Features) != info.Channels || len(b.Target) != len(info.Targets) {
				t.Fatalf("bin shape %d/%d, info %d/%d", len(b.Features), len(b.Target), info.Channels, len(info.Targets))
			}
			for _, v := range b.Features {
				if math.IsNaN(float64(v)) {
					t.Fatal("NaN count")
				}
			}
		}
	})
}
