package lsl

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format is a channel format; the values are liblsl's lsl_channel_format_t.
type Format int

// The channel formats of protocol 1.10.
const (
	FormatUndefined Format = 0
	Float32         Format = 1
	Double64        Format = 2
	String          Format = 3
	Int32           Format = 4
	Int16           Format = 5
	Int8            Format = 6
	Int64           Format = 7
)

var formatNames = [...]string{"undefined", "float32", "double64", "string", "int32", "int16", "int8", "int64"}

// String returns the name used in the stream-info XML.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// Size is the number of bytes of one value on the wire (0 for strings,
// whose values have a length prefix).
func (f Format) Size() int {
	switch f {
	case Float32, Int32:
		return 4
	case Double64, Int64:
		return 8
	case Int16:
		return 2
	case Int8:
		return 1
	}
	return 0
}

// valid reports whether f is a format a stream can have.
func (f Format) valid() bool { return f >= Float32 && f <= Int64 }

// ParseFormat reads a format name as it appears in the XML.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if i > 0 && n == s {
			return Format(i), nil
		}
	}
	return FormatUndefined, fmt.Errorf("unknown channel format %q", s)
}

// Channel describes one channel in the conventional desc/channels layout.
type Channel struct {
	Label, Unit, Type string
}

// StreamInfo is the description of a stream: what its outlet announces
// and what Resolve returns. The first six fields are the caller's; an
// outlet fills in the rest (UID, session, host, ports, creation time), and
// a resolver fills in the address it heard the stream from.
type StreamInfo struct {
	Name         string
	Type         string
	ChannelCount int
	// NominalRate is the sampling rate in Hz; 0 means irregular (markers).
	NominalRate float64
	Format      Format
	// SourceID identifies the data source (device serial number, ...), so
	// an inlet can find the stream again after its outlet restarts.
	SourceID string

	Version   int     // protocol version times 100 (110)
	CreatedAt float64 // LSL local clock of the outlet when it was created
	UID       string  // unique per outlet instance
	SessionID string
	Hostname  string

	V4Address     string
	V4DataPort    int
	V4ServicePort int
	V6Address     string
	V6DataPort    int
	V6ServicePort int

	// Desc is the <desc> element: free-form metadata such as channel
	// labels. A shortinfo (what discovery carries) has an empty one; an
	// inlet fetches the full one from the outlet.
	Desc *Element
}

// Validate checks the fields an outlet needs.
func (s *StreamInfo) Validate() error {
	switch {
	case s.Name == "":
		return errors.New("lsl: a stream needs a non-empty name")
	case s.ChannelCount < 1 || s.ChannelCount > maxChannels:
		return fmt.Errorf("lsl: stream %q: channel count %d outside 1..%d", s.Name, s.ChannelCount, maxChannels)
	case s.NominalRate < 0 || math.IsNaN(s.NominalRate) || math.IsInf(s.NominalRate, 0):
		return fmt.Errorf("lsl: stream %q: nominal rate %v must be a finite number >= 0", s.Name, s.NominalRate)
	case !s.Format.valid():
		return fmt.Errorf("lsl: stream %q: invalid channel format %v", s.Name, s.Format)
	}
	return nil
}

// maxChannels bounds the channel count a received stream info may claim,
// so a lying peer cannot make an inlet allocate without limit.
const maxChannels = 1 << 20

// SetChannels writes channel metadata into Desc in the conventional
// desc/channels/channel{label,unit,type} layout, replacing any there.
func (s *StreamInfo) SetChannels(chs []Channel) {
	if s.Desc == nil {
		s.Desc = &Element{Name: "desc"}
	}
	kept := s.Desc.Children[:0]
	for _, c := range s.Desc.Children {
		if c.Name != "channels" {
			kept = append(kept, c)
		}
	}
	s.Desc.Children = kept
	list := s.Desc.Append("channels")
	for _, c := range chs {
		list.Append("channel").AppendValue("label", c.Label).AppendValue("unit", c.Unit).AppendValue("type", c.Type)
	}
}

// Channels reads the desc/channels/channel entries (nil when the
// description has none).
func (s StreamInfo) Channels() []Channel {
	list := s.Desc.Child("channels")
	if list == nil {
		return nil
	}
	var out []Channel
	for _, c := range list.Children {
		if c.Name == "channel" {
			out = append(out, Channel{Label: c.ChildText("label"), Unit: c.ChildText("unit"), Type: c.ChildText("type")})
		}
	}
	return out
}

// Clone returns a deep copy.
func (s *StreamInfo) Clone() StreamInfo {
	c := *s
	c.Desc = s.Desc.Clone()
	return c
}

// formatDouble writes a float64 as liblsl's to_string(double) does
// (16 significant digits, always with a decimal point).
func formatDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return fmt.Sprintf("%#.16g", v)
}

// document builds the info element; withDesc selects the fullinfo (the
// shortinfo carries an empty <desc />).
func (s *StreamInfo) document(withDesc bool) *Element {
	info := &Element{Name: "info"}
	add := func(name, val string) { info.AppendValue(name, val) }
	add("name", s.Name)
	add("type", s.Type)
	add("channel_count", strconv.Itoa(s.ChannelCount))
	add("channel_format", s.Format.String())
	add("source_id", s.SourceID)
	add("nominal_srate", formatDouble(s.NominalRate))
	add("version", formatDouble(float64(s.Version)/100))
	add("created_at", formatDouble(s.CreatedAt))
	add("uid", s.UID)
	add("session_id", s.SessionID)
	add("hostname", s.Hostname)
	add("v4address", s.V4Address)
	add("v4data_port", strconv.Itoa(s.V4DataPort))
	add("v4service_port", strconv.Itoa(s.V4ServicePort))
	add("v6address", s.V6Address)
	add("v6data_port", strconv.Itoa(s.V6DataPort))
	add("v6service_port", strconv.Itoa(s.V6ServicePort))
	desc := &Element{Name: "desc"}
	if withDesc && s.Desc != nil {
		desc = s.Desc.Clone()
		desc.Name = "desc"
	}
	info.Children = append(info.Children, desc)
	return info
}

// ShortInfoXML is the message discovery replies carry: the info without
// its description, byte-identical to what liblsl sends.
func (s *StreamInfo) ShortInfoXML() []byte {
	var b bytes.Buffer
	writeXMLDocument(&b, s.document(false))
	return b.Bytes()
}

// FullInfoXML is the complete info, description included, as an outlet
// sends it for LSL:fullinfo.
func (s *StreamInfo) FullInfoXML() []byte {
	var b bytes.Buffer
	writeXMLDocument(&b, s.document(true))
	return b.Bytes()
}

// ErrBadInfo marks a stream-info document that is malformed or lies.
var ErrBadInfo = errors.New("lsl: bad stream info")

// ParseStreamInfo reads a shortinfo or fullinfo XML document with the
// checks liblsl applies (non-empty name and uid, known format, counts and
// ports in range).
func ParseStreamInfo(data []byte) (StreamInfo, error) {
	root, err := parseXMLDocument(data)
	if err != nil {
		return StreamInfo{}, fmt.Errorf("%w: %w", ErrBadInfo, err)
	}
	return infoFromElement(root)
}

func infoFromElement(root *Element) (StreamInfo, error) {
	var s StreamInfo
	fail := func(format string, args ...any) (StreamInfo, error) {
		return StreamInfo{}, fmt.Errorf("%w: "+format, append([]any{ErrBadInfo}, args...)...)
	}
	if root.Name != "info" {
		return fail("root element is <%s>, want <info>", root.Name)
	}
	s.Name = root.ChildText("name")
	if s.Name == "" {
		return fail("empty <name>")
	}
	s.Type = root.ChildText("type")
	var err error
	if s.ChannelCount, err = boundedInt(root, "channel_count", 0, maxChannels); err != nil {
		return fail("%v", err)
	}
	if _, err := boundedInt(root, "nominal_srate", 0, 0); err != nil {
		return fail("%v", err)
	}
	if s.NominalRate, err = cppStod(root.ChildText("nominal_srate")); err != nil || s.NominalRate < 0 || math.IsNaN(s.NominalRate) || math.IsInf(s.NominalRate, 0) {
		return fail("<nominal_srate> %q is not a finite rate >= 0", root.ChildText("nominal_srate"))
	}
	if s.Format, err = ParseFormat(root.ChildText("channel_format")); err != nil {
		return fail("%v", err)
	}
	s.SourceID = root.ChildText("source_id")
	v, err := cppStod(root.ChildText("version"))
	if err != nil || !(v*100 >= 1) || v*100 > math.MaxInt32 {
		return fail("<version> %q is invalid", root.ChildText("version"))
	}
	s.Version = int(v * 100)
	if s.CreatedAt, err = cppStod(root.ChildText("created_at")); err != nil {
		return fail("<created_at> %q is not a number", root.ChildText("created_at"))
	}
	s.UID = root.ChildText("uid")
	if s.UID == "" {
		return fail("empty <uid>")
	}
	s.SessionID = root.ChildText("session_id")
	s.Hostname = root.ChildText("hostname")
	s.V4Address = root.ChildText("v4address")
	s.V6Address = root.ChildText("v6address")
	for _, p := range []struct {
		name string
		dst  *int
	}{{"v4data_port", &s.V4DataPort}, {"v4service_port", &s.V4ServicePort}, {"v6data_port", &s.V6DataPort}, {"v6service_port", &s.V6ServicePort}} {
		if *p.dst, err = boundedInt(root, p.name, 0, 65535); err != nil {
			return fail("%v", err)
		}
	}
	if d := root.Child("desc"); d != nil {
		s.Desc = d
	} else {
		s.Desc = &Element{Name: "desc"}
	}
	return s, nil
}

// boundedInt reads a child's integer like liblsl's get_bounded_child_val
// (std::stoi: leading integer, trailing text ignored).
func boundedInt(root *Element, name string, lo, hi int) (int, error) {
	text := root.ChildText(name)
	n, err := cppStoi(text)
	if err != nil {
		return 0, fmt.Errorf("<%s> %q: %v", name, text, err)
	}
	if n < lo || (hi != 0 && n > hi) {
		return 0, fmt.Errorf("<%s> %d outside %d..%d", name, n, lo, hi)
	}
	return n, nil
}

// cppStoi parses like std::stoi: optional leading white space, sign,
// digits; the rest is ignored; no digits or overflow is an error.
func cppStoi(s string) (int, error) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	start := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0, errors.New("not an integer")
	}
	n, err := strconv.ParseInt(s[:end], 10, 32)
	if err != nil {
		return 0, errors.New("integer out of range")
	}
	return int(n), nil
}

// cppStod parses like std::stod: the longest leading decimal number
// (inf and nan included); none is an error.
func cppStod(s string) (float64, error) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	lower := strings.ToLower(s[end:])
	for _, word := range []string{"infinity", "inf", "nan"} {
		if strings.HasPrefix(lower, word) {
			return strconv.ParseFloat(s[:end+len(word)], 64)
		}
	}
	digits := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
		digits++
	}
	if end < len(s) && s[end] == '.' {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
			digits++
		}
	}
	if digits == 0 {
		return 0, errors.New("not a number")
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		e := end + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		if e < len(s) && s[e] >= '0' && s[e] <= '9' {
			for e < len(s) && s[e] >= '0' && s[e] <= '9' {
				e++
			}
			end = e
		}
	}
	v, err := strconv.ParseFloat(s[:end], 64)
	if err != nil {
		// Out of range: strtod gives ±HUGE_VAL and stod throws.
		return 0, errors.New("number out of range")
	}
	return v, nil
}

// newUID returns a random UUID (version 4) in the form liblsl uses.
func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
