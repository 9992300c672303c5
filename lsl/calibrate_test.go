package lsl

import (
	"context"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/frontend"
	"github.com/bci-decode/bci-decode/session"
)

// behaviourOutlet pushes a 100 Hz behaviour stream from a Go outlet until
// ctx ends: sample k carries vel_x = k, vel_y = -k, stamped on a regular
// 10 ms grid of the LSL clock (as a device clock would stamp it, whatever
// the scheduling of the pushes); stamps returns those stamps.
func behaviourOutlet(t *testing.T, ctx context.Context, name string) (stamps func() []float64) {
	t.Helper()
	info := StreamInfo{Name: name, Type: "Behaviour", ChannelCount: 2, NominalRate: 100, Format: Float32, SourceID: "go-" + name}
	info.SetChannels([]Channel{{Label: "vel_x", Type: "Velocity"}, {Label: "vel_y", Type: "Velocity"}})
	o, err := NewOutlet(testConfig(t), info, OutletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pushed []float64
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		t0 := LocalClock()
		for k := 0; ; k++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			ts := t0 + float64(k)/100
			mu.Lock()
			pushed = append(pushed, ts)
			mu.Unlock()
			if err := o.PushFloat32([]float32{float32(k), -float32(k)}, ts); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { <-done; _ = o.Close(context.Background()) })
	return func() []float64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]float64(nil), pushed...)
	}
}

// TestCalibrateLiveThenDecode is the lab's calibration step end to end:
// liblsl's SendData publishes binned counts (96 channels, one sample per
// 20 ms bin), a Go outlet publishes behaviour at 100 Hz; record writes a
// calibration block whose bins carry the behaviour pushed during them
// (aligned by the LSL stamps); a decoder is fit to it and then decodes the
// live stream in a session.
func TestCalibrateLiveThenDecode(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	start(t, example(t, "SendData"), "bci-cal-neural", "Spikes", "96", "50").expect(t, "Now sending data", 20*time.Second)
	behCtx, stopBeh := context.WithCancel(ctx)
	defer stopBeh()
	pushed := behaviourOutlet(t, behCtx, "bci-cal-cursor")
	out := filepath.Join(t.TempDir(), "calib.bcr")
	open := frontend.OpenOptions{Source: acquire.Params{Services: []any{testConfig(t)}}}
	res, err := frontend.Record(ctx, frontend.RecordOptions{Source: "lsl:name='bci-cal-neural'", Targets: "lsl:name='bci-cal-cursor'",
		Out: out, Duration: 8 * time.Second, Open: open})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bins < 250 || res.Channels != 96 || len(res.Targets) != 2 || res.Targets[0] != "vel_x" {
		t.Fatalf("recorded %+v", res)
	}
	if beh, ok := res.Behaviour.(SourceStats); !ok || beh.Stream != "bci-cal-cursor" || beh.Samples < 700 || beh.BadMessages != 0 {
		t.Fatalf("behaviour inlet report %+v", res.Behaviour)
	}
	set, err := frontend.ReadSet(ctx, out, frontend.OpenOptions{}, "vel_x", "vel_y")
	if err != nil {
		t.Fatal(err)
	}
	checkAligned(t, out, pushed())
	model, err := decoder.Train(ctx, "kalman", set, decoder.FitOptions{Seed: 1}, decoder.ModelInfo{TrainedOn: out})
	if err != nil {
		t.Fatal(err)
	}
	s := openStream(t, ctx, "lsl:name='bci-cal-neural'", "lslcal", frontend.Options{})
	run := runFor(t, ctx, 3*time.Second, session.Options{Session: "lslcal", Source: s, Model: model})
	if run.Stats.Bins < 50 || run.Publish.Published < 50 {
		t.Fatalf("the calibrated model decoded %d bins in 3 s", run.Stats.Bins)
	}
}

// checkAligned checks that each recorded bin's targets are the behaviour
// pushed during it: vel_x is the mean index of those samples, so that
// sample was pushed within the bin, give or take the de-jittering of the
// stamps and the clock offset of two processes on one machine (a few ms).
func checkAligned(t *testing.T, path string, pushed []float64) {
	t.Helper()
	r, err := acquire.OpenRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const slack = 5 * time.Millisecond
	var b acquire.Bin
	n := 0
	for r.ReadBin(context.Background(), &b) == nil {
		k := int(math.Round(float64(b.Target[0])))
		if k < 0 || k >= len(pushed) || b.Target[1] != -b.Target[0] {
			t.Fatalf("bin %d: targets %v name no pushed sample", b.Seq, b.Target)
		}
		at := ToUnixNano(pushed[k])
		if at <= b.Start-int64(slack) || at > b.End+int64(slack) {
			t.Fatalf("bin %d (%d-%d): its behaviour, sample %d, was pushed at %d (%.1f ms off)", b.Seq, b.Start, b.End, k, at,
				float64(max(b.Start-at, at-b.End))/1e6)
		}
		n++
	}
	if n < 250 {
		t.Fatalf("checked %d bins", n)
	}
}
