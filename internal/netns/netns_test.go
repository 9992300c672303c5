package netns

import (
	"bytes"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(RunIsolated(m)) }

// TestIsolated checks what RunIsolated promises the tests that run under
// it: lo is the only interface, it is up, and nothing beyond it is
// reachable.
func TestIsolated(t *testing.T) {
	only, err := OnlyLoopback()
	if err != nil || !only {
		t.Fatalf("OnlyLoopback = %v, %v; want true", only, err)
	}
	ifc, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if ifc.Flags&net.FlagUp == 0 {
		t.Fatalf("lo is not up: %v", ifc.Flags)
	}
	// Loopback works...
	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.DialUDP("udp4", nil, ln.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	n, _, err := ln.ReadFromUDP(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("loopback echo: %q, %v", buf[:n], err)
	}
	c.Close()
	// ...and a multicast, broadcast or remote address has no route.
	for _, addr := range []string{"239.255.172.215:16571", "255.255.255.255:16571", "192.0.2.1:16571"} {
		u, err := net.ResolveUDPAddr("udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.ListenUDP("udp4", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.WriteToUDP([]byte("x"), u)
		conn.Close()
		if err == nil {
			t.Errorf("sending to %s succeeded; the namespace is not isolated", addr)
		} else if !errors.Is(err, syscall.ENETUNREACH) && !errors.Is(err, syscall.EACCES) {
			t.Logf("sending to %s: %v", addr, err)
		}
	}
	if err := LoopbackUp(); err != nil {
		t.Fatalf("LoopbackUp on an up lo: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	var log bytes.Buffer
	t.Setenv(RequireEnv, "")
	if code := unavailable(errors.New("no privilege"), &log); code != 0 {
		t.Fatalf("without %s: exit %d, want 0 (skip)", RequireEnv, code)
	}
	if !strings.Contains(log.String(), "skipping") || !strings.Contains(log.String(), "no privilege") {
		t.Fatalf("skip message: %q", log.String())
	}
	log.Reset()
	t.Setenv(RequireEnv, "1")
	if code := unavailable(errors.New("no privilege"), &log); code != 1 {
		t.Fatalf("with %s=1: exit %d, want 1", RequireEnv, code)
	}
	if !strings.Contains(log.String(), "failing") {
		t.Fatalf("fail message: %q", log.String())
	}
}

func TestRunIsolatedRunsInside(t *testing.T) {
	ran := false
	code := runIsolated(func() int { ran = true; return 7 }, &bytes.Buffer{})
	if !ran || code != 7 {
		t.Fatalf("inside the namespace runIsolated must run the tests and pass their code: ran=%v code=%d", ran, code)
	}
}
