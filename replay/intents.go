package replay

import (
	"context"
	"fmt"
	"math"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/decoder"
)

// RecordedIntents reads every intent a session published while it was
// recorded, in order.
func RecordedIntents(ctx context.Context, js jetstream.JetStream, session string) ([]decoder.Intent, error) {
	return bus.ReadJSON[decoder.Intent](ctx, js, session, bus.IntentSubject(session), "intents")
}

// Diff is the outcome of comparing replayed intents with live ones.
type Diff struct {
	Identical bool `json:"identical"`
	// Compared is the number of intents found equal before the first
	// difference (all paired ones when identical).
	Compared int `json:"compared"`
	// Live and Replayed are the number of intents in each run.
	Live     int `json:"live"`
	Replayed int `json:"replayed"`
	// Unreplayed counts live intents without a replayed intent of their
	// seq (their bin is not in the recording); Uncaptured counts replayed
	// intents the recording did not capture live (intents are core NATS
	// messages, which a stream busy electing a leader may miss).
	Unreplayed int `json:"unreplayed,omitempty"`
	Uncaptured int `json:"uncaptured,omitempty"`
	// Mismatch describes the first difference, if any.
	Mismatch string `json:"mismatch,omitempty"`
}

// Compare checks that replayed intents equal live ones bit for bit, pairing
// them by seq: same sample time, kind, values, class, confidence, model and
// status. Decode times differ by nature and are not compared. The runs are
// identical when every live intent has an equal replayed twin; a replayed
// intent the recording did not capture is counted, not a difference.
func Compare(live, replayed []decoder.Intent) Diff {
	d := Diff{Live: len(live), Replayed: len(replayed), Identical: true}
	bySeq := make(map[uint64]int, len(replayed))
	for i := range replayed {
		bySeq[replayed[i].Seq] = i
	}
	paired := make(map[uint64]bool, len(live))
	for i := range live {
		j, ok := bySeq[live[i].Seq]
		if !ok {
			d.Unreplayed++
			continue
		}
		paired[live[i].Seq] = true
		if msg := differ(&live[i], &replayed[j]); msg != "" && d.Identical {
			d.Identical = false
			d.Mismatch = fmt.Sprintf("intent %d (seq %d): %s", i, live[i].Seq, msg)
		}
		if d.Identical {
			d.Compared++
		}
	}
	d.Uncaptured = len(bySeq) - len(paired)
	if d.Unreplayed > 0 && d.Identical {
		d.Identical = false
		d.Mismatch = fmt.Sprintf("%d live intents have no replayed twin: their bins are not in the recording", d.Unreplayed)
	}
	return d
}

func differ(a, b *decoder.Intent) string {
	switch {
	case a.Seq != b.Seq:
		return fmt.Sprintf("seq %d vs %d", a.Seq, b.Seq)
	case a.SampleTime != b.SampleTime:
		return fmt.Sprintf("sample_time %d vs %d", a.SampleTime, b.SampleTime)
	case a.Kind != b.Kind || a.Status != b.Status || a.Model != b.Model:
		return fmt.Sprintf("kind/status/model %s/%s/%.12s vs %s/%s/%.12s", a.Kind, a.Status, a.Model, b.Kind, b.Status, b.Model)
	case a.Class != b.Class || math.Float32bits(a.Confidence) != math.Float32bits(b.Confidence):
		return fmt.Sprintf("class %d (%g) vs %d (%g)", a.Class, a.Confidence, b.Class, b.Confidence)
	case len(a.Values) != len(b.Values):
		return fmt.Sprintf("%d values vs %d", len(a.Values), len(b.Values))
	}
	for i := range a.Values {
		if math.Float32bits(a.Values[i]) != math.Float32bits(b.Values[i]) {
			return fmt.Sprintf("value %d: %v vs %v", i, a.Values[i], b.Values[i])
		}
	}
	return ""
}
