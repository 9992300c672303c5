package bus

import (
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/bci-decode/bci-decode/decoder"
)

// intentMsg builds the NATS message of an intent: the JSON body and the
// headers that let a subscriber measure latency without parsing it. Every
// intent the process publishes, decoded or from the watchdog, live or
// shadow, goes through one. It reuses its buffers, so building a message
// does not allocate in steady state.
type intentMsg struct {
	msg  nats.Msg
	body []byte
}

func newIntentMsg(subject string) *intentMsg {
	return &intentMsg{msg: nats.Msg{Subject: subject, Header: nats.Header{}}}
}

// statusHeader holds the status header values, made once.
var statusHeader = map[decoder.Status][]string{
	decoder.StatusOK: {string(decoder.StatusOK)}, decoder.StatusStale: {string(decoder.StatusStale)}, decoder.StatusHalted: {string(decoder.StatusHalted)},
}

// set fills the message from in and returns it.
func (m *intentMsg) set(in *decoder.Intent) *nats.Msg {
	m.body = in.AppendJSON(m.body[:0])
	m.msg.Data = m.body
	m.msg.Header[HeaderSeq] = []string{strconv.FormatUint(in.Seq, 10)}
	m.msg.Header[HeaderSampleTime] = []string{strconv.FormatInt(in.SampleTime, 10)}
	m.msg.Header[HeaderStatus] = statusHeader[in.Status]
	return &m.msg
}
