// Package snn implements the spiking neural networks that bci-decode uses
// as decoders: layers of HIFI neurons (heterogeneous, self-inhibiting, after
// Wang et al., National Science Review 2024) and the LIF, PLIF and ALIF
// baselines, with a leaky non-spiking readout.
//
// The package has two halves. Model holds the trainable parameters in
// float64 and computes exact surrogate gradients by a hand-written
// backpropagation through time (full BPTT or the detached-membrane scheme);
// Train fits a Model to sequences with the bi-level scheme of the reference
// code. Runtime is the compiled float32 form used for real-time inference:
// Step advances the whole network by one bin without allocating,
// accumulating synaptic input only for non-zero inputs and spikes, and
// counts the synaptic operations it performs for energy estimates.
//
// For neuron i at step t, with synaptic input S_i[t] = sum_j W_ij in_j[t] +
// b_i (+ sum_k R_ik o_k[t-1] with recurrence) and last spike o_i[t-1]:
//
//	u~_i   = u_i[t-1]*(1 - o_i[t-1]) + ure_i*o_i[t-1]          (hard reset)
//	u_i[t] = g((1 - tau_i)*u~_i + tau_i*ure_i + C_i*(S_i[t] - gamma_i*o_i[t-1]))
//	o_i[t] = H(u_i[t] - th_i[t]),  th_i[t] = uth_i (+ beta_a*a_i[t] for ALIF)
//	g(x)   = max(x, 0.1x)
//
// The readout is a leaky integrator of the last layer's spikes,
// y[t] = beta*y[t-1] + W_out o[t] + b_out, with beta fixed by the
// configuration (0 gives a memoryless linear readout). Outputs are decoded in
// standardised target units and mapped back with the training statistics.
package snn
