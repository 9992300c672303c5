package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// LeaseBucket is the key-value bucket of session leases: a session is
// decoded only by the process that holds its key.
const LeaseBucket = "bci-leases"

// ErrLeased is returned when another process holds a session's lease.
var ErrLeased = errors.New("session is decoded by another process")

// OpenLeases opens the lease bucket, creating it with the given time to
// live when it does not exist (an existing bucket keeps its own).
func OpenLeases(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, LeaseBucket)
	if err == nil {
		return kv, nil
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: LeaseBucket, TTL: ttl, Replicas: max(replicas, 1), Storage: jetstream.FileStorage})
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, LeaseBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", LeaseBucket, err)
	}
	return kv, nil
}

// Lease is one process's exclusive hold of a session: a key created only
// if absent and renewed by revision, which expires with the bucket's time
// to live unless renewed, so a dead holder frees its sessions.
type Lease struct {
	kv      jetstream.KeyValue
	session string
	owner   string
	ttl     time.Duration

	mu   sync.Mutex
	rev  uint64
	lost chan struct{}
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// AcquireLease takes session's lease for owner; when another process holds
// it the error wraps ErrLeased and names the holder. Keep then holds it.
func AcquireLease(ctx context.Context, kv jetstream.KeyValue, session, owner string, ttl time.Duration) (*Lease, error) {
	rev, err := kv.Create(ctx, session, []byte(owner))
	if errors.Is(err, jetstream.ErrKeyExists) {
		holder := "an unknown process"
		if e, gerr := kv.Get(ctx, session); gerr == nil {
			holder = string(e.Value())
		}
		return nil, fmt.Errorf("%w: %q is held by %s (stop it, or wait %v for its lease to expire if it died)", ErrLeased, session, holder, ttl)
	}
	if err != nil {
		return nil, fmt.Errorf("lease of %q: %w", session, err)
	}
	return &Lease{kv: kv, session: session, owner: owner, ttl: ttl, rev: rev, lost: make(chan struct{})}, nil
}

// LeaseGrace is how long a lease's renewals may keep failing before its
// holder counts it lost: a cluster that lost a node elects new leaders
// within it, and no other process can take the lease meanwhile without the
// quorum this holder cannot reach either.
const LeaseGrace = 10 * time.Second

// Keep renews the lease in the background, four times per time to live,
// until Release. A renewal that fails for want of an answer is tried
// again; the lease is lost, and Lost closed, when another process holds
// it, or when renewals have failed for LeaseGrace.
func (l *Lease) Keep(ctx context.Context) {
	ctx, l.stop = context.WithCancel(ctx)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(l.ttl / 4)
		defer t.Stop()
		renewed := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			held, err := l.renew(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case err == nil && held:
				renewed = time.Now()
				continue
			case err == nil || time.Since(renewed) > LeaseGrace:
				close(l.lost)
				return
			}
		}
	}()
}

// renew extends the lease; held is false when another process holds it.
// An expired lease that nobody took is taken again.
func (l *Lease) renew(ctx context.Context) (held bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, l.ttl/2)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	rev, err := l.kv.Update(ctx, l.session, []byte(l.owner), l.rev)
	if err == nil {
		l.rev = rev
		return true, nil
	}
	e, gerr := l.kv.Get(ctx, l.session)
	switch {
	case errors.Is(gerr, jetstream.ErrKeyNotFound):
		rev, err = l.kv.Create(ctx, l.session, []byte(l.owner))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return false, nil // someone was quicker
		}
	case gerr != nil:
		return false, gerr
	case string(e.Value()) != l.owner:
		return false, nil
	default:
		rev, err = e.Revision(), nil // ours, renewed by an attempt whose answer was lost
	}
	if err != nil {
		return false, err
	}
	l.rev = rev
	return true, nil
}

// Lost is closed when the lease could not be renewed: another process may
// decode the session now, so this one must stop.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Release stops renewing and deletes the lease, so another process can
// take the session at once.
func (l *Lease) Release(ctx context.Context) error {
	if l.stop != nil {
		l.stop()
	}
	l.wg.Wait()
	select {
	case <-l.lost:
		return nil // not ours any more
	default:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.kv.Delete(ctx, l.session, jetstream.LastRevision(l.rev)); err != nil {
		return fmt.Errorf("release lease of %q: %w", l.session, err)
	}
	return nil
}
