package lsl

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"
)

// TestLibLSLToGoInlet: liblsl outlets (testdata/peers/lslsend) publish the
// deterministic signal in every format and push mode; our Resolve finds
// them with their metadata and our inlet receives every value and every
// stamp exactly, in order.
func TestLibLSLToGoInlet(t *testing.T) {
	bin := peerProgram(t, "lslsend")
	cases := []struct {
		format Format
		mode   string
		nch    int
		rate   float64
		count  int
		chunk  int
	}{
		{Float32, "stamped", 8, 500, 3000, 10},
		{Float32, "deduced", 8, 500, 3000, 25},
		{Double64, "stamped", 4, 250, 2000, 7},
		{Int32, "deduced", 5, 1000, 3000, 32},
		{Int16, "deduced", 64, 2000, 4000, 40},
		{Int16, "sample", 3, 100, 500, 1},
		{Int8, "stamped", 9, 300, 2000, 11},
		{Int64, "stamped", 2, 100, 1000, 5},
		{String, "sample", 3, 0, 600, 1},
		{String, "stamped", 2, 50, 500, 6},
	}
	for _, c := range cases {
		name := fmt.Sprintf("%v-%s", c.format, c.mode)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			ctx := testContext(t, 60*time.Second)
			stream := "bci-in-" + name
			src := "src-" + name
			p := start(t, bin, stream, "Test", c.format.String(), strconv.Itoa(c.nch), strconv.FormatFloat(c.rate, 'g', -1, 64), strconv.Itoa(c.count), c.mode, src, strconv.Itoa(c.chunk))
			ready := p.expect(t, "ready ", 20*time.Second)
			infos, err := Resolve(ctx, cfg, "name='"+stream+"'", ResolveOptions{Minimum: 1, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			info := infos[0]
			if info.UID != ready[len("ready "):] || info.Type != "Test" || info.ChannelCount != c.nch || info.Format != c.format ||
				info.NominalRate != c.rate || info.SourceID != src || info.V4Address != "127.0.0.1" || info.V4DataPort == 0 || info.SessionID != "default" {
				t.Fatalf("resolved info does not describe the liblsl stream (uid %s): %+v", ready, info)
			}
			in, err := OpenInlet(ctx, cfg, info, InletOptions{MaxBufferedSamples: c.count + 10, OutletBuffer: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close(ctx)
			chs := in.Info().Channels()
			if len(chs) != c.nch || chs[0].Label != "ch0" || chs[c.nch-1].Label != "ch"+strconv.Itoa(c.nch-1) || chs[0].Unit != "microvolts" {
				t.Fatalf("full info channels: %+v", chs)
			}
			if m := in.Info().Desc.ChildText("manufacturer"); m != "bci-decode-test" {
				t.Fatalf("desc manufacturer %q", m)
			}
			var want []float64
			rate := c.rate
			if rate == 0 {
				rate = 100
			}
			if c.mode == "deduced" {
				want = dedupedStamps(c.count, c.chunk, rate)
			} else {
				for i := 0; i < c.count; i++ {
					want = append(want, stampof(uint64(i), rate))
				}
			}
			got := 0
			stamps := make([]int64, 97)
			remote := make([]float64, 97)
			var lastUnix int64
			for got < c.count {
				var n int
				if c.format == String {
					data := make([]string, 97*c.nch)
					n, err = in.PullStrings(ctx, data, stamps, remote)
					for j := 0; j < n && err == nil; j++ {
						for k := 0; k < c.nch; k++ {
							if w := strval(uint64(got+j), uint64(k), uint64(c.nch)); data[j*c.nch+k] != w {
								t.Fatalf("sample %d channel %d: %q, want %q", got+j, k, data[j*c.nch+k], w)
							}
						}
					}
				} else {
					n, err = pullCompare(ctx, t, in, c.format, c.nch, got, stamps, remote)
				}
				if err != nil {
					t.Fatalf("after %d samples: %v", got, err)
				}
				for j := 0; j < n; j++ {
					if math.Float64bits(remote[j]) != math.Float64bits(want[got+j]) {
						t.Fatalf("sample %d: stamp %v (%x), want %v (%x)", got+j, remote[j], math.Float64bits(remote[j]), want[got+j], math.Float64bits(want[got+j]))
					}
					if stamps[j] < lastUnix {
						t.Fatalf("sample %d: local stamp went backwards: %d < %d", got+j, stamps[j], lastUnix)
					}
					lastUnix = stamps[j]
				}
				got += n
			}
			p.expect(t, "sent ", 20*time.Second)
			st := in.Stats()
			if st.Samples != uint64(c.count) || st.Delivered != uint64(c.count) || st.DroppedStale != 0 || st.BadMessages != 0 || st.Reconnects != 0 {
				t.Fatalf("stats after a clean run: %+v", st)
			}
			if st.RTT <= 0 || st.RTT > 100*time.Millisecond || st.ClockOffset.Abs() > 5*time.Millisecond {
				t.Fatalf("clock offset %v / rtt %v against a liblsl outlet on this machine", st.ClockOffset, st.RTT)
			}
		})
	}
}

// pullCompare pulls with the Go type of the stream's format and checks the
// values' bits against the signal.
func pullCompare(ctx context.Context, t *testing.T, in *Inlet, f Format, nch, first int, stamps []int64, remote []float64) (int, error) {
	t.Helper()
	var n int
	var err error
	raw := make([]byte, len(stamps)*nch*f.Size())
	switch f {
	case Float32:
		d := make([]float32, len(stamps)*nch)
		n, err = Pull(ctx, in, d, stamps, remote)
		encodeValues(raw, d[:n*nch], f)
	case Double64:
		d := make([]float64, len(stamps)*nch)
		n, err = Pull(ctx, in, d, stamps, remote)
		encodeValues(raw, d[:n*nch], f)
	case Int32:
		d := make([]int32, len(stamps)*nch)
		n, err = Pull(ctx, in, d, stamps, remote)
		encodeValues(raw, d[:n*nch], f)
	case Int16:
		d := make([]int16, len(stamps)*nch)
		n, err = Pull(ctx, in, d, stamps, remote)
		encodeValues(raw, d[:n*nch], f)
	case Int8:
		d := make([]int8, len(stamps)*nch)
		n, err = Pull(ctx, in, d, stamps, remote)
		encodeValues(raw, d[:n*nch], f)
	case Int64:
		d := make([]int64, len(stamps)*nch)
		n, err = Pull(ctx, in, d, stamps, remote)
		encodeValues(raw, d[:n*nch], f)
	}
	for j := 0; j < n; j++ {
		w := sampleBytesOf(f, uint64(first+j), nch)
		g := raw[j*nch*f.Size() : (j+1)*nch*f.Size()]
		if !bytes.Equal(g, w) {
			t.Fatalf("sample %d: values %x, want %x", first+j, g, w)
		}
	}
	return n, err
}
