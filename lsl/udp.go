package lsl

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unsafe"
)

// UDP messages of protocol 1.10.
//
// Discovery query (to the discovery port, multicast or unicast, or to an
// outlet's service port):
//
//	LSL:shortinfo\r\n<predicate>\r\n<return port> <query id>\r\n
//
// answered, when the predicate matches, by "<query id>\r\n<shortinfo XML>"
// sent to the querier's address at the return port.
//
// Time probe (to an outlet's service port only):
//
//	LSL:timedata\r\n<wave id> <t0>\r\n
//
// answered to the sender by " <wave id> <t0> <t1> <t2>", t1 and t2 being
// the outlet's clock when the probe arrived and when the reply left.

// ErrBadMessage marks a malformed UDP message.
var ErrBadMessage = errors.New("lsl: malformed message")

type udpRequest struct {
	method     string // "shortinfo" or "timedata"
	query      string
	returnPort uint16
	queryID    string
	waveID     string
	t0         float64
}

// parseUDPRequest parses a query or a time probe.
func parseUDPRequest(b []byte) (udpRequest, error) {
	var r udpRequest
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	method := strings.TrimSpace(string(line))
	switch method {
	case "LSL:shortinfo":
		r.method = "shortinfo"
		q, rest2, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return r, fmt.Errorf("%w: shortinfo query without a return address line", ErrBadMessage)
		}
		r.query = strings.TrimSpace(string(q))
		fields := strings.Fields(string(rest2))
		if len(fields) < 2 {
			return r, fmt.Errorf("%w: shortinfo query: want \"<return port> <query id>\", got %q", ErrBadMessage, truncate(string(rest2), 60))
		}
		port, err := strconv.ParseUint(fields[0], 10, 16)
		if err != nil || port == 0 {
			return r, fmt.Errorf("%w: shortinfo query: bad return port %q", ErrBadMessage, truncate(fields[0], 20))
		}
		r.returnPort = uint16(port)
		r.queryID = fields[1]
	case "LSL:timedata":
		r.method = "timedata"
		fields := strings.Fields(string(rest))
		if len(fields) < 2 {
			return r, fmt.Errorf("%w: time probe: want \"<wave id> <t0>\", got %q", ErrBadMessage, truncate(string(rest), 60))
		}
		wave, err := strconv.ParseInt(fields[0], 10, 32)
		if err != nil {
			return r, fmt.Errorf("%w: time probe: bad wave id %q", ErrBadMessage, truncate(fields[0], 20))
		}
		r.waveID = strconv.FormatInt(wave, 10)
		if r.t0, err = strconv.ParseFloat(fields[1], 64); err != nil {
			return r, fmt.Errorf("%w: time probe: bad t0 %q", ErrBadMessage, truncate(fields[1], 30))
		}
	default:
		return r, fmt.Errorf("%w: unknown method %q", ErrBadMessage, truncate(method, 40))
	}
	return r, nil
}

func addrPort(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// appendQuery builds a discovery query message.
func appendQuery(b []byte, query string, returnPort int, queryID string) []byte {
	return fmt.Appendf(b, "LSL:shortinfo\r\n%s\r\n%d %s\r\n", query, returnPort, queryID)
}

// parseQueryReply splits a discovery reply into its query id and the
// stream info it carries.
func parseQueryReply(b []byte) (string, StreamInfo, error) {
	line, rest, ok := bytes.Cut(b, []byte("\n"))
	if !ok {
		return "", StreamInfo{}, fmt.Errorf("%w: reply without a query id line", ErrBadMessage)
	}
	id := string(bytes.TrimRight(line, " \t\r"))
	info, err := ParseStreamInfo(rest)
	if err != nil {
		return id, StreamInfo{}, err
	}
	return id, info, nil
}

// parseTimeReply parses " <wave id> <t0> <t1> <t2>".
func parseTimeReply(b []byte) (wave int64, t0, t1, t2 float64, err error) {
	f := strings.Fields(string(b))
	if len(f) < 4 {
		return 0, 0, 0, 0, fmt.Errorf("%w: time reply %q", ErrBadMessage, truncate(string(b), 60))
	}
	if wave, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("%w: time reply wave id %q", ErrBadMessage, truncate(f[0], 20))
	}
	var v [3]float64
	for i := range v {
		if v[i], err = strconv.ParseFloat(f[i+1], 64); err != nil {
			return 0, 0, 0, 0, fmt.Errorf("%w: time reply value %q", ErrBadMessage, truncate(f[i+1], 30))
		}
	}
	return wave, v[0], v[1], v[2], nil
}

// parseTimeReplyBytes is parseTimeReply without allocating (the inlet's
// periodic refresh runs it).
func parseTimeReplyBytes(b []byte) (wave int64, t0, t1, t2 float64, err error) {
	var fields [4][]byte
	n := 0
	for i := 0; i < len(b) && n < 4; {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
			i++
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
			j++
		}
		if j > i {
			fields[n] = b[i:j]
			n++
		}
		i = j
	}
	if n < 4 {
		return 0, 0, 0, 0, ErrBadMessage
	}
	w, ok := atoiBytes(fields[0])
	if !ok {
		return 0, 0, 0, 0, ErrBadMessage
	}
	var v [3]float64
	for i := range v {
		// strconv.ParseFloat does not keep a string built from a byte
		// slice this way, so the conversion does not allocate.
		if v[i], err = strconv.ParseFloat(unsafeString(fields[i+1]), 64); err != nil {
			return 0, 0, 0, 0, ErrBadMessage
		}
	}
	return w, v[0], v[1], v[2], nil
}

func atoiBytes(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
