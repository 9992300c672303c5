package acquire_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

// binsOf is a binned stream of n bins of width w from t0, without targets.
type binsOf struct {
	n, i int
	t0   int64
	w    time.Duration
}

func (s *binsOf) Shape() acquire.Shape { return acquire.Shape{Channels: 2, BinWidth: s.w} }

func (s *binsOf) ReadBin(_ context.Context, b *acquire.Bin) error {
	if s.i == s.n {
		return io.EOF
	}
	b.Seq, b.Start = uint64(s.i), s.t0+int64(s.i)*int64(s.w)
	b.End, b.Features, b.Target = b.Start+int64(s.w), append(b.Features[:0], 1, 2), append(b.Target[:0], 99)
	s.i++
	return nil
}

// TestLabelledAlignsByTime: behaviour at 100 Hz labels 20 ms bins with the
// mean of the samples inside each bin; behaviour at 10 Hz holds its latest
// sample; bins before the first sample are skipped; the stream ends with
// the behaviour.
func TestLabelledAlignsByTime(t *testing.T) {
	ms := int64(time.Millisecond)
	var csv strings.Builder
	csv.WriteString("time,vel_x\n")
	for i := 3; i <= 60; i++ { // a sample every 10 ms from 30 ms to 600 ms
		csv.WriteString(strconv.FormatFloat(float64(i)/100, 'f', 2, 64) + "," + strconv.Itoa(i) + "\n")
	}
	beh, err := acquire.NewBehaviour(strings.NewReader(csv.String()), "beh")
	require.NoError(t, err)
	l, err := acquire.WithTargets(&binsOf{n: 100, w: 20 * time.Millisecond}, beh)
	require.NoError(t, err)
	assert.Equal(t, []string{"vel_x"}, l.Shape().Targets)
	var got []acquire.Bin
	for {
		var b acquire.Bin
		err := l.ReadBin(context.Background(), &b)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, b)
	}
	// Bin 0 (0-20 ms) has no sample before its end: skipped. Bin 1
	// (20-40 ms] holds the 30 and 40 ms samples; bin k (20k, 20k+20]
	// holds samples 2k+1 and 2k+2.
	assert.Equal(t, uint64(1), l.Skipped())
	require.Len(t, got, 29, "bins 1-29: the behaviour ends at 600 ms, the end of bin 29")
	for _, b := range got {
		k := float32(b.Start / (20 * ms))
		want := 2*k + 1.5 // samples 2k+1 and 2k+2
		assert.Equal(t, []float32{want}, b.Target, "bin %d", b.Seq)
		assert.Equal(t, []float32{1, 2}, b.Features)
	}

	// 10 Hz behaviour: a bin without a sample holds the latest one.
	beh, err = acquire.NewBehaviour(strings.NewReader("t,x,y\n0,1,10\n0.1,2,20\n0.2,3,30\n"), "slow")
	require.NoError(t, err)
	l, err = acquire.WithTargets(&binsOf{n: 10, w: 20 * time.Millisecond}, beh)
	require.NoError(t, err)
	var b acquire.Bin
	for i, want := range [][]float32{{1, 10}, {1, 10}, {1, 10}, {1, 10}, {2, 20}, {2, 20}} {
		require.NoError(t, l.ReadBin(context.Background(), &b))
		assert.Equal(t, want, b.Target, "bin %d", i)
	}
}

// TestBehaviourTableRefusesBadInput: each malformed table is a clear error
// naming its line.
func TestBehaviourTableRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"no time column", "vel_x,vel_y\n1,2\n", "want the time in seconds"},
		{"no values", "time\n0\n", "0 value columns"},
		{"repeated name", "time,x,x\n0,1,2\n", "repeated column name"},
		{"short row", "time,x,y\n0,1\n", "line 2: malformed input: 2 columns"},
		{"time goes back", "time,x\n1,1\n0.5,2\n", "line 3"},
		{"NaN value", "time,x\n0,NaN\n", "not a finite number"},
		{"bad time", "time,x\nnoon,1\n", "not a number of seconds"},
		{"empty", "time,x\n", "no samples"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			beh, err := acquire.NewBehaviour(strings.NewReader(tc.data), "b.csv")
			if err == nil {
				v := make([]float32, len(beh.Names()))
				for err == nil {
					_, err = beh.ReadSample(context.Background(), v)
				}
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, acquire.ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestOpenTargetsFile opens a behaviour table by path and as file:PATH.
func TestOpenTargetsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "beh.csv")
	require.NoError(t, os.WriteFile(path, []byte("time,vel_x\n0,1\n"), 0o644))
	for _, spec := range []string{path, "file:" + path} {
		o, err := acquire.OpenTargets(context.Background(), spec, acquire.Params{})
		require.NoError(t, err)
		assert.Equal(t, []string{"vel_x"}, o.Samples.Names())
		require.NoError(t, o.Close())
	}
	_, err := acquire.OpenTargets(context.Background(), "", acquire.Params{})
	assert.ErrorIs(t, err, acquire.ErrSpec)
}

func FuzzBehaviourTable(f *testing.F) {
	f.Add([]byte("time,vel_x,vel_y\n0,1,2\n0.01,3,4\n"))
	f.Add([]byte("t,x\n-1,0\n1e-9,1\n"))
	f.Add([]byte("timestamp,a\n1,1\n1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		beh, err := acquire.NewBehaviour(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		v := make([]float32, len(beh.Names()))
		last := int64(math.MinInt64)
		for {
			ts, err := beh.ReadSample(context.Background(), v)
			if err != nil {
				return
			}
			if ts <= last {
				t.Fatalf("time %d after %d", ts, last)
			}
			last = ts
			for _, x := range v {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("value %v", x)
				}
			}
		}
	})
}
