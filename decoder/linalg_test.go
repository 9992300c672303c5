package decoder

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInvertSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 6} {
		for range 20 {
			a := make([]float64, n*n)
			for i := range a {
				a[i] = r.NormFloat64()
			}
			// a permutation-heavy matrix exercises pivoting
			a[0] = 0
			inv := append([]float64(nil), a...)
			if !invertSmall(inv, n, make([]int, n)) {
				continue
			}
			for i := range n {
				for j := range n {
					s := 0.0
					for k := range n {
						s += a[i*n+k] * inv[k*n+j]
					}
					want := 0.0
					if i == j {
						want = 1
					}
					assert.InDelta(t, want, s, 1e-8, "n=%d (%d,%d)", n, i, j)
				}
			}
		}
	}
	assert.False(t, invertSmall([]float64{1, 2, 2, 4}, 2, make([]int, 2)), "singular")
}
