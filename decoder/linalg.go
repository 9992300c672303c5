package decoder

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// colMeans returns the mean of each column of m.
func colMeans(m *mat.Dense) []float64 {
	r, c := m.Dims()
	out := make([]float64, c)
	for i := range r {
		row := m.RawRowView(i)
		for j, v := range row {
			out[j] += v
		}
	}
	for j := range out {
		out[j] /= float64(r)
	}
	return out
}

// centre subtracts mu from every row of m.
func centre(m *mat.Dense, mu []float64) {
	r, _ := m.Dims()
	for i := range r {
		row := m.RawRowView(i)
		for j := range row {
			row[j] -= mu[j]
		}
	}
}

// ridge solves (XᵀX + λI)B = XᵀY for B by Cholesky.
func ridge(x, y *mat.Dense, lambda float64) (*mat.Dense, error) {
	_, p := x.Dims()
	var xtx mat.SymDense
	xtx.SymOuterK(1, x.T())
	for i := range p {
		xtx.SetSym(i, i, xtx.At(i, i)+lambda)
	}
	var ch mat.Cholesky
	if !ch.Factorize(&xtx) {
		return nil, fmt.Errorf("ridge system is not positive definite (λ=%g): features are degenerate", lambda)
	}
	var xty, b mat.Dense
	xty.Mul(x.T(), y)
	if err := ch.SolveTo(&b, &xty); err != nil {
		return nil, fmt.Errorf("ridge solve: %w", err)
	}
	return &b, nil
}

// invertSmall inverts the n×n row-major matrix a in place by Gauss-Jordan
// elimination with partial pivoting; piv (len n) records the pivot rows. It
// serves the few-dimensional state of the Kalman filter, where it runs every
// step without allocating. It reports false when a is singular.
func invertSmall(a []float64, n int, piv []int) bool {
	for k := range n {
		p, best := k, abs(a[k*n+k])
		for i := k + 1; i < n; i++ {
			if v := abs(a[i*n+k]); v > best {
				p, best = i, v
			}
		}
		if best < 1e-300 {
			return false
		}
		piv[k] = p
		if p != k {
			for j := range n {
				a[k*n+j], a[p*n+j] = a[p*n+j], a[k*n+j]
			}
		}
		d := a[k*n+k]
		a[k*n+k] = 1
		for j := range n {
			a[k*n+j] /= d
		}
		for i := range n {
			if i == k {
				continue
			}
			f := a[i*n+k]
			a[i*n+k] = 0
			for j := range n {
				a[i*n+j] -= f * a[k*n+j]
			}
		}
	}
	// Row swaps of the input become column swaps of the inverse, undone in
	// reverse order.
	for k := n - 1; k >= 0; k-- {
		if p := piv[k]; p != k {
			for i := range n {
				a[i*n+k], a[i*n+p] = a[i*n+p], a[i*n+k]
			}
		}
	}
	return true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
