// Package acquire reads neural recordings into the pipeline: continuous
// sample frames from files, sockets and the simulator, and pre-binned spike
// counts from sources that bin on their own (hardware, sorted datasets, the
// simulator's binned mode).
//
// Every source fills caller-owned buffers so the decoding loop allocates
// nothing per frame, and every source returns io.EOF at its end.
package acquire
