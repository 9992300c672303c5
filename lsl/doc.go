// Package lsl is a pure-Go implementation of the Lab Streaming Layer (LSL)
// protocol 1.10, wire-compatible with the reference liblsl 1.16.2: stream
// discovery over UDP (multicast, broadcast and known peers), the TCP
// stream feed with its handshake and test patterns, time-offset probes, and
// the stream-info XML with its query predicates.
//
// An Outlet publishes a stream; Resolve finds streams; an Inlet receives
// one. The inlet is built for a real-time consumer: its receive buffer is
// small and bounded (the oldest data is dropped and counted rather than
// delivered late), timestamps are mapped to this process's clock,
// de-jittered and kept monotonic, and a lost outlet is found again and
// reconnected without the caller noticing more than a counted gap.
//
// Only data protocol 1.10 is spoken; the portable-archive protocol 1.00
// that liblsl falls back to for exotic machines (non-IEEE floats, unusual
// value sizes) is refused with a clear error.
//
// The package also plugs LSL into bci-decode, each part in its own file:
// the lsl: source scheme of acquire.Open (source.go: continuous streams
// as frames for the signal chain, a stream at one sample per bin as bins),
// the lsl: behaviour scheme of acquire.OpenTargets (targets.go), the
// --lsl-out output plug-in that sends intents on an outlet (output.go),
// the --lsl-markers plug-in that records a marker stream as session events
// (markers.go), and the listing of visible streams (list.go).
package lsl
