package bus

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/nats-io/nats.go/jetstream"
)

// RecordedEvent is one event of a recorded session (a marker, a clock
// reading): its place in the session's stream and its JSON object.
type RecordedEvent struct {
	StreamSeq uint64
	Data      json.RawMessage
}

// ReadEvents reads every event a recorded session holds
// (bci.<session>.events), in order. Events come from other programs'
// streams, so a message that is not a JSON object is skipped and reported
// in bad, with its place; the rest are still read.
func ReadEvents(ctx context.Context, js jetstream.JetStream, session string) (events []RecordedEvent, bad []error, err error) {
	stream, _, err := OpenSession(ctx, js, session)
	if err != nil {
		return nil, nil, err
	}
	r, err := ReadSubject(ctx, stream, EventsSubject(session), 0)
	if err != nil {
		return nil, nil, fmt.Errorf("events of %s: %w", session, err)
	}
	defer r.Close()
	for {
		m, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return events, bad, nil
		}
		if err != nil {
			return events, bad, fmt.Errorf("events of %s: %w", session, err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return events, bad, fmt.Errorf("events of %s: %w", session, err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(m.Data(), &obj); err != nil || obj == nil {
			bad = append(bad, fmt.Errorf("%s is not a JSON object: %q: %w", r.Where(m), truncate(m.Data(), 80), cmp.Or(err, errNull)))
			continue
		}
		events = append(events, RecordedEvent{StreamSeq: meta.Sequence.Stream, Data: json.RawMessage(compact(m.Data()))})
	}
}

// errNull is why a JSON null is not an event.
var errNull = errors.New("null")

// truncate shortens b for an error message.
func truncate(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(b[:n:n], "..."...)
}

// WriteEventTable writes events as a table, one per line: the place in
// the stream, the time (UTC, from the "time" field, Unix ns on this
// machine's clock), the kind, the stream and then every other field as
// name=value in name order, so that kinds this program does not know
// still show all they hold.
func WriteEventTable(w io.Writer, events []RecordedEvent) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "stream_seq\ttime\tkind\tstream\tfields")
	for _, ev := range events {
		fmt.Fprintln(tw, eventLine(ev))
	}
	return tw.Flush()
}

// eventLine formats one event; an event that is not a JSON object (which
// ReadEvents never returns) shows as its bytes, quoted.
func eventLine(ev RecordedEvent) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(ev.Data, &obj); err != nil || obj == nil {
		return fmt.Sprintf("%d\t%q", ev.StreamSeq, ev.Data)
	}
	when := "-"
	if t, err := strconv.ParseInt(string(obj["time"]), 10, 64); err == nil {
		when = time.Unix(0, t).UTC().Format("2006-01-02T15:04:05.000000Z")
		delete(obj, "time")
	}
	kind, stream := field(obj, "kind"), field(obj, "stream")
	delete(obj, "kind")
	delete(obj, "stream")
	rest := make([]string, 0, len(obj))
	for k, v := range obj {
		rest = append(rest, printable(k)+"="+compact(v))
	}
	slices.Sort(rest)
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%s", ev.StreamSeq, when, kind, stream, strings.Join(rest, " "))
}

// field returns a string field's value (quoted when it holds control
// characters, which would break the table's line), or the field's JSON
// when it is not a string, or "-" when it is missing.
func field(obj map[string]json.RawMessage, name string) string {
	v, ok := obj[name]
	if !ok {
		return "-"
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return compact(v)
	}
	if s == "" {
		return `""`
	}
	return printable(s)
}

// printable quotes s when it holds control characters, which would break
// the table's line.
func printable(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// compact is v without insignificant space, or v itself when it is not
// valid JSON.
func compact(v json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	return b.String()
}
