package acquire_test

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bci-decode/bci-decode/acquire"
)

// edflibWriter builds testdata/edflib/write.c against Debian's EDFlib
// (libedf-dev), an independent EDF+/BDF+ writer. Without a C compiler or
// the library the test is skipped, unless BCI_REQUIRE_EDFLIB=1 (.ci/run
// installs libedf-dev and sets it).
func edflibWriter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "edfwrite")
	out, err := exec.Command("cc", "-o", bin, filepath.Join("testdata", "edflib", "write.c"), "-ledf", "-lm").CombinedOutput()
	if err != nil {
		if os.Getenv("BCI_REQUIRE_EDFLIB") == "1" {
			t.Fatalf("cannot build the EDFlib writer (BCI_REQUIRE_EDFLIB=1): %v\n%s", err, out)
		}
		t.Skipf("EDFlib writer not built (apt-get install libedf-dev gcc): %v", err)
	}
	return bin
}

func TestReadsFilesWrittenByEDFlib(t *testing.T) {
	writer := edflibWriter(t)
	for _, kind := range []string{"edf", "bdf"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x."+kind)
			out, err := exec.Command(writer, path, kind).CombinedOutput()
			require.NoError(t, err, string(out))
			e, err := acquire.OpenEDF(path, acquire.EDFOptions{})
			require.NoError(t, err)
			defer e.Close()
			h := e.Header()
			assert.Equal(t, kind == "bdf", h.BDF)
			assert.Equal(t, 10, h.Records)
			info := e.Info()
			assert.Equal(t, []string{"C3", "C4", "EMG"}, info.ChannelNames)
			assert.Equal(t, 256.0, info.Rate)
			samples, err := readFrames(e)
			require.NoError(t, err)
			require.Len(t, samples, 3*256*10)
			// sine waves of half the physical range, in µV (C4 was in mV)
			amp := []float64{250, 1000, 500}
			quant := []float64{1000.0 / 65535, 4000.0 / 65535, 2000.0 / 65535}
			if kind == "bdf" {
				quant = []float64{1000.0 / 16777215, 4000.0 / 16777215, 2000.0 / 16777215}
			}
			for n := 0; n < 2560; n += 37 {
				for c := range 3 {
					tm := float64(n) / 256
					want := amp[c] * math.Sin(2*math.Pi*float64(5+5*c)*tm)
					assert.InDelta(t, want, samples[n*3+c], quant[c]+1e-3, "sample %d channel %d", n, c)
				}
			}
			var texts []string
			for _, a := range e.Annotations() {
				texts = append(texts, a.Text)
				switch a.Text {
				case "cue left":
					assert.InDelta(t, 1.5, a.Onset, 1e-9)
					assert.InDelta(t, 0.5, a.Duration, 1e-9)
				case "cue right":
					assert.InDelta(t, 6.25, a.Onset, 1e-9)
				}
			}
			assert.ElementsMatch(t, []string{"cue left", "cue right"}, texts)
		})
	}
}
