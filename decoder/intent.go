package decoder

import (
	"math"
	"strconv"
)

// Kind says what an intent's Values mean.
type Kind string

// Intent kinds.
const (
	KindVelocity Kind = "velocity"
	KindPosition Kind = "position"
	KindClass    Kind = "class"
)

// Status says whether an intent may be acted on.
type Status string

// Intent statuses. A controller acts on StatusOK only; StatusStale means the
// input stopped briefly and StatusHalted carries zero velocity.
const (
	StatusOK     Status = "ok"
	StatusStale  Status = "stale"
	StatusHalted Status = "halted"
)

// Intent is one decoded output, published to prosthetic controllers.
type Intent struct {
	Seq uint64 `json:"seq"`
	// SampleTime is the end of the bin the intent was decoded from (Unix ns).
	SampleTime int64 `json:"sample_time"`
	// DecodeTime is when decoding finished (Unix ns).
	DecodeTime int64     `json:"decode_time"`
	Kind       Kind      `json:"kind"`
	Values     []float32 `json:"values"`
	Class      int       `json:"class"`
	Confidence float32   `json:"confidence"`
	// Model is the content hash of the model that produced the intent.
	Model  string `json:"model"`
	Status Status `json:"status"`
	// Process identifies the decoder process that produced the intent when
	// sessions are placed across several (empty otherwise).
	Process string `json:"process,omitempty"`
	// Takeover marks intents of a process that took the session over from
	// another one that stopped.
	Takeover bool `json:"takeover,omitempty"`
}

// CopyFrom makes in a deep copy of src, reusing in's Values.
func (in *Intent) CopyFrom(src *Intent) {
	vals := append(in.Values[:0], src.Values...)
	*in = *src
	in.Values = vals
}

// AppendJSON appends the intent as one JSON object to dst, with the field
// names of encoding/json's output. It allocates only when dst must grow, so
// the publisher can reuse one buffer. Non-finite values, which the output
// stage never produces, are written as 0 to keep the JSON valid.
func (in *Intent) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, in.Seq, 10)
	dst = append(dst, `,"sample_time":`...)
	dst = strconv.AppendInt(dst, in.SampleTime, 10)
	dst = append(dst, `,"decode_time":`...)
	dst = strconv.AppendInt(dst, in.DecodeTime, 10)
	dst = append(dst, `,"kind":`...)
	dst = strconv.AppendQuote(dst, string(in.Kind))
	dst = append(dst, `,"values":[`...)
	for i, v := range in.Values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendFloat(dst, v)
	}
	dst = append(dst, `],"class":`...)
	dst = strconv.AppendInt(dst, int64(in.Class), 10)
	dst = append(dst, `,"confidence":`...)
	dst = appendFloat(dst, in.Confidence)
	dst = append(dst, `,"model":`...)
	dst = strconv.AppendQuote(dst, in.Model)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendQuote(dst, string(in.Status))
	if in.Process != "" {
		dst = append(dst, `,"process":`...)
		dst = strconv.AppendQuote(dst, in.Process)
	}
	if in.Takeover {
		dst = append(dst, `,"takeover":true`...)
	}
	return append(dst, '}')
}

func appendFloat(dst []byte, v float32) []byte {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return append(dst, '0')
	}
	return strconv.AppendFloat(dst, float64(v), 'g', -1, 32)
}
