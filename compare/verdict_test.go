package compare

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerdict(t *testing.T) {
	seeded := func(name string, r2s ...float64) Row {
		return pool(rowsOf(name, r2s))
	}
	assert.Equal(t, "b leads a by 0.100 R², more than the spread over 3 seeds (0.010): told apart",
		verdict([]Row{seeded("a", 0.69, 0.70, 0.71), seeded("b", 0.8, 0.8, 0.8)}))
	assert.Equal(t, "a leads b by 0.010 R², within the spread over 3 seeds (0.020) and within 2 standard errors of the paired difference (0.012): the two are not told apart",
		verdict([]Row{seeded("a", 0.79, 0.81, 0.83), seeded("b", 0.8, 0.8, 0.8)}))
	// Seeds that move both kinds alike: the paired differences are steady
	// although each kind spreads widely.
	assert.Equal(t, "a leads b by 0.010 R², within the spread over 4 seeds (0.054) but 12.2 standard errors of the paired difference (0.001): a small lead, likely real",
		verdict([]Row{seeded("a", 0.71, 0.76, 0.81, 0.83), seeded("b", 0.70, 0.748, 0.802, 0.820)}))
	assert.Contains(t, verdict([]Row{{Name: "a", R2: 0.5}, {Name: "b", R2: 0.6}}), "b leads a by 0.100 R², from one training seed each")
	assert.Empty(t, verdict([]Row{{Name: "a"}}))
}

// TestPoolClosedLoop: closed-loop figures over seeds are means with their
// standard deviations.
func TestPoolClosedLoop(t *testing.T) {
	rows := rowsOf("a", []float64{0.5, 0.7})
	rows[0].ClosedLoop = map[string]float64{"throughput_bps": 3}
	rows[1].ClosedLoop = map[string]float64{"throughput_bps": 2}
	r := pool(rows)
	assert.InDelta(t, 2.5, r.ClosedLoop["throughput_bps"], 1e-12)
	assert.InDelta(t, 0.7071, r.ClosedLoopSD["throughput_bps"], 1e-4)
	assert.Nil(t, pool(rowsOf("b", []float64{0.5, 0.6})).ClosedLoop, "no closed loop, no figures")
}

func rowsOf(name string, r2s []float64) []Row {
	rows := make([]Row, len(r2s))
	for i, v := range r2s {
		rows[i] = Row{Name: name, R2: v}
	}
	return rows
}
