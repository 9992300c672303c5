package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog/log"

	"github.com/bci-decode/bci-decode/bus"
)

func init() {
	commands["events"] = command{summary: "list a recorded session's events: LSL markers and clock readings", run: runEvents}
}

func runEvents(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("events", "events --session S [--json] [--data-dir DIR | --nats URL]")
	var bf busFlags
	bf.register(fs, "", "127.0.0.1:0")
	bf.Existing = true
	jsonOut := fs.Bool("json", false, "print each event as recorded, one JSON object per line")
	if err := parse(ctx, fs, args, 0, bf.check, required(map[string]*string{"--session": &bf.session})); err != nil {
		return err
	}
	js, closeBus, err := bf.jetStream()
	if err != nil {
		return err
	}
	defer closeBus()
	events, bad, err := bus.ReadEvents(ctx, js, bf.session)
	for _, b := range bad {
		log.Warn().Err(b).Msg("event skipped")
	}
	if err != nil {
		return err
	}
	if len(events) == 0 {
		fmt.Fprintf(stdout, "session %s recorded no events (%d messages skipped)\n", bf.session, len(bad))
		return nil
	}
	if !*jsonOut {
		return bus.WriteEventTable(stdout, events)
	}
	for _, ev := range events {
		if _, err := fmt.Fprintf(stdout, "%s\n", ev.Data); err != nil {
			return err
		}
	}
	return nil
}
