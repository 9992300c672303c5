package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// helpFlag is one flag as a command's --help describes it.
type helpFlag struct {
	name, typ, usage string
}

var flagLine = regexp.MustCompile(`^  -([a-z0-9-]+)(?: (\w+))?$`)

// helpFlags reads a command's flags from its --help text, which the flag
// package writes from the flag set itself.
func helpFlags(t *testing.T, args ...string) []helpFlag {
	t.Helper()
	code, stdout, stderr := cli(t, append(args, "--help")...)
	if code != 0 {
		t.Fatalf("%v --help: exit %d: %s", args, code, stderr)
	}
	var out []helpFlag
	for _, line := range strings.Split(stdout, "\n") {
		if m := flagLine.FindStringSubmatch(line); m != nil {
			out = append(out, helpFlag{name: m[1], typ: m[2]})
		} else if len(out) > 0 && strings.HasPrefix(line, "    \t") {
			out[len(out)-1].usage += strings.TrimSpace(line) + " "
		}
	}
	return out
}

// nonsense lists values of a flag's type that a user might give by mistake.
func nonsense(typ string) []string {
	switch typ {
	case "int":
		return []string{"0", "-1", "99999999999999", "x"}
	case "uint":
		return []string{"-1", "x"}
	case "float":
		return []string{"0", "-1", "1e300", "NaN", "x"}
	case "duration":
		return []string{"0", "-1s", "876000h", "x"}
	case "":
		return []string{"maybe"} // a bool
	default: // strings and lists
		return []string{"", "-1", "0", "x"}
	}
}

// documented reports whether a flag's usage gives the value a meaning, so
// accepting it is not a silent substitution.
func documented(f helpFlag, v string) bool {
	switch {
	case f.typ == "string" || f.typ == "value":
		return true // free text, checked by what reads it
	case f.typ == "uint" && v != "x":
		return true // seeds: every value is one
	case v == "0":
		return strings.Contains(f.usage, "0:") || strings.Contains(f.usage, "0 for") || strings.Contains(f.usage, "(0") || strings.Contains(f.usage, "0 (")
	case strings.HasPrefix(v, "-"):
		return strings.Contains(f.usage, "negative")
	}
	return false
}

// baseArgs make each command's required flags valid, so that the flag under
// test is the only thing that can be wrong.
func baseArgs(t *testing.T, cmd []string) []string {
	dir := t.TempDir()
	m := map[string][]string{
		"run":          {"--model", "m.bcim"},
		"train":        {"--data", "x.bcr", "--out", "m.bcim"},
		"replay":       {"--session", "s", "--data-dir", dir},
		"retrain":      {"--session", "s", "--data-dir", dir},
		"export":       {"--session", "s", "--out", filepath.Join(dir, "x.bcr"), "--data-dir", dir},
		"import":       {"--session", "s", "--file", "x.bcr"},
		"swap":         {"--model", "abc"},
		"sessions add": {"--model", "abc"},
		"simulate":     {"--out", "x.bcr"},
		"record":       {"--source", "x.bin", "--out", "x.bcr"},
	}
	return m[strings.Join(cmd, " ")]
}

// withFlag sets flag name to v in args, replacing a base value.
func withFlag(args []string, name, v string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "--"+name {
			out[i+1] = v
			return out
		}
	}
	return append(out, "--"+name+"="+v)
}

// TestEveryFlagRejectsNonsense walks every command's flags with zero,
// negative, huge and malformed values. Each must end, at once, in a
// one-line usage error and exit status 2, unless the flag's help gives the
// value a meaning; never a hang, a crash, or a value silently replaced.
// Commands run with a context that has already ended, so a value that
// passes the checks stops the command right after them.
func TestEveryFlagRejectsNonsense(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var cmds [][]string
	for name := range commands {
		switch name {
		case "bench":
			cmds = append(cmds, []string{"bench", "--stage", "signal"}, []string{"bench", "--stage", "snn"})
		case "sessions":
			cmds = append(cmds, []string{"sessions"}, []string{"sessions", "add"})
		case "lsl":
			cmds = append(cmds, []string{"lsl", "list"})
		default:
			cmds = append(cmds, []string{name})
		}
	}
	sort.Slice(cmds, func(i, j int) bool { return strings.Join(cmds[i], " ") < strings.Join(cmds[j], " ") })
	for _, cmd := range cmds {
		t.Run(strings.Join(cmd, "_"), func(t *testing.T) {
			base := baseArgs(t, cmd)
			flags := helpFlags(t, cmd...)
			if len(flags) == 0 {
				t.Fatalf("%v --help lists no flags", cmd)
			}
			for _, f := range flags {
				for _, v := range nonsense(f.typ) {
					args := append(append([]string(nil), cmd...), withFlag(base, f.name, v)...)
					if cmd[0] == "control" {
						args = append(args, "info")
					}
					checkNonsense(t, ctx, args, f, v)
				}
			}
		})
	}
}

func checkNonsense(t *testing.T, ctx context.Context, args []string, f helpFlag, v string) {
	t.Helper()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := runMain(ctx, args, &out, &errb)
		done <- result{code, out.String(), errb.String()}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%q: still running after 5 s with an ended context", args)
	}
	last := lastLine(r.stderr)
	switch {
	case r.code == 2:
		if !strings.HasPrefix(last, "bci-decode "+args[0]+": ") {
			t.Errorf("%q: exit 2 without a one-line error: %q", args, r.stderr)
		}
	case r.code == 130 && strings.HasSuffix(last, ": interrupted"):
		if !documented(f, v) {
			t.Errorf("%q: --%s=%q accepted, but its help gives it no meaning: %q", args, f.name, v, f.usage)
		}
	default:
		t.Errorf("%q: exit %d: %s", args, r.code, fmt.Sprint(last))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
