package bus

import (
	"errors"
	"fmt"
)

// ErrSession is returned for session names that are not a valid subject
// token.
var ErrSession = errors.New("invalid session name")

// Header names carried by every intent message, so a subscriber can measure
// latency without parsing the body.
const (
	HeaderSeq        = "Bci-Seq"
	HeaderSampleTime = "Bci-Sample-Time"
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

// IntentSubject is the subject intents of a session are published on.
func IntentSubject(session string) string { return "bci." + session + ".intent" }

// StatusSubject is the subject of a session's periodic health messages.
func StatusSubject(session string) string { return "bci." + session + ".status" }
