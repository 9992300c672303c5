package acquire_test

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/internal/shareddata"
)

func TestEDFPlusRealFile(t *testing.T) {
	for _, name := range []string{"S001R03.edf", "S001R04.edf"} {
		t.Run(name, func(t *testing.T) {
			path := shareddata.Path(t, "data", "eegmmidb_s001", name)
			e, err := acquire.OpenEDF(path, acquire.EDFOptions{})
			require.NoError(t, err)
			defer e.Close()
			h := e.Header()
			assert.Equal(t, "EDF+C", h.Plus)
			assert.Len(t, h.Signals, 65)
			assert.Equal(t, 125, h.Records)
			info := e.Info()
			assert.Equal(t, 64, info.Channels)
			assert.Equal(t, 160.0, info.Rate)
			assert.Equal(t, "uV", info.Units)
			assert.Equal(t, "Fc5.", info.ChannelNames[0])
			samples, err := readFrames(e)
			require.NoError(t, err)
			assert.Len(t, samples, 64*160*125)
			var ss float64
			for _, v := range samples {
				require.False(t, math.IsNaN(float64(v)))
				ss += float64(v) * float64(v)
			}
			rms := math.Sqrt(ss / float64(len(samples)))
			assert.Greater(t, rms, 5.0, "EEG has µV-scale amplitude")
			assert.Less(t, rms, 500.0)

			ann := e.Annotations()
			labels := map[string]int{}
			for _, a := range ann {
				labels[a.Text]++
			}
			assert.Positive(t, labels["T0"])
			assert.Positive(t, labels["T1"]+labels["T2"])
			// the PhysioNet .event sidecar lists the same events
			ev, err := os.ReadFile(path + ".event")
			require.NoError(t, err)
			events := regexp.MustCompile(`T[012] duration: [0-9.]+`).FindAll(ev, -1)
			assert.Equal(t, len(events), labels["T0"]+labels["T1"]+labels["T2"])
			for i, a := range ann[:3] {
				assert.GreaterOrEqual(t, a.Onset, 0.0, "annotation %d", i)
			}
		})
	}
}

// edfFile writes a small EDF (or BDF) file: two signals of 4 samples per
// 0.5 s record, and an annotation signal.
func edfFile(bdf bool, records int, data func(rec, sig, s int) int) []byte {
	var b bytes.Buffer
	pad := func(s string, n int) { b.WriteString(fmt.Sprintf("%-*s", n, s)[:n]) }
	ns := 3
	if bdf {
		b.WriteByte(0xff)
		pad("BIOSEMI", 7)
	} else {
		pad("0", 8)
	}
	pad("X X X X", 80)
	pad("Startdate 01-JAN-2020 X X test", 80)
	pad("01.01.20", 8)
	pad("00.00.00", 8)
	pad(fmt.Sprint(256*(ns+1)), 8)
	if bdf {
		pad("BDF+C", 44)
	} else {
		pad("EDF+C", 44)
	}
	pad(fmt.Sprint(records), 8)
	pad("0.5", 8)
	pad(fmt.Sprint(ns), 4)
	ann := "EDF Annotations"
	if bdf {
		ann = "BDF Annotations"
	}
	dmax := "32767"
	dmin := "-32768"
	if bdf {
		dmax, dmin = "8388607", "-8388608"
	}
	fields := [][]string{
		{"A1", "B2", ann}, {"", "", ""}, {"uV", "mV", ""},
		{"-1000", "-1", "-1"}, {"1000", "1", "1"}, {dmin, dmin, dmin}, {dmax, dmax, dmax},
		{"HP:0.1Hz", "", ""}, {"4", "4", "16"}, {"", "", ""},
	}
	widths := []int{16, 80, 8, 8, 8, 8, 8, 80, 8, 32}
	for f, vals := range fields {
		for _, v := range vals {
			pad(v, widths[f])
		}
	}
	bps := 2
	if bdf {
		bps = 3
	}
	for r := range records {
		for sig := range 2 {
			for s := range 4 {
				v := data(r, sig, s)
				for k := range bps {
					b.WriteByte(byte(v >> (8 * k)))
				}
			}
		}
		tal := fmt.Sprintf("+%g\x14\x14\x00", float64(r)*0.5)
		if r == 1 {
			tal += "+0.7\x150.2\x14stim\x14\x00"
		}
		annBytes := make([]byte, 16*bps)
		copy(annBytes, tal)
		b.Write(annBytes)
	}
	return b.Bytes()
}

func TestEDFAndBDFRoundTrip(t *testing.T) {
	for _, bdf := range []bool{false, true} {
		t.Run(fmt.Sprint("bdf=", bdf), func(t *testing.T) {
			data := func(rec, sig, s int) int { return (rec*8+sig*4+s)*1000 - 12000 }
			raw := edfFile(bdf, 3, data)
			e, err := acquire.NewEDF(bytes.NewReader(raw), "t.edf", acquire.EDFOptions{})
			require.NoError(t, err)
			info := e.Info()
			assert.Equal(t, 2, info.Channels)
			assert.Equal(t, 8.0, info.Rate)
			got, err := readFrames(e)
			require.NoError(t, err)
			require.Len(t, got, 3*4*2)
			full := 32767.5
			if bdf {
				full = 8388607.5
			}
			for rec := range 3 {
				for s := range 4 {
					for sig := range 2 {
						d := float64(data(rec, sig, s))
						// physical = (d - digmin) * range/digrange + physmin, µV
						want := (d+full+0.5)/(2*full)*2000 - 1000 // A1: ±1000 µV
						if sig == 1 {
							want = ((d+full+0.5)/(2*full)*2 - 1) * 1000 // B2: ±1 mV in µV
						}
						assert.InDelta(t, want, got[(rec*4+s)*2+sig], 1e-3*math.Max(1, math.Abs(want)))
					}
				}
			}
			ann := e.Annotations()
			require.Len(t, ann, 1)
			assert.Equal(t, acquire.Annotation{Onset: 0.7, Duration: 0.2, Text: "stim"}, ann[0])

			sel, err := acquire.NewEDF(bytes.NewReader(raw), "t.edf", acquire.EDFOptions{Signals: []string{"B2"}})
			require.NoError(t, err)
			assert.Equal(t, []string{"B2"}, sel.Info().ChannelNames)
			_, err = acquire.NewEDF(bytes.NewReader(raw), "t.edf", acquire.EDFOptions{Signals: []string{"Z9"}})
			assert.ErrorContains(t, err, `no data signal labelled "Z9"`)
		})
	}
}

func TestEDFErrors(t *testing.T) {
	good := edfFile(false, 2, func(int, int, int) int { return 1 })
	corrupt := func(off int, s string) []byte {
		b := bytes.Clone(good)
		copy(b[off:], s)
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than the 256-byte EDF header"},
		{"not edf", append([]byte("PK\x03\x04"), good[4:]...), "neither EDF"},
		{"bad signal count", corrupt(252, "abcd"), "byte 252"},
		{"header size", corrupt(184, "999     "), "header size 999"},
		{"truncated header", good[:300], "header truncated"},
		{"bad digital range", corrupt(256+3*(16+80+8+8+8+8), "-32768  "), "digital range"},
		{"truncated record", good[:len(good)-5], "data record 1 truncated"},
		{"missing record", good[:1024+48], "file ends after 1 of 2 data records"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := acquire.NewEDF(bytes.NewReader(tc.data), "t.edf", acquire.EDFOptions{})
			if err == nil {
				_, err = readFrames(e)
			}
			require.ErrorIs(t, err, acquire.ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "t.edf: byte "), err.Error())
		})
	}
}

func FuzzEDF(f *testing.F) {
	f.Add(edfFile(false, 2, func(r, s, i int) int { return r + s + i }))
	f.Add(edfFile(true, 1, func(r, s, i int) int { return -r * s * i }))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := acquire.NewEDF(bytes.NewReader(data), "fuzz", acquire.EDFOptions{})
		if err != nil {
			return
		}
		info := e.Info()
		samples, _ := readFrames(e)
		if len(samples)%info.Channels != 0 {
			t.Fatalf("%d samples for %d channels", len(samples), info.Channels)
		}
	})
}
