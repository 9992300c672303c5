package lsl

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/internal/shareddata"
)

// The interop tests run the reference liblsl 1.16.2: its example programs
// and the small peers in testdata/peers, compiled against it.

// LibLSLEnv names the directory holding a built liblsl (lib/, bin/,
// include/), as .ci/liblsl makes it.
const LibLSLEnv = "BCI_LIBLSL_DIR"

var (
	libOnce sync.Once
	libDir  string
	libErr  error
)

// requireLSL ends the test: skipped, or failed when BCI_REQUIRE_LSL=1.
func requireLSL(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("BCI_REQUIRE_LSL") == "1" {
		t.Fatalf("%s (BCI_REQUIRE_LSL=1)", msg)
	}
	t.Skipf("%s; skipping (set BCI_REQUIRE_LSL=1 to fail instead)", msg)
}

// liblslDir returns the directory of a built liblsl: $BCI_LIBLSL_DIR, or a
// build (once, cached across runs) with ../shared/peers/build-liblsl.sh.
func liblslDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(LibLSLEnv); dir != "" {
		if !builtLibLSL(dir) {
			requireLSL(t, "%s=%s holds no built liblsl (lib/liblsl.so, bin/SendData); run .ci/liblsl %s", LibLSLEnv, dir, dir)
		}
		return dir
	}
	script := shareddata.Path(t, "peers", "build-liblsl.sh")
	libOnce.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "bci-liblsl-1.16.2")
		if builtLibLSL(dir) {
			libDir = dir
			return
		}
		unlock, err := lockFile(dir + ".lock")
		if err != nil {
			libErr = err
			return
		}
		defer unlock()
		if !builtLibLSL(dir) {
			out, err := exec.Command("bash", script, dir).CombinedOutput()
			if err != nil {
				libErr = fmt.Errorf("building liblsl with %s: %v\n%s", script, err, tail(out, 2000))
				return
			}
		}
		libDir = dir
	})
	if libErr != nil {
		requireLSL(t, "no liblsl: %v", libErr)
	}
	return libDir
}

func builtLibLSL(dir string) bool {
	_, e1 := os.Stat(filepath.Join(dir, "lib", "liblsl.so"))
	_, e2 := os.Stat(filepath.Join(dir, "bin", "SendData"))
	return e1 == nil && e2 == nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// lockFile takes an exclusive lock shared with other test processes.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

var peerMu sync.Mutex

// peerProgram compiles testdata/peers/NAME.cpp against liblsl (cached by
// the hash of the sources and the library) and returns the binary.
func peerProgram(t testing.TB, name string) string {
	t.Helper()
	lib := liblslDir(t)
	peerMu.Lock()
	defer peerMu.Unlock()
	h := sha256.New()
	for _, f := range []string{name + ".cpp", "common.hpp"} { // the peer and its shared header
		b, err := os.ReadFile(filepath.Join("testdata", "peers", f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	h.Write([]byte(lib))
	if st, err := os.Stat(filepath.Join(lib, "lib", "liblsl.so")); err == nil {
		fmt.Fprint(h, st.ModTime().UnixNano(), st.Size())
	}
	bin := filepath.Join(lib, "peers", name+"-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if _, err := exec.LookPath("g++"); err != nil {
		requireLSL(t, "g++ is needed to build the liblsl peer %s", name)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	src, _ := filepath.Abs(filepath.Join("testdata", "peers", name+".cpp"))
	out, err := exec.Command("g++", "-O2", "-std=c++17", "-I"+filepath.Join(lib, "include"), "-o", bin+".tmp", src,
		"-L"+filepath.Join(lib, "lib"), "-llsl", "-Wl,-rpath,"+filepath.Join(lib, "lib")).CombinedOutput()
	if err != nil {
		t.Fatalf("compiling %s: %v\n%s", name, err, out)
	}
	if err := os.Rename(bin+".tmp", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// example returns a liblsl example program.
func example(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(liblslDir(t), "bin", name)
}

// proc is a running liblsl program whose output lines are collected.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
	err   error
	mu    sync.Mutex
	out   []string
	usage syscall.Rusage
}

// start runs a liblsl program with the loopback configuration; it is
// killed when the test ends.
func start(t testing.TB, path string, args ...string) *proc {
	t.Helper()
	lib := liblslDir(t)
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(lib, "lib"), "LSLAPICFG="+shareddata.Path(t, "peers", "lsl_loopback.cfg"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 1<<16), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.out = append(p.out, line)
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default:
			}
		}
		p.err = cmd.Wait()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.usage = *ru
		}
		if p.err != nil && stderr.Len() > 0 {
			p.err = fmt.Errorf("%w: %s", p.err, tail([]byte(stderr.String()), 2000))
		}
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill ends the program and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// expect waits for an output line starting with prefix.
func (p *proc) expect(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	return p.expectFunc(t, prefix, func(l string) bool { return strings.HasPrefix(l, prefix) }, timeout)
}

// expectContains waits for an output line containing s.
func (p *proc) expectContains(t testing.TB, s string, timeout time.Duration) string {
	t.Helper()
	return p.expectFunc(t, s, func(l string) bool { return strings.Contains(l, s) }, timeout)
}

func (p *proc) expectFunc(t testing.TB, prefix string, match func(string) bool, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-p.lines:
			if match(line) {
				return line
			}
		case <-p.done:
			// drain what is left
			for {
				select {
				case line := <-p.lines:
					if match(line) {
						return line
					}
				default:
					t.Fatalf("%s ended (%v) before printing %q; output:\n%s", filepath.Base(p.cmd.Path), p.err, prefix, p.output(40))
				}
			}
		case <-deadline:
			t.Fatalf("%s did not print %q within %v; output:\n%s", filepath.Base(p.cmd.Path), prefix, timeout, p.output(40))
		}
	}
}

// wait waits for the program to exit.
func (p *proc) wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %v; output:\n%s", filepath.Base(p.cmd.Path), timeout, p.output(40))
		return nil
	}
}

func (p *proc) output(last int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.out
	if len(lines) > last {
		lines = lines[len(lines)-last:]
	}
	return strings.Join(lines, "\n")
}

func (p *proc) allOutput() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.out...)
}

// testConfig is the loopback-only configuration of every test.
func testConfig(t testing.TB) *Config {
	t.Helper()
	cfg := LoopbackConfig()
	return cfg
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
