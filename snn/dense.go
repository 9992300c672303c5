package snn

// Dense is the same network as a Runtime stepped the plain way: every
// synapse multiplied every step (row-major matrix-vector products over the
// whole input, recurrent and readout matrices). It exists as the baseline
// the event-driven Step is benchmarked against and gives the same outputs.
type Dense struct {
	rt   *Runtime
	w    [][]float32 // per layer, n×in row-major
	r    [][]float32 // per layer, n×n row-major (nil without recurrence)
	wout []float32   // outputs×hidden
	x    [][]float32 // per layer input buffer
}

// NewDense builds the dense baseline of a compiled network. It shares no
// state with r (it compiles its own copy of r's state buffers).
func NewDense(m *Model, norm Norm) (*Dense, error) {
	rt, err := m.Compile(norm)
	if err != nil {
		return nil, err
	}
	d := &Dense{rt: rt}
	for _, l := range rt.layers {
		w := make([]float32, l.n*l.in)
		for j := range l.in {
			for i := range l.n {
				w[i*l.in+j] = l.wT[j*l.n+i]
			}
		}
		d.w = append(d.w, w)
		var r []float32
		if l.rT != nil {
			r = make([]float32, l.n*l.n)
			for j := range l.n {
				for i := range l.n {
					r[i*l.n+j] = l.rT[j*l.n+i]
				}
			}
		}
		d.r = append(d.r, r)
		d.x = append(d.x, make([]float32, l.n))
	}
	last := rt.layers[len(rt.layers)-1].n
	no := len(rt.y)
	d.wout = make([]float32, no*last)
	for j := range last {
		for o := range no {
			d.wout[o*last+j] = rt.woutT[j*no+o]
		}
	}
	return d, nil
}

// Reset clears the network state.
func (d *Dense) Reset() { d.rt.Reset() }

// Step advances the network by one bin with dense products.
func (d *Dense) Step(in, out []float32) {
	input := in
	for k := range d.rt.layers {
		l := &d.rt.layers[k]
		for i := range l.n {
			row := d.w[k][i*l.in : (i+1)*l.in]
			s := l.b[i] + dot32(row, input)
			if d.r[k] != nil {
				s += dot32(d.r[k][i*l.n:(i+1)*l.n], l.o)
			}
			l.cur[i] = s
		}
		// Recurrence is already in cur: step the neurons without it.
		rT := l.rT
		l.rT = nil
		l.update()
		l.rT = rT
		input = l.o
	}
	rt := d.rt
	last := rt.layers[len(rt.layers)-1]
	for o := range rt.y {
		row := d.wout[o*last.n : (o+1)*last.n]
		s := rt.beta*rt.y[o] + rt.bout[o] + dot32(row, last.o)
		rt.y[o] = s
		out[o] = s*rt.outSd[o] + rt.outMu[o]
	}
}

// dot32 is a float32 inner product with four accumulators.
func dot32(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		x, y := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}
