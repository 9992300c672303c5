//go:build linux

package session_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
	"github.com/bci-decode/bci-decode/pipeline"
	"github.com/bci-decode/bci-decode/session"
)

// policySink records the scheduling policy of the thread it is fed on,
// which is the decoding loop's.
type policySink struct{ policies map[uint32]int }

func (s *policySink) Consume(*decoder.Intent, *acquire.Bin) {
	if a, err := unix.SchedGetAttr(0, 0); err == nil {
		s.policies[a.Policy]++
	}
}

// TestPriorityMakesTheDecodingThreadRealTime runs a live session with
// Priority and checks that every bin was decoded on a SCHED_FIFO thread,
// and that the same session without it decodes on an ordinary one.
func TestPriorityMakesTheDecodingThreadRealTime(t *testing.T) {
	nc, _ := startServer(t)
	m := model(t, "kalman", 1, 5*time.Millisecond)
	run := func(name string, prio int) (map[uint32]int, error) {
		s := &policySink{policies: map[uint32]int{}}
		_, err := session.Run(context.Background(), session.Options{Session: name, Conn: nc, Source: simSource(t, 2, 100, true),
			Model: m, Realtime: true, Priority: prio, Sinks: []pipeline.Sink{s}})
		return s.policies, err
	}
	got, err := run("rt", 10)
	if errors.Is(err, unix.EPERM) && os.Getenv("CI") == "" {
		t.Skip("real-time priority not permitted here (needs root or CAP_SYS_NICE)")
	}
	require.NoError(t, err)
	assert.Equal(t, map[uint32]int{unix.SCHED_FIFO: 100}, got, "every bin decoded on the real-time thread")
	got, err = run("normal", 0)
	require.NoError(t, err)
	assert.Equal(t, map[uint32]int{unix.SCHED_NORMAL: 100}, got)
}
