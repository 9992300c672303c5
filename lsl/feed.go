package lsl

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The TCP stream feed of protocol 1.10. The client (inlet) sends
//
//	LSL:streamfeed/110 <uid>\r\n
//	Native-Byte-Order: 1234\r\n ... (header lines) \r\n\r\n
//
// and the server (outlet) answers
//
//	LSL/110 200 OK\r\n UID: ...\r\n Byte-Order: ...\r\n
//	Suppress-Subnormals: ...\r\n Data-Protocol-Version: 110\r\n\r\n
//
// followed by two test-pattern samples and then the samples. The same port
// answers LSL:fullinfo (the full XML, then close) and LSL:shortinfo with a
// query line (the short XML if the query matches, then close).

// maxHeaderLine is liblsl's buffer for one header line; maxHeaderLines
// bounds how many a peer may send.
const (
	maxHeaderLine  = 16384
	maxHeaderLines = 256
)

// ErrHandshake marks a stream-feed request or response that is malformed
// or refuses the connection.
var ErrHandshake = errors.New("lsl: stream-feed handshake")

// errNotFound is the outlet saying it no longer serves the requested uid
// (404): the stream moved, so the inlet should resolve it again.
var errNotFound = errors.New("lsl: the outlet does not serve the requested stream (404)")

// readLine reads one CRLF- or LF-terminated line (without the terminator)
// of at most maxHeaderLine bytes.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxHeaderLine {
			return "", fmt.Errorf("%w: header line longer than %d bytes", ErrHandshake, maxHeaderLine)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return "", io.EOF
			}
			return "", fmt.Errorf("%w: connection closed inside a header line: %w", ErrHandshake, io.ErrUnexpectedEOF)
		}
		return "", err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line), nil
}

// header is one "Key: value ; comment" line, key lower-cased, as liblsl
// reads it.
type header struct{ key, value string }

// readHeaders reads header lines up to the empty line.
func readHeaders(r *bufio.Reader) ([]header, error) {
	var hs []header
	for n := 0; ; n++ {
		if n > maxHeaderLines {
			return nil, fmt.Errorf("%w: more than %d header lines", ErrHandshake, maxHeaderLines)
		}
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: connection closed before the end of the headers: %w", ErrHandshake, io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		if line == "" {
			return hs, nil
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			continue // liblsl ignores lines without a key-value pair
		}
		if semi := strings.IndexByte(line, ';'); semi >= 0 {
			line = line[:semi]
		}
		if colon >= len(line) {
			continue
		}
		line = strings.ToLower(line)
		hs = append(hs, header{strings.TrimSpace(line[:colon]), strings.TrimSpace(line[colon+1:])})
	}
}

func headerInt(h header) (int, error) {
	n, err := cppStoi(h.value)
	if err != nil {
		return 0, fmt.Errorf("%w: header %s: %q: %v", ErrHandshake, h.key, h.value, err)
	}
	return n, nil
}

// feedRequest is what an inlet asked for.
type feedRequest struct {
	method    string // "streamfeed", "fullinfo" or "shortinfo"
	version   int    // requested protocol version (100 for the unversioned form)
	uid       string // the stream the client resolved ("" for any)
	query     string // shortinfo query
	byteOrder int
	valueSize int // -1 when not given
	ieee754   bool
	subnorm   bool
	maxBuffer int // samples
	maxChunk  int
	protocol  int
}

// readFeedRequest reads a request from a connection to the data port.
func readFeedRequest(r *bufio.Reader) (feedRequest, error) {
	q := feedRequest{byteOrder: 1234, valueSize: -1, ieee754: true, subnorm: true}
	line, err := readLine(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return q, fmt.Errorf("%w: connection closed before a request: %w", ErrHandshake, io.ErrUnexpectedEOF)
		}
		return q, err
	}
	method := strings.TrimSpace(line)
	switch {
	case method == "LSL:fullinfo":
		q.method = "fullinfo"
		return q, nil
	case method == "LSL:shortinfo":
		q.method = "shortinfo"
		query, err := readLine(r)
		if err != nil {
			return q, fmt.Errorf("%w: shortinfo request without a query line: %w", ErrHandshake, err)
		}
		q.query = strings.TrimSpace(query)
		return q, nil
	case method == "LSL:streamfeed":
		q.method = "streamfeed"
		q.version = 100
		return q, nil
	case strings.HasPrefix(method, "LSL:streamfeed/"):
		q.method = "streamfeed"
		parts := strings.Fields(method)
		v, err := cppStoi(parts[0][len("LSL:streamfeed/"):])
		if err != nil {
			return q, fmt.Errorf("%w: request line %q: bad protocol version: %v", ErrHandshake, method, err)
		}
		q.version = v
		if len(parts) > 1 {
			q.uid = parts[1]
		}
		q.maxBuffer = 0
		q.protocol = v
	default:
		return q, fmt.Errorf("%w: unknown request %q", ErrHandshake, truncate(method, 80))
	}
	if q.version < 110 {
		return q, nil
	}
	hs, err := readHeaders(r)
	if err != nil {
		return q, err
	}
	for _, h := range hs {
		var err error
		switch h.key {
		case "native-byte-order":
			q.byteOrder, err = headerInt(h)
		case "has-ieee754-floats":
			q.ieee754 = h.value == "1"
		case "supports-subnormals":
			q.subnorm = h.value == "1"
		case "value-size":
			q.valueSize, err = headerInt(h)
		case "max-buffer-length":
			q.maxBuffer, err = headerInt(h)
		case "max-chunk-length":
			q.maxChunk, err = headerInt(h)
		case "protocol-version", "data-protocol-version":
			q.protocol, err = headerInt(h)
		}
		if err != nil {
			return q, err
		}
	}
	return q, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// feedParams are the transmission parameters both sides agree on.
type feedParams struct {
	uid       string
	byteOrder int // of the values that follow: 1234 or 4321
	suppress  bool
	protocol  int
}

// appendFeedResponse appends the outlet's 200 response.
func appendFeedResponse(b []byte, p feedParams) []byte {
	b = fmt.Appendf(b, "LSL/110 200 OK\r\nUID: %s\r\nByte-Order: %d\r\nSuppress-Subnormals: %d\r\nData-Protocol-Version: %d\r\n\r\n",
		p.uid, p.byteOrder, btoi(p.suppress), p.protocol)
	return b
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// inletRequest is what an inlet sends to open a feed.
type inletRequest struct {
	uid                           string
	format                        Format
	maxBuffer, maxChunk           int
	hostname, sourceID, sessionID string
}

func appendFeedRequest(b []byte, q inletRequest) []byte {
	return fmt.Appendf(b, "LSL:streamfeed/110 %s\r\n"+
		"Native-Byte-Order: 1234\r\n"+
		"Endian-Performance: 0\r\n"+
		"Has-IEEE754-Floats: 1\r\n"+
		"Supports-Subnormals: 1\r\n"+
		"Value-Size: %d\r\n"+
		"Data-Protocol-Version: 110\r\n"+
		"Max-Buffer-Length: %d\r\n"+
		"Max-Chunk-Length: %d\r\n"+
		"Hostname: %s\r\n"+
		"Source-Id: %s\r\n"+
		"Session-Id: %s\r\n\r\n",
		q.uid, q.format.Size(), q.maxBuffer, q.maxChunk, oneLine(q.hostname), oneLine(q.sourceID), oneLine(q.sessionID))
}

// oneLine keeps a header value from breaking the header framing.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// readFeedResponse reads the outlet's answer to a feed request for the
// stream uid and returns the agreed parameters.
func readFeedResponse(r *bufio.Reader, uid string, valueSize int) (feedParams, error) {
	p := feedParams{byteOrder: 1234, protocol: 100}
	line, err := readLine(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return p, fmt.Errorf("%w: the outlet closed the connection without a response: %w", ErrHandshake, io.ErrUnexpectedEOF)
		}
		return p, err
	}
	parts := strings.Fields(line)
	if len(parts) < 3 || !strings.HasPrefix(parts[0], "LSL/") {
		return p, fmt.Errorf("%w: malformed status line %q", ErrHandshake, truncate(line, 80))
	}
	v, err := cppStoi(parts[0][4:])
	if err != nil {
		return p, fmt.Errorf("%w: status line %q: bad version", ErrHandshake, truncate(line, 80))
	}
	if v/100 > 1 {
		return p, fmt.Errorf("%w: the outlet speaks protocol %d, newer than 1.10", ErrHandshake, v)
	}
	code, err := cppStoi(parts[1])
	if err != nil {
		return p, fmt.Errorf("%w: status line %q: bad status code", ErrHandshake, truncate(line, 80))
	}
	switch {
	case code == 404:
		return p, errNotFound
	case code >= 400:
		return p, fmt.Errorf("%w: the outlet refused the feed: %q", ErrHandshake, truncate(line, 200))
	case code >= 300:
		return p, fmt.Errorf("%w: the outlet asked for a redirect (%d), which LSL does not define", ErrHandshake, code)
	}
	hs, err := readHeaders(r)
	if err != nil {
		return p, err
	}
	for _, h := range hs {
		switch h.key {
		case "byte-order":
			bo, err := headerInt(h)
			if err != nil {
				return p, err
			}
			if bo == 0 {
				bo = 1234
			}
			if valueSize > 1 && bo != 1234 && bo != 4321 {
				return p, fmt.Errorf("%w: unsupported byte order %d", ErrHandshake, bo)
			}
			p.byteOrder = bo
		case "suppress-subnormals":
			p.suppress = h.value == "1"
		case "uid":
			// Header values are lower-cased, like liblsl's; UIDs are
			// lower-case hex.
			if h.value != strings.ToLower(uid) {
				return p, fmt.Errorf("%w: the outlet serves uid %q, not the resolved %q", errNotFound, h.value, uid)
			}
			p.uid = uid
		case "data-protocol-version":
			n, err := headerInt(h)
			if err != nil {
				return p, err
			}
			p.protocol = n
		}
	}
	if p.protocol != 110 {
		return p, fmt.Errorf("%w: the outlet chose data protocol %d; only 110 is implemented", ErrHandshake, p.protocol)
	}
	return p, nil
}

// checkTestPatterns reads the two handshake samples and compares them with
// the patterns for the stream's format (offsets 4 and 2).
func checkTestPatterns(sr *sampleReader) error {
	for i, offset := range []int{4, 2} {
		stamp, err := sr.readStamp()
		if err != nil {
			return fmt.Errorf("%w: test-pattern sample %d: %w", ErrHandshake, i+1, err)
		}
		if stamp != testPatternStamp {
			return fmt.Errorf("%w: test-pattern sample %d has timestamp %v, want %v", ErrHandshake, i+1, stamp, testPatternStamp)
		}
		if sr.format == String {
			got := make([]string, sr.nch)
			if err := sr.readStrings(got); err != nil {
				return fmt.Errorf("%w: test-pattern sample %d: %w", ErrHandshake, i+1, err)
			}
			for k, want := range testPatternStrings(sr.nch) {
				if got[k] != want {
					return fmt.Errorf("%w: test-pattern sample %d, channel %d is %q, want %q (incompatible formats)", ErrHandshake, i+1, k, truncate(got[k], 40), want)
				}
			}
			continue
		}
		want := testPatternNumeric(sr.format, sr.nch, offset)
		got := make([]byte, len(want))
		if err := sr.readNumeric(got); err != nil {
			return fmt.Errorf("%w: test-pattern sample %d: %w", ErrHandshake, i+1, err)
		}
		if !bytes.Equal(got, want) {
			k := 0
			for k < len(got) && got[k] == want[k] {
				k++
			}
			ch := k / sr.size
			return fmt.Errorf("%w: test-pattern sample %d, channel %d is %s, want %s (incompatible formats or byte order)", ErrHandshake, i+1, ch,
				valueString(got[ch*sr.size:(ch+1)*sr.size], sr.format), valueString(want[ch*sr.size:(ch+1)*sr.size], sr.format))
		}
	}
	sr.last = 0
	sr.count = 0
	return nil
}

// valueString renders one little-endian value for error messages.
func valueString(b []byte, f Format) string {
	if f == Float32 || f == Double64 {
		var v [1]float64
		decodeValues(v[:], b, f)
		return strconv.FormatFloat(v[0], 'g', -1, 64)
	}
	var v [1]int64
	decodeValues(v[:], b, f)
	return strconv.FormatInt(v[0], 10)
}
