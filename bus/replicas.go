package bus

import (
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// errNoPeers is JetStream's code for a stream it cannot place: fewer live
// nodes than replicas asked for.
const errNoPeers jetstream.ErrorCode = 10005

// Replicas chooses how many copies of a stream or bucket to ask for: the
// number wanted, until JetStream has refused it for lack of live nodes for
// longer than patience (a cluster whose node died at start-up); then one
// fewer, down to one, each time with a warning. A session keeps recording
// on the nodes it has rather than not at all.
type Replicas struct {
	want, now int
	patience  time.Duration
	log       zerolog.Logger
	since     time.Time
}

// NewReplicas starts at want copies.
func NewReplicas(want int, patience time.Duration, log zerolog.Logger) *Replicas {
	want = max(want, 1)
	return &Replicas{want: want, now: want, patience: patience, log: log}
}

// N is the number of copies to ask for now.
func (r *Replicas) N() int { return r.now }

// Observe takes the outcome of asking for N copies.
func (r *Replicas) Observe(err error) {
	var api *jetstream.APIError
	if err == nil || !errors.As(err, &api) || api.ErrorCode != errNoPeers || r.now == 1 {
		return
	}
	if r.since.IsZero() {
		r.since = time.Now()
	}
	if time.Since(r.since) < r.patience {
		return
	}
	r.now--
	r.since = time.Time{}
	r.log.Warn().Int("wanted", r.want).Int("replicas", r.now).Msg("not enough live cluster nodes for the replicas asked: keeping fewer copies")
}
