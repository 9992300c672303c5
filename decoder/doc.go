// Package decoder turns bins of neural features into intents: continuous
// kinematics or discrete commands for prosthetic controllers. It holds the
// classic baselines (Wiener and Kalman filters), adapters for the spiking
// networks of package snn, model files for all of them, and the output
// stage that keeps every published value finite and within limits.
package decoder
