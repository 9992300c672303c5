package lsl

import (
	"os"
	"testing"

	"github.com/bci-decode/bci-decode/internal/netns"
)

// Every test and benchmark of this package runs in a network namespace
// whose only interface is lo: LSL discovery multicasts and broadcasts.
func TestMain(m *testing.M) { os.Exit(netns.RunIsolated(m)) }
