package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	commands["bench"] = command{summary: "measure a stage's speed on this machine (--stage signal|snn)", run: runBench}
}

// benchStages maps --stage values to their benchmarks; files add theirs in
// init functions.
var benchStages = map[string]func(ctx context.Context, args []string, stdout io.Writer) error{}

func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	names := make([]string, 0, len(benchStages))
	for n := range benchStages {
		names = append(names, n)
	}
	sort.Strings(names)
	stage := ""
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--stage" || a == "-stage":
			if i+1 < len(args) {
				stage = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--stage=") || strings.HasPrefix(a, "-stage="):
			stage = a[strings.Index(a, "=")+1:]
		default:
			rest = append(rest, a)
		}
	}
	if stage == "" {
		if len(rest) > 0 && (rest[0] == "--help" || rest[0] == "-h") {
			fmt.Fprintf(flagOutput, "usage: bci-decode bench --stage %s [flags]\n\nRun 'bci-decode bench --stage NAME --help' for a stage's flags.\n", strings.Join(names, "|"))
			return nil
		}
		return fmt.Errorf("%w: --stage is required (%s)", errUsage, strings.Join(names, ", "))
	}
	run, ok := benchStages[stage]
	if !ok {
		return fmt.Errorf("%w: unknown stage %q (have %s)", errUsage, stage, strings.Join(names, ", "))
	}
	return run(ctx, rest, stdout)
}
