package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/rs/zerolog"

	"github.com/bci-decode/bci-decode/pipeline"
)

// Control verbs, served on bci.<session>.control.<verb>.
const (
	VerbSwap   = "swap"
	VerbPause  = "pause"
	VerbResume = "resume"
	VerbInfo   = "info"
)

// Controller is the live decoder as the control service drives it.
type Controller interface {
	// Swap loads the model with the given content hash and makes it decode
	// from the next bin on. On error the current model keeps running.
	Swap(ctx context.Context, hash string) error
	// SetPaused pauses (intents are published halted, with zero values) or
	// resumes decoding output.
	SetPaused(paused bool)
	// Info describes the live decoder.
	Info() ControlInfo
}

// ControlInfo is the reply to info, pause and resume.
type ControlInfo struct {
	Session string          `json:"session"`
	Decoder string          `json:"decoder"`
	Model   string          `json:"model"`
	Paused  bool            `json:"paused"`
	Stats   pipeline.Stats  `json:"stats"`
	Record  *RecordingStats `json:"recording,omitempty"`
}

// SwapRequest is the body of a swap request.
type SwapRequest struct {
	// Model is the content hash of a model in the bci-models bucket.
	Model string `json:"model"`
}

// ParseSwapRequest decodes and checks the body of a swap request.
func ParseSwapRequest(p []byte) (SwapRequest, error) {
	var req SwapRequest
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return SwapRequest{}, fmt.Errorf("swap wants {\"model\":\"<sha256>\"}, got %.100q", p)
	}
	if len(req.Model) == 0 || len(req.Model) > 128 {
		return SwapRequest{}, fmt.Errorf("swap: model hash of %d characters", len(req.Model))
	}
	for _, c := range req.Model {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return SwapRequest{}, fmt.Errorf("swap: model %.100q is not a hex content hash", req.Model)
		}
	}
	return req, nil
}

// Error codes of control replies.
const (
	codeBadRequest = "400"
	codeFailed     = "409"
)

// StartControl serves the control verbs of session until the returned
// service is stopped or nc closes.
func StartControl(nc *nats.Conn, session string, c Controller, log zerolog.Logger) (micro.Service, error) {
	if err := ValidateSession(session); err != nil {
		return nil, err
	}
	svc, err := micro.AddService(nc, micro.Config{
		Name:        "bci-decode-control",
		Version:     "1.0.0",
		Description: "control of bci-decode session " + session,
		Metadata:    map[string]string{"session": session},
		// Each session has one decoder; every instance answers its own.
		QueueGroupDisabled: true,
	})
	if err != nil {
		return nil, fmt.Errorf("control service: %w", err)
	}
	g := svc.AddGroup(controlGroup(session))
	handlers := map[string]micro.HandlerFunc{
		VerbSwap: func(r micro.Request) {
			req, err := ParseSwapRequest(r.Data())
			if err != nil {
				_ = r.Error(codeBadRequest, err.Error(), nil)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := c.Swap(ctx, req.Model); err != nil {
				log.Warn().Err(err).Str("model", req.Model).Msg("swap refused; current model keeps running")
				_ = r.Error(codeFailed, err.Error(), nil)
				return
			}
			log.Info().Str("model", req.Model).Msg("model swap scheduled at the next bin")
			_ = r.RespondJSON(c.Info())
		},
		VerbPause: func(r micro.Request) {
			c.SetPaused(true)
			log.Warn().Msg("decoding paused: publishing halted intents")
			_ = r.RespondJSON(c.Info())
		},
		VerbResume: func(r micro.Request) {
			c.SetPaused(false)
			log.Info().Msg("decoding resumed")
			_ = r.RespondJSON(c.Info())
		},
		VerbInfo: func(r micro.Request) { _ = r.RespondJSON(c.Info()) },
	}
	for verb, h := range handlers {
		if err := g.AddEndpoint(verb, h); err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("control service: %s: %w", verb, err)
		}
	}
	return svc, nil
}

// ErrControl is wrapped by errors that a control service replied with.
var ErrControl = errors.New("control request refused")

// Control sends one control request to session's decoder and decodes the
// reply into resp.
func Control(ctx context.Context, nc *nats.Conn, session, verb string, req, resp any) error {
	var body []byte
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return fmt.Errorf("control %s: %w", verb, err)
		}
	}
	m, err := nc.RequestWithContext(ctx, ControlSubject(session, verb), body)
	if errors.Is(err, nats.ErrNoResponders) {
		return fmt.Errorf("control %s: no decoder is running session %q", verb, session)
	}
	if err != nil {
		return fmt.Errorf("control %s: %w", verb, err)
	}
	if desc := m.Header.Get(micro.ErrorHeader); desc != "" {
		return fmt.Errorf("%w: %s: %s", ErrControl, verb, desc)
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(m.Data, resp); err != nil {
		return fmt.Errorf("control %s: bad reply: %w", verb, err)
	}
	return nil
}
