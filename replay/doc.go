// Package replay re-runs recorded sessions through the live decoding
// pipeline: it reads the bins a session recorded in JetStream (or a file),
// decodes them with the models that decoded them live, following any swaps,
// and checks that the intents come out bit for bit as they did live. It also
// builds the time-ordered datasets that retraining learns from.
package replay
