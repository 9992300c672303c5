// Command bci-decode is the one binary of the bci-decode project: it
// simulates, trains, decodes, replays, evaluates and benchmarks real-time
// brain-computer-interface decoders. Run "bci-decode help" for the list of
// subcommands and "bci-decode CMD --help" for each one's flags.
//
// The command only parses flags and calls the packages that do the work.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/log"
)

// command is one subcommand. run receives the arguments after the
// subcommand's name and writes results to stdout; logs go to stderr.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

// commands is the subcommand table; each entry lives in its own file.
var commands = map[string]command{}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runMain(ctx, args, stdout, stderr)
}

// runMain runs the command args name until it ends or ctx does.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "bci-decode: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	setupLogging(stderr)
	helpOutput = stdout
	err := cmd.run(ctx, args[1:], stdout)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "bci-decode %s: interrupted\n", args[0])
		return 130
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "bci-decode %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "bci-decode %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: bci-decode <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'bci-decode <command> --help' for a command's flags.")
}

// maxSession bounds the durations a command accepts: a month.
const maxSession = 30 * 24 * time.Hour

// errUsage marks errors in how a command was called (exit status 2).
var errUsage = errors.New("usage")

// usageError wraps err as a usage error.
func usageError(err error) error { return fmt.Errorf("%w: %w", errUsage, err) }

// helpOutput receives --help texts, on stdout so `help | less` works;
// flag errors come back as usage errors, printed on stderr.
var helpOutput io.Writer = os.Stdout

// newFlags returns a flag set that reports errors instead of exiting, so
// every command returns its error to realMain.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fs.SetOutput(helpOutput)
		fmt.Fprintf(helpOutput, "usage: bci-decode %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, which must leave exactly n positional arguments, and
// runs the checks: every flag's range is checked there, before the command
// does anything, so a bad value is a usage error and never a hang, a crash
// or a silent substitution. parse returns ctx's error when ctx has ended.
func parse(ctx context.Context, fs *flag.FlagSet, args []string, n int, checks ...func() error) error {
	// The flag package prints the usage on any error; only --help wants
	// it: a bad flag is the one-line error on stderr, nothing on stdout.
	help := fs.Usage
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			help()
			return err
		}
		return fmt.Errorf("%w: %v (see --help)", errUsage, err)
	}
	if fs.NArg() > n {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(n))
	}
	if fs.NArg() < n {
		return fmt.Errorf("%w: missing argument", errUsage)
	}
	for _, check := range checks {
		if err := check(); err != nil {
			if errors.Is(err, errUsage) {
				return err
			}
			return usageError(err)
		}
	}
	return ctx.Err()
}

// writeJSONLine writes v as one line of JSON, the last line of a command's
// output when --json is given.
func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeResult prints a command's result for a person, or as one JSON
// object on the last line with --json.
func writeResult(w io.Writer, jsonOut bool, v interface{ WriteText(io.Writer) }) error {
	if jsonOut {
		return writeJSONLine(w, v)
	}
	v.WriteText(w)
	return nil
}

// setupLogging sends structured logs to w: human-readable on a terminal,
// JSON lines otherwise.
func setupLogging(w io.Writer) {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	// Many goroutines log at once (a session's outputs, the dashboard's
	// server), and w need not be safe for that (a buffer, in tests).
	log.Logger = zerolog.New(zerolog.SyncWriter(w)).With().Timestamp().Logger()
}

// required returns a check that every named flag was given.
func required(flags map[string]*string) func() error {
	return func() error {
		var missing []string
		for name, v := range flags {
			if *v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		sort.Strings(missing)
		return fmt.Errorf("%s required", strings.Join(missing, " and ")+map[bool]string{true: " is", false: " are"}[len(missing) == 1])
	}
}
