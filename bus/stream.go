package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/decoder"
)

// StreamName is the JetStream stream that records a session.
func StreamName(session string) string { return "BCI_" + session }

// RawSubject carries raw frames of a session.
func RawSubject(session string) string { return "bci." + session + ".raw" }

// BinsSubject carries binned features of a session.
func BinsSubject(session string) string { return "bci." + session + ".bins" }

// ErrNoSession is returned when no recording exists for a session.
var ErrNoSession = errors.New("no recorded session")

// SessionInfo describes a recorded session; it is kept in the stream's
// metadata.
type SessionInfo struct {
	Channels int
	BinWidth int64
	Targets  []string
	// Output is how the live run shaped intents; a replay needs the same.
	Output decoder.OutputOptions
}

func (s SessionInfo) metadata() map[string]string {
	return map[string]string{
		"bci_channels":     strconv.Itoa(s.Channels),
		"bci_bin_width_ns": strconv.FormatInt(s.BinWidth, 10),
		"bci_targets":      strings.Join(s.Targets, ","),
		"bci_output_kind":  string(s.Output.Kind),
		"bci_limit":        strconv.FormatFloat(float64(s.Output.Limit), 'g', -1, 32),
		"bci_integrate":    strconv.FormatBool(s.Output.Integrate),
	}
}

func sessionFromMetadata(md map[string]string) (SessionInfo, error) {
	ch, err1 := strconv.Atoi(md["bci_channels"])
	bw, err2 := strconv.ParseInt(md["bci_bin_width_ns"], 10, 64)
	if err := errors.Join(err1, err2); err != nil || ch < 1 || bw < 1 {
		return SessionInfo{}, fmt.Errorf("stream metadata does not describe a bci-decode session: %v", md)
	}
	var targets []string
	if t := md["bci_targets"]; t != "" {
		targets = strings.Split(t, ",")
	}
	limit, err3 := strconv.ParseFloat(md["bci_limit"], 32)
	integrate, err4 := strconv.ParseBool(md["bci_integrate"])
	if err := errors.Join(err3, err4); err != nil {
		return SessionInfo{}, fmt.Errorf("stream metadata has a bad output setting: %w", err)
	}
	out := decoder.OutputOptions{Kind: decoder.Kind(md["bci_output_kind"]), Limit: float32(limit), Integrate: integrate}
	return SessionInfo{Channels: ch, BinWidth: bw, Targets: targets, Output: out}, nil
}

// EnsureStream creates or updates the stream that records session, with
// the given number of replicas (1 on a single server).
func EnsureStream(ctx context.Context, js jetstream.JetStream, session string, info SessionInfo, replicas int) (jetstream.Stream, error) {
	if err := ValidateSession(session); err != nil {
		return nil, err
	}
	if replicas < 1 {
		replicas = 1
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName(session),
		Description: "bci-decode session " + session,
		Subjects:    []string{RawSubject(session), BinsSubject(session), IntentSubject(session), SnapshotSubject(session)},
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Metadata:    info.metadata(),
		// Bins carry message ids when a session may move between
		// processes; a bin recorded twice within this window is kept once.
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName(session), err)
	}
	return s, nil
}

// OpenSession finds the recording of session and describes it.
func OpenSession(ctx context.Context, js jetstream.JetStream, session string) (jetstream.Stream, SessionInfo, error) {
	if err := ValidateSession(session); err != nil {
		return nil, SessionInfo{}, err
	}
	s, err := js.Stream(ctx, StreamName(session))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, SessionInfo{}, fmt.Errorf("%w %q: stream %s does not exist on this server", ErrNoSession, session, StreamName(session))
	}
	if err != nil {
		return nil, SessionInfo{}, fmt.Errorf("open stream %s: %w", StreamName(session), err)
	}
	info, err := sessionFromMetadata(s.CachedInfo().Config.Metadata)
	if err != nil {
		return nil, SessionInfo{}, fmt.Errorf("session %q: %w", session, err)
	}
	return s, info, nil
}

// ErrRecorded is returned when a recording would overwrite another.
var ErrRecorded = errors.New("session already recorded")

// PrepareRecording readies the stream of a new recording of session: it
// refuses to mix with an earlier recording of the same name unless
// overwrite is set, in which case the earlier one is purged.
func PrepareRecording(ctx context.Context, js jetstream.JetStream, session string, info SessionInfo, replicas int, overwrite bool) (jetstream.Stream, error) {
	if s, err := js.Stream(ctx, StreamName(session)); err == nil {
		if n := s.CachedInfo().State.Msgs; n > 0 {
			if !overwrite {
				return nil, fmt.Errorf("%w: stream %s holds %d messages (use another session name, or overwrite it)", ErrRecorded, StreamName(session), n)
			}
			if err := s.Purge(ctx); err != nil {
				return nil, fmt.Errorf("purge %s: %w", StreamName(session), err)
			}
		}
	}
	return EnsureStream(ctx, js, session, info, replicas)
}
