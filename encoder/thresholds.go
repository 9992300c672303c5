package encoder

// Thresholds returns each channel's crossing threshold now (µV, negative:
// -K times the noise estimate), -Inf before calibration ends. Like Sigma,
// it is for the goroutine that feeds the encoder (the decoding loop's
// sinks): dashboards show it beside the noise.
func (e *Encoder) Thresholds(dst []float32) []float32 { return append(dst[:0], e.thr...) }
