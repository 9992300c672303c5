package placement

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/bus"
)

// Row is one declared session as a listing shows it: where it is placed,
// and how it runs according to its latest status message.
type Row struct {
	Placement
	RateHz  float64           `json:"rate_hz"`
	Latency bus.LatencyReport `json:"latency_us"`
}

// Listing is the state of a cluster's declared sessions and workers.
type Listing struct {
	Sessions []Row        `json:"sessions"`
	Workers  []WorkerLoad `json:"workers"`
}

// List listens to every session's status for wait, then lists the
// declared sessions with their owners, rates and latencies.
func List(ctx context.Context, nc *nats.Conn, wait time.Duration) (*Listing, error) {
	var mu sync.Mutex
	status := map[string]bus.Status{}
	sub, err := nc.Subscribe(bus.AllStatusSubject, func(m *nats.Msg) {
		var s bus.Status
		if json.Unmarshal(m.Data, &s) == nil {
			mu.Lock()
			status[s.Session] = s
			mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	b, err := OpenBuckets(ctx, js, 0, 1)
	if err != nil {
		return nil, err
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	list, loads, err := b.List(ctx)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	out := &Listing{Workers: loads}
	for _, p := range list {
		st := status[p.Spec.Session]
		out.Sessions = append(out.Sessions, Row{Placement: p, RateHz: st.RateHz, Latency: st.Latency})
	}
	sort.Slice(out.Sessions, func(i, j int) bool { return out.Sessions[i].Spec.Session < out.Sessions[j].Spec.Session })
	return out, nil
}

// WriteTable prints the listing for a person.
func (l *Listing) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tPROCESS\tRATE (bins/s)\tLATENCY p50/p99 (µs)\tMODEL")
	for _, r := range l.Sessions {
		owner := r.Owner
		if owner == "" {
			owner = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.0f/%.0f\t%.12s\n", r.Spec.Session, owner, r.RateHz, r.Latency.P50, r.Latency.P99, r.Spec.Model)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d live workers:", len(l.Workers))
	for _, wl := range l.Workers {
		fmt.Fprintf(w, " %s (%d)", wl.ID, wl.Sessions)
	}
	_, err := fmt.Fprintln(w)
	return err
}
