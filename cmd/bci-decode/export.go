package main

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/bus"
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
	bf.Existing = true
	out := fs.String("out", "", "recording file to write (required)")
	if err := parse(ctx, fs, args, 0, bf.check, required(map[string]*string{"--session": &bf.session, "--out": out})); err != nil {
		return err
	}
	js, closeBus, err := bf.jetStream()
	if err != nil {
		return err
	}
	defer closeBus()
	src, err := replay.Open(ctx, js, bf.session, replay.Range{})
	if err != nil {
		return err
	}
	defer src.Close()
	n, err := acquire.WriteRecording(ctx, *out, src, "session "+bf.session)
	if err != nil {
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
	if err := parse(ctx, fs, args, 0, bf.check, required(map[string]*string{"--session": &bf.session, "--file": file})); err != nil {
		return err
	}
	// Read the file through before anything is replaced: a damaged file
	// must not cost the recording it was to overwrite.
	if _, err := acquire.CheckRecording(ctx, *file); err != nil {
		return err
	}
	rec, err := acquire.OpenRecording(*file)
	if err != nil {
		return err
	}
	defer rec.Close()
	js, closeBus, err := bf.jetStream(jetstream.WithPublishAsyncMaxPending(1024))
	if err != nil {
		return err
	}
	defer closeBus()
	n, err := bus.Import(ctx, js, bf.session, rec, bf.Replicas, *overwrite)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d bins from %s as session %s (stream %s)\n", n, *file, bf.session, bus.StreamName(bf.session))
	return nil
}
