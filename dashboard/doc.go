// Package dashboard is the live view of running sessions in a browser: a
// single page, embedded in the binary, that reads the session's NATS
// subjects itself over the NATS server's WebSocket listener with the
// official NATS JavaScript client (vendored from the npm registry), so it
// shows exactly what a prosthetic controller with the same credentials
// would see, and calls the session's control service (pause, resume,
// swap) like any other client.
//
// It is an output plug-in (see pipeline.Plugin): --http ADDR serves the
// page and proxies its WebSocket to NATS for as long as the command runs,
// and makes each session publish a telemetry feed (Feed) of what intents
// do not carry: every bin's features, the true targets when known, the
// decoder's step time and its spiking activity.
package dashboard
