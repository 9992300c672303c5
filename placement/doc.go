// Package placement shares sessions among several decoder processes on a
// NATS cluster. Sessions are declared in the JetStream key-value bucket
// bci-sessions; each is decoded by exactly one process at a time, the
// holder of its lease in bci-leases, a bucket whose entries expire unless
// renewed. New sessions go to the least-loaded live process (loads are
// heartbeats in bci-workers). When a process dies its leases expire and
// another takes its sessions over: it restores the decoder state from the
// last checkpoint recorded in the session's stream, replays the bins
// recorded since, and continues at the next seq, marking its intents as a
// takeover.
package placement
