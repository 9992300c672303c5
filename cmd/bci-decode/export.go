package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
	"github.com/bci-decode/bci-decode/encoder"
	"github.com/bci-decode/bci-decode/replay"
)

func init() {
	commands["export"] = command{summary: "write a recorded session's bins to a .bcr file", run: runExport}
	commands["import"] = command{summary: "record the bins of a .bcr file as a session in JetStream", run: runImport}
}

func runExport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("export", "export --session S --out FILE.bcr [--data-dir DIR | --nats URL]")
	var bf busFlags
	bf.register(fs, "", "127.0.0.1:0")
	out := fs.String("out", "", "recording file to write (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if bf.session == "" || *out == "" {
		return fmt.Errorf("%w: --session and --out are required", errUsage)
	}
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	src, err := replay.Open(ctx, js, bf.session, replay.Range{})
	if err != nil {
		return err
	}
	defer src.Close()
	info := src.Info()
	w, err := acquire.CreateRecording(*out, acquire.RecordingHeader{Channels: info.Channels, BinWidthNS: info.BinWidth,
		TargetNames: info.Targets, Source: "session " + bf.session})
	if err != nil {
		return err
	}
	var b encoder.Bin
	n := 0
	for {
		err := src.ReadBin(ctx, &b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = w.Write(&acquire.Binned{Seq: b.Seq, Start: b.Start, End: b.End, Trial: b.Trial, Counts: b.Features, Targets: b.Target})
		}
		if err != nil {
			w.Close()
			return err
		}
		n++
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d bins of session %s to %s\n", n, bf.session, *out)
	return nil
}

func runImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("import", "import --file FILE.bcr --session S [--data-dir DIR | --nats URL]")
	var bf busFlags
	bf.register(fs, "", "127.0.0.1:0")
	file := fs.String("file", "", "recording file to import (required)")
	overwrite := fs.Bool("overwrite", false, "replace an earlier recording of the session")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if bf.session == "" || *file == "" {
		return fmt.Errorf("%w: --session and --file are required", errUsage)
	}
	rec, err := acquire.OpenRecording(*file)
	if err != nil {
		return err
	}
	defer rec.Close()
	nc, closeBus, err := bf.connect()
	if err != nil {
		return err
	}
	defer closeBus()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1024))
	if err != nil {
		return err
	}
	h := rec.Header()
	if _, err := bus.PrepareRecording(ctx, js, bf.session, bus.SessionInfo{Channels: h.Channels, BinWidth: h.BinWidthNS, Targets: h.TargetNames}, bf.replicas, *overwrite); err != nil {
		return err
	}
	var raw acquire.Binned
	var msg []byte
	n := 0
	for {
		err := rec.ReadBinned(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		b := encoder.Bin{Seq: raw.Seq, Start: raw.Start, End: raw.End, Width: raw.End - raw.Start, Trial: raw.Trial, Features: raw.Counts, Target: raw.Targets}
		msg = encoder.AppendBinMessage(msg[:0], &b)
		if _, err := js.PublishAsync(bus.BinsSubject(bf.session), append([]byte(nil), msg...)); err != nil {
			return fmt.Errorf("import bin %d: %w", raw.Seq, err)
		}
		n++
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		return fmt.Errorf("import: %d bins still unacknowledged after 30s", js.PublishAsyncPending())
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Fprintf(stdout, "imported %d bins from %s as session %s (stream %s)\n", n, *file, bf.session, bus.StreamName(bf.session))
	return nil
}
