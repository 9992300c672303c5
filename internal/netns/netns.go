// Package netns keeps tests that speak network discovery protocols (LSL
// multicasts and broadcasts its queries) from sending a single packet
// beyond loopback: a package's TestMain calls RunIsolated, which runs the
// tests only inside a network namespace whose one interface is lo.
//
// When the process is not isolated yet, RunIsolated re-executes the test
// binary with the same arguments in a fresh network namespace (as root, or
// through a user namespace where the kernel allows it), brings lo up there
// and returns the child's exit code. When no namespace can be made, the
// tests are skipped with a message, or fail when BCI_REQUIRE_LSL=1.
package netns

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv marks the re-executed test binary, so a namespace whose
// interface list cannot be read never leads to an endless chain of
// re-executions.
const childEnv = "BCI_NETNS_CHILD"

// RequireEnv names the variable that turns "cannot isolate, skipping" into
// a failure (CI sets it).
const RequireEnv = "BCI_REQUIRE_LSL"

// RunIsolated runs m inside a loopback-only network namespace and returns
// the exit code for os.Exit.
func RunIsolated(m *testing.M) int {
	return runIsolated(m.Run, os.Stderr)
}

func runIsolated(run func() int, log io.Writer) int {
	only, err := OnlyLoopback()
	if err == nil && only {
		if err := LoopbackUp(); err != nil {
			fmt.Fprintf(log, "netns: lo is down in this namespace and cannot be brought up: %v\n", err)
			return 1
		}
		return run()
	}
	if os.Getenv(childEnv) == "1" {
		// We were re-executed into a new namespace and still see other
		// interfaces (or cannot list them): never run, never recurse.
		fmt.Fprintf(log, "netns: re-executed test binary is not in a loopback-only namespace (%v)\n", describe(only, err))
		return 1
	}
	code, err := reexec()
	if err == nil {
		return code
	}
	return unavailable(err, log)
}

// unavailable decides what a package whose tests cannot be isolated does:
// skip (exit 0) with a message, or fail under BCI_REQUIRE_LSL=1.
func unavailable(err error, log io.Writer) int {
	msg := fmt.Sprintf("netns: cannot run these tests in a loopback-only network namespace (%v); "+
		"they send discovery packets and must not run on the host network", err)
	if os.Getenv(RequireEnv) == "1" {
		fmt.Fprintf(log, "%s, and %s=1: failing\n", msg, RequireEnv)
		return 1
	}
	fmt.Fprintf(log, "%s: skipping them (set %s=1 to fail instead)\n", msg, RequireEnv)
	return 0
}

func describe(only bool, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("only loopback: %v", only)
}

// OnlyLoopback reports whether the calling process's network namespace has
// no interface but lo. It asks the kernel over netlink (net.Interfaces),
// which answers for the caller's namespace; /sys/class/net would describe
// the namespace that mounted sysfs, which after an unshare is still the
// host's.
func OnlyLoopback() (bool, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return false, fmt.Errorf("listing network interfaces: %w", err)
	}
	if len(ifs) == 0 {
		return false, errors.New("no network interface at all (not even lo)")
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback == 0 || ifc.Name != "lo" {
			return false, nil
		}
	}
	return true, nil
}

// LoopbackUp brings lo up (a new namespace starts with it down); it does
// nothing when lo is already up.
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for interface flags: %w", err)
	}
	defer unix.Close(fd)
	req, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, req); err != nil {
		return fmt.Errorf("reading lo flags: %w", err)
	}
	flags := req.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	req.SetUint16(flags | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, req); err != nil {
		return fmt.Errorf("setting lo up: %w", err)
	}
	return nil
}

// reexec starts the same binary with the same arguments in a new network
// namespace and waits for it. It tries a plain network namespace first
// (needs CAP_SYS_ADMIN) and then one inside a new user namespace (works for
// unprivileged users where the kernel allows user namespaces).
func reexec() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding the test binary: %w", err)
	}
	attrs := []*syscall.SysProcAttr{
		{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL},
		{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
			Pdeathsig:   syscall.SIGKILL,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		},
	}
	var errs []error
	for _, attr := range attrs {
		cmd := exec.Command(exe, os.Args[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.SysProcAttr = attr
		if err := cmd.Start(); err != nil {
			errs = append(errs, err)
			continue
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
				return 128 + int(st.Signal()), nil
			}
			return exit.ExitCode(), nil
		}
		if err != nil {
			return 0, fmt.Errorf("waiting for the isolated test binary: %w", err)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("creating a network namespace: %w", errors.Join(errs...))
}
