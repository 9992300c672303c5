package lsl

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goSignalOutlet makes an outlet of the test signal's shape.
func goSignalOutlet(t testing.TB, cfg *Config, name string, f Format, nch int, rate float64, opts OutletOptions) *Outlet {
	t.Helper()
	info := StreamInfo{Name: name, Type: "GoTest", ChannelCount: nch, NominalRate: rate, Format: f, SourceID: "go-src-" + name}
	chs := make([]Channel, nch)
	for k := range chs {
		chs[k] = Channel{Label: "g" + strconv.Itoa(k), Unit: "microvolts", Type: "GoTest"}
	}
	info.SetChannels(chs)
	o, err := NewOutlet(cfg, info, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close(testContext(t, 5*time.Second)) })
	return o
}

// pushSignal pushes samples [from, to) of the test signal: with per-sample
// stamps when stamped, else in chunks with one stamp each (the later
// samples travel as deduced stamps). It returns the stamps receivers must
// see.
func pushSignal(t testing.TB, o *Outlet, from, to, chunk int, stamped bool) []float64 {
	t.Helper()
	info := o.Info()
	f, nch, rate := info.Format, info.ChannelCount, info.NominalRate
	if rate == 0 {
		rate = 100
	}
	var want []float64
	for i0 := from; i0 < to; i0 += chunk {
		n := min(chunk, to-i0)
		stamps := make([]float64, n)
		for j := range stamps {
			stamps[j] = stampof(uint64(i0+j), rate)
		}
		var err error
		if f == String {
			for j := 0; j < n; j++ {
				vals := make([]string, nch)
				for k := range vals {
					vals[k] = strval(uint64(i0+j), uint64(k), uint64(nch))
				}
				err = o.PushStrings(vals, stamps[j])
				want = append(want, stamps[j])
			}
		} else {
			raw := make([]byte, 0, n*nch*f.Size())
			for j := 0; j < n; j++ {
				raw = append(raw, sampleBytesOf(f, uint64(i0+j), nch)...)
			}
			if stamped {
				err = pushRaw(o, f, raw, stamps, 0)
				want = append(want, stamps...)
			} else {
				err = pushRaw(o, f, raw, nil, stamps[n-1])
				s := stamps[n-1] - float64(n-1)/info.NominalRate
				want = append(want, s)
				for j := 1; j < n; j++ {
					s = s + 1.0/info.NominalRate
					want = append(want, s)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// pushRaw pushes little-endian values through the typed API of f's Go type.
func pushRaw(o *Outlet, f Format, raw []byte, stamps []float64, stamp float64) error {
	n := len(raw) / f.Size()
	switch f {
	case Float32:
		d := make([]float32, n)
		decodeValues(d, raw, f)
		if stamps != nil {
			return PushChunkStamped(o, d, stamps)
		}
		return PushChunk(o, d, stamp)
	case Double64:
		d := make([]float64, n)
		decodeValues(d, raw, f)
		if stamps != nil {
			return PushChunkStamped(o, d, stamps)
		}
		return PushChunk(o, d, stamp)
	case Int32:
		d := make([]int32, n)
		decodeValues(d, raw, f)
		if stamps != nil {
			return PushChunkStamped(o, d, stamps)
		}
		return PushChunk(o, d, stamp)
	case Int16:
		d := make([]int16, n)
		decodeValues(d, raw, f)
		if stamps != nil {
			return PushChunkStamped(o, d, stamps)
		}
		return PushChunk(o, d, stamp)
	case Int8:
		d := make([]int8, n)
		decodeValues(d, raw, f)
		if stamps != nil {
			return PushChunkStamped(o, d, stamps)
		}
		return PushChunk(o, d, stamp)
	case Int64:
		d := make([]int64, n)
		decodeValues(d, raw, f)
		if stamps != nil {
			return PushChunkStamped(o, d, stamps)
		}
		return PushChunk(o, d, stamp)
	}
	return fmt.Errorf("format %v", f)
}

// TestGoOutletToLibLSL: liblsl (testdata/peers/lslrecv) resolves our
// outlet by predicate, reads its full info, passes the handshake and
// receives every value and stamp exactly, then measures a near-zero time
// correction against our time service.
func TestGoOutletToLibLSL(t *testing.T) {
	bin := peerProgram(t, "lslrecv")
	cases := []struct {
		format Format
		nch    int
		rate   float64
	}{
		{Float32, 8, 500}, {Double64, 3, 200}, {Int32, 4, 1000}, {Int16, 32, 2000}, {Int8, 5, 100}, {Int64, 2, 100}, {String, 2, 0},
	}
	for _, c := range cases {
		t.Run(c.format.String(), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			ctx := testContext(t, 60*time.Second)
			name := "bci-out-" + c.format.String()
			o := goSignalOutlet(t, cfg, name, c.format, c.nch, c.rate, OutletOptions{MaxBuffered: time.Minute})
			const count = 1200
			p := start(t, bin, "name='"+name+"' and channel_count="+strconv.Itoa(c.nch)+" and starts-with(source_id,'go-src-')", strconv.Itoa(count), "20")
			infoLine := p.expect(t, "I ", 20*time.Second)
			if err := o.WaitForConsumers(ctx); err != nil {
				t.Fatal(err)
			}
			// half with a stamp per sample, half in chunks with deduced stamps
			want := pushSignal(t, o, 0, count/2, 16, true)
			want = append(want, pushSignal(t, o, count/2, count, 25, c.format == String)...)
			f := strings.Split(strings.TrimPrefix(infoLine, "I "), "|")
			rate, _ := strconv.ParseFloat(f[3], 64)
			info := o.Info()
			if f[0] != name || f[1] != "GoTest" || f[2] != strconv.Itoa(c.nch) || rate != c.rate || f[4] != info.SourceID || f[5] != info.UID || f[6] != info.Hostname {
				t.Fatalf("liblsl resolved %q, want name %s, %d channels, rate %v, source %s, uid %s, host %s", infoLine, name, c.nch, c.rate, info.SourceID, info.UID, info.Hostname)
			}
			labels := p.expect(t, "L", 20*time.Second)
			if want := "L g0 g1"; !strings.HasPrefix(labels, want) || len(strings.Fields(labels)) != c.nch+1 {
				t.Fatalf("liblsl read channel labels %q from our full info", labels)
			}
			for i := 0; i < count; i++ {
				line := p.expect(t, "S ", 20*time.Second)
				fields := strings.Fields(line)
				if len(fields) != 2+c.nch {
					t.Fatalf("sample %d: %q", i, line)
				}
				stamp, err := strconv.ParseFloat(fields[1], 64)
				if err != nil || math.Float64bits(stamp) != math.Float64bits(want[i]) {
					t.Fatalf("sample %d: liblsl got stamp %s (%v), want %v", i, fields[1], stamp, want[i])
				}
				for k := 0; k < c.nch; k++ {
					if got, w := fields[2+k], printedValue(c.format, uint64(i), k, c.nch); got != w {
						t.Fatalf("sample %d channel %d: liblsl got %s, want %s", i, k, got, w)
					}
				}
			}
			corr := p.expect(t, "T ", 20*time.Second)
			tc, err := strconv.ParseFloat(strings.TrimPrefix(corr, "T "), 64)
			if err != nil || math.Abs(tc) > 0.005 {
				t.Fatalf("liblsl's time correction against our outlet: %q", corr)
			}
			if err := p.wait(t, 10*time.Second); err != nil {
				t.Fatalf("lslrecv: %v", err)
			}
			if st := o.Stats(); st.Pushed != count || st.Feeds < 1 || st.BadRequests != 0 {
				t.Fatalf("outlet stats: %+v", st)
			}
		})
	}
}

// printedValue is how lslrecv prints value k of sample i.
func printedValue(f Format, i uint64, k, nch int) string {
	u := valbits(i, uint64(k), uint64(nch))
	switch f {
	case Float32:
		return fmt.Sprintf("%08x", uint32(u))
	case Double64:
		return fmt.Sprintf("%016x", u)
	case Int32:
		return strconv.Itoa(int(int32(u)))
	case Int16:
		return strconv.Itoa(int(int16(u)))
	case Int8:
		return strconv.Itoa(int(int8(u)))
	case Int64:
		return strconv.FormatInt(int64(u), 10)
	}
	return "x" + hex.EncodeToString([]byte(strval(i, uint64(k), uint64(nch))))
}
