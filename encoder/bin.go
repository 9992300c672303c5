package encoder

// Bin is one decoder timestep.
type Bin struct {
	Seq uint64
	// Start and End bound the bin in nanoseconds; End is the sample time of
	// the intent decoded from it.
	Start, End int64
	// Width is End-Start in nanoseconds.
	Width int64
	// Trial identifies the trial in recorded data; -1 when unknown.
	Trial int
	// Features holds per-channel values: crossing counts, optionally
	// followed by spike-band power.
	Features []float32
	// Target holds the behaviour recorded with the bin (training data only);
	// empty when the source has none.
	Target []float32
}

// CopyFrom makes b a deep copy of src, reusing b's slices.
func (b *Bin) CopyFrom(src *Bin) {
	b.Seq, b.Start, b.End, b.Width, b.Trial = src.Seq, src.Start, src.End, src.Width, src.Trial
	b.Features = append(b.Features[:0], src.Features...)
	b.Target = append(b.Target[:0], src.Target...)
}
