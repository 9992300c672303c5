package bus

import (
	"errors"
	"fmt"
)

// Every subject, stream and bucket name the project uses is built here.
//
//	bci.<session>.intent          decoded intents (JSON)
//	bci.<session>.shadow.intent   a shadow decoder's intents (JSON)
//	bci.<session>.status          periodic health (JSON)
//	bci.<session>.bins            binned features (binary, recorded)
//	bci.<session>.raw             raw sample frames (binary, ingested or recorded)
//	bci.<session>.snapshot        decoder-state checkpoints (binary, recorded)
//	bci.<session>.meta            the recording's description (JSON, recorded)
//	bci.<session>.events          session events such as stream markers (JSON, recorded)
//	bci.<session>.cursor          a cursor controller's state (JSON)
//	bci.<session>.telemetry       dashboard feed (JSON)
//	bci.<session>.control.<verb>  control requests
//	BCI_<session>                 the stream recording a session
//	bci-models                    model files by content hash (object store)

// ErrSession is returned for session names that are not a valid subject
// token.
var ErrSession = errors.New("invalid session name")

// Header names carried by every intent message, so a subscriber can measure
// latency without parsing the body.
const (
	HeaderSeq        = "Bci-Seq"
	HeaderSampleTime = "Bci-Sample-Time"
	// HeaderStatus repeats the intent's status, so a controller can
	// ignore what is not "ok" without parsing the body.
	HeaderStatus = "Bci-Status"
	// HeaderWatchdog marks the intents the input watchdog publishes.
	HeaderWatchdog = "Bci-Watchdog"
)

// ValidateSession checks that s can be used as one subject token.
func ValidateSession(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("%w %q: want 1-64 characters", ErrSession, s)
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w %q: character %q at %d (allowed: letters, digits, '-', '_')", ErrSession, s, r, i)
		}
	}
	return nil
}

func subject(session, leaf string) string { return "bci." + session + "." + leaf }

// IntentSubject is the subject intents of a session are published on.
func IntentSubject(session string) string { return subject(session, "intent") }

// ShadowIntentSubject carries the intents of a session's shadow decoder,
// never those a controller acts on.
func ShadowIntentSubject(session string) string { return subject(session, "shadow.intent") }

// StatusSubject is the subject of a session's periodic health messages.
func StatusSubject(session string) string { return subject(session, "status") }

// AllStatusSubject matches the status messages of every session.
const AllStatusSubject = "bci.*.status"

// RawSubject carries raw frames of a session.
func RawSubject(session string) string { return subject(session, "raw") }

// BinsSubject carries binned features of a session.
func BinsSubject(session string) string { return subject(session, "bins") }

// SnapshotSubject carries a session's decoder-state checkpoints.
func SnapshotSubject(session string) string { return subject(session, "snapshot") }

// MetaSubject carries the description of a session's recording.
func MetaSubject(session string) string { return subject(session, "meta") }

// EventsSubject carries a session's events (stream markers, say).
func EventsSubject(session string) string { return subject(session, "events") }

// CursorSubject carries the state of a session's cursor controller.
func CursorSubject(session string) string { return subject(session, "cursor") }

// TelemetrySubject carries the dashboard feed of a session.
func TelemetrySubject(session string) string { return subject(session, "telemetry") }

// ControlSubject is the request subject of a control verb.
func ControlSubject(session, verb string) string { return controlGroup(session) + "." + verb }

func controlGroup(session string) string { return subject(session, "control") }

// StreamName is the JetStream stream that records a session.
func StreamName(session string) string { return "BCI_" + session }

// ModelBucket is the Object Store bucket holding model files by content hash.
const ModelBucket = "bci-models"
