// Package filters conditions continuous neural signals causally, sample by
// sample: Butterworth filters of any order 1-10 designed as second-order
// sections (analogue prototype, pre-warped bilinear transform, as SciPy's
// butter(..., output="sos") does), run in direct form II transposed with
// float64 state per channel; a 50/60 Hz notch; and common average
// referencing (mean or median). Stages work in place on acquire.Frame data
// and allocate nothing per frame.
package filters
