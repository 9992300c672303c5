// Package bus connects bci-decode to NATS: it runs the embedded server that
// makes a bare machine work out of the box, connects to external servers
// and clusters, and publishes intents and health to prosthetic controllers
// without ever making the decoding loop wait on the network.
//
// Subjects (session is a token of letters, digits, '-' and '_'):
//
//	bci.<session>.intent   one JSON intent per message, headers Bci-Seq and Bci-Sample-Time
//	bci.<session>.status   periodic JSON health: rates, drops, latency percentiles, model
package bus
