package lsl

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"
)

// Listed is one visible stream, as 'bci-decode lsl list' shows it.
type Listed struct {
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Channels int     `json:"channels"`
	Rate     float64 `json:"rate"`
	Format   string  `json:"format"`
	SourceID string  `json:"source_id"`
	Host     string  `json:"host"`
	UID      string  `json:"uid"`
}

// List returns the streams of cfg's session that answer within wait,
// sorted by name, host and source id (liblsl's GetAllStreams).
func List(ctx context.Context, cfg *Config, wait time.Duration) ([]Listed, error) {
	infos, err := ResolveAll(ctx, cfg, wait)
	if err != nil {
		return nil, fmt.Errorf("lsl list: %w", err)
	}
	out := make([]Listed, len(infos))
	for i, s := range infos {
		out[i] = Listed{Name: s.Name, Type: s.Type, Channels: s.ChannelCount, Rate: s.NominalRate, Format: s.Format.String(),
			SourceID: s.SourceID, Host: s.Hostname, UID: s.UID}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.SourceID < b.SourceID
	})
	return out, nil
}

// WriteList writes streams as a table, one line per stream.
func WriteList(w io.Writer, streams []Listed) error {
	if len(streams) == 0 {
		_, err := fmt.Fprintln(w, "no LSL streams visible")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tCHANNELS\tRATE\tFORMAT\tSOURCE ID\tHOST")
	for _, s := range streams {
		rate := "irregular"
		if s.Rate > 0 {
			rate = strconv.FormatFloat(s.Rate, 'g', -1, 64) + " Hz"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.Type, s.Channels, rate, s.Format, s.SourceID, s.Host)
	}
	return tw.Flush()
}
