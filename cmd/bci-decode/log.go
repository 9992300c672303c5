package main

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/log"
)

// setupLogging sends structured logs to w: human-readable on a terminal,
// JSON lines otherwise.
func setupLogging(w io.Writer) {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	log.Logger = zerolog.New(w).With().Timestamp().Logger()
}
