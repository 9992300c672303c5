package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
)

// ErrNoSession is returned when no recording exists for a session.
var ErrNoSession = errors.New("no recorded session")

// SessionInfo describes a recorded session. It is stored as a message on
// bci.<session>.meta in the session's stream, which every server version
// keeps (stream metadata, which nats-server 2.9 drops, repeats it).
type SessionInfo struct {
	// Shape describes the recorded bins.
	Shape acquire.Shape `json:"shape"`
	// Output is how the live run shaped intents; a replay needs the same.
	Output decoder.OutputOptions `json:"output"`
}

type sessionInfoJSON struct {
	Channels     int          `json:"channels"`
	BinWidthNS   int64        `json:"bin_width_ns"`
	ChannelNames []string     `json:"channel_names,omitempty"`
	Targets      []string     `json:"targets,omitempty"`
	OutputKind   decoder.Kind `json:"output_kind,omitempty"`
	Limit        float32      `json:"limit,omitempty"`
	Integrate    bool         `json:"integrate,omitempty"`
}

// MarshalJSON writes the description with plain field names and the bin
// width in nanoseconds.
func (s SessionInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(sessionInfoJSON{Channels: s.Shape.Channels, BinWidthNS: int64(s.Shape.BinWidth), ChannelNames: s.Shape.ChannelNames,
		Targets: s.Shape.Targets, OutputKind: s.Output.Kind, Limit: s.Output.Limit, Integrate: s.Output.Integrate})
}

// UnmarshalJSON reads what MarshalJSON writes and checks the shape.
func (s *SessionInfo) UnmarshalJSON(b []byte) error {
	var j sessionInfoJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = SessionInfo{
		Shape:  acquire.Shape{Channels: j.Channels, BinWidth: time.Duration(j.BinWidthNS), ChannelNames: j.ChannelNames, Targets: j.Targets},
		Output: decoder.OutputOptions{Kind: j.OutputKind, Limit: j.Limit, Integrate: j.Integrate},
	}
	return s.Shape.Validate()
}

func (s SessionInfo) metadata() map[string]string {
	return map[string]string{
		"bci_channels":     strconv.Itoa(s.Shape.Channels),
		"bci_bin_width_ns": strconv.FormatInt(int64(s.Shape.BinWidth), 10),
		"bci_targets":      strings.Join(s.Shape.Targets, ","),
		"bci_output_kind":  string(s.Output.Kind),
		"bci_limit":        strconv.FormatFloat(float64(s.Output.Limit), 'g', -1, 32),
		"bci_integrate":    strconv.FormatBool(s.Output.Integrate),
	}
}

// sessionFromMetadata reads the stream metadata of recordings made before
// the description message existed.
func sessionFromMetadata(md map[string]string) (SessionInfo, error) {
	ch, err1 := strconv.Atoi(md["bci_channels"])
	bw, err2 := strconv.ParseInt(md["bci_bin_width_ns"], 10, 64)
	if err := errors.Join(err1, err2); err != nil || ch < 1 || bw < 1 {
		return SessionInfo{}, errors.New("the stream holds no session description (no meta message, no stream metadata)")
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
	return SessionInfo{Shape: acquire.Shape{Channels: ch, BinWidth: time.Duration(bw), Targets: targets}, Output: out}, nil
}

// sessionSubjects are the subjects a session's stream records.
func sessionSubjects(session string) []string {
	return []string{RawSubject(session), BinsSubject(session), IntentSubject(session), SnapshotSubject(session), MetaSubject(session),
		EventsSubject(session), CursorSubject(session)}
}

// EnsureStream creates or updates the stream that records session, with
// the given number of replicas (1 on a single server), and stores the
// session's description in it.
func EnsureStream(ctx context.Context, js jetstream.JetStream, session string, info SessionInfo, replicas int) (jetstream.Stream, error) {
	if err := ValidateSession(session); err != nil {
		return nil, err
	}
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamName(session),
		Description: "bci-decode session " + session,
		Subjects:    sessionSubjects(session),
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
		Metadata:    info.metadata(),
		// Bins carry message ids when a session may move between
		// processes; a bin recorded twice within this window is kept once.
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", StreamName(session), err)
	}
	body, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	if _, err := js.Publish(ctx, MetaSubject(session), body); err != nil {
		return nil, fmt.Errorf("stream %s: store the session description: %w", StreamName(session), err)
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
	info, err := readSessionInfo(ctx, s, session)
	if err != nil {
		return nil, SessionInfo{}, fmt.Errorf("session %q: %w", session, err)
	}
	return s, info, nil
}

func readSessionInfo(ctx context.Context, s jetstream.Stream, session string) (SessionInfo, error) {
	m, err := s.GetLastMsgForSubject(ctx, MetaSubject(session))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return sessionFromMetadata(s.CachedInfo().Config.Metadata)
	}
	if err != nil {
		return SessionInfo{}, fmt.Errorf("read the session description: %w", err)
	}
	var info SessionInfo
	if err := json.Unmarshal(m.Data, &info); err != nil {
		return SessionInfo{}, fmt.Errorf("stream message %d: bad session description: %w", m.Sequence, err)
	}
	return info, nil
}

// ErrRecorded is returned when a recording would overwrite another.
var ErrRecorded = errors.New("session already recorded")

// PrepareRecording readies the stream of a new recording of session (see
// CheckRecording, then EnsureStream).
func PrepareRecording(ctx context.Context, js jetstream.JetStream, session string, info SessionInfo, replicas int, overwrite bool) (jetstream.Stream, error) {
	if err := CheckRecording(ctx, js, session, overwrite); err != nil {
		return nil, err
	}
	return EnsureStream(ctx, js, session, info, replicas)
}

// CheckRecording refuses to mix a new recording of session with an
// earlier one, unless overwrite is set, in which case the earlier one is
// purged. It is to be asked before the new recording's stream is made.
func CheckRecording(ctx context.Context, js jetstream.JetStream, session string, overwrite bool) error {
	s, err := js.Stream(ctx, StreamName(session))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", StreamName(session), err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(MetaSubject(session)))
	if err != nil {
		return fmt.Errorf("stream %s: %w", StreamName(session), err)
	}
	// Descriptions alone (an earlier attempt that got no further) are not
	// a recording.
	n := info.State.Msgs - info.State.Subjects[MetaSubject(session)]
	switch {
	case n == 0:
		return nil
	case !overwrite:
		return fmt.Errorf("%w: stream %s holds %d messages (use another session name, or overwrite it)", ErrRecorded, StreamName(session), n)
	}
	if err := s.Purge(ctx); err != nil {
		return fmt.Errorf("purge %s: %w", StreamName(session), err)
	}
	return nil
}
