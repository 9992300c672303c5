package lsl

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeOutlet is a lying outlet: it answers time probes honestly, then
// serves whatever bytes the test scripts after the feed request.
type fakeOutlet struct {
	info StreamInfo
	ln   net.Listener
	udp  *net.UDPConn
	wg   sync.WaitGroup
}

func newFakeOutlet(t *testing.T, f Format, nch int, rate float64, script func(uid string) []byte) *fakeOutlet {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	fo := &fakeOutlet{ln: ln, udp: udp}
	fo.info = StreamInfo{Name: "liar", Type: "Bad", ChannelCount: nch, NominalRate: rate, Format: f, SourceID: "liar", Version: 110,
		UID: newUID(), SessionID: "default", V4Address: "127.0.0.1", V4DataPort: ln.Addr().(*net.TCPAddr).Port,
		V4ServicePort: udp.LocalAddr().(*net.UDPAddr).Port, CreatedAt: 1}
	full := fo.info.FullInfoXML()
	fo.wg.Add(2)
	go func() {
		defer fo.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := udp.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req, err := parseUDPRequest(buf[:n])
			if err != nil || req.method != "timedata" {
				continue
			}
			now := formatG(LocalClock())
			_, _ = udp.WriteToUDPAddrPort([]byte(" "+req.waveID+" "+formatG(req.t0)+" "+now+" "+now), from)
		}
	}()
	go func() {
		defer fo.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fo.wg.Add(1)
			go func() {
				defer fo.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := readFeedRequest(br)
				if err != nil {
					return
				}
				if req.method == "fullinfo" {
					_, _ = c.Write(full)
					return
				}
				_, _ = c.Write(script(fo.info.UID))
				time.Sleep(200 * time.Millisecond)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); udp.Close(); fo.wg.Wait() })
	return fo
}

func okHeader(uid string) []byte {
	return appendFeedResponse(nil, feedParams{uid: uid, byteOrder: 1234, protocol: 110})
}

func patterns(f Format, nch int) []byte {
	var b []byte
	for _, off := range []int{4, 2} {
		b = appendStamp(b, false, testPatternStamp)
		if f == String {
			b = appendStrings(b, testPatternStrings(nch))
		} else {
			b = append(b, testPatternNumeric(f, nch, off)...)
		}
	}
	return b
}

// TestBadFeeds: each lie of an outlet is a clear error naming what was
// wrong and where, counted, and never a panic.
func TestBadFeeds(t *testing.T) {
	cfg := testConfig(t)
	good := func(uid string) []byte { return append(okHeader(uid), patterns(Float32, 2)...) }
	sample := func(b []byte, stamp float64, vals ...float32) []byte {
		b = appendStamp(b, false, stamp)
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	cases := []struct {
		name    string
		format  Format
		script  func(uid string) []byte
		open    bool   // the error comes from OpenInlet (handshake) rather than a pull
		wantErr string // in the error text
	}{
		{"wrong test pattern", Float32, func(uid string) []byte {
			p := patterns(Float32, 2)
			p[len(p)-1] ^= 0x40
			return append(okHeader(uid), p...)
		}, true, "test-pattern sample 2, channel 1 is"},
		{"wrong uid", Float32, func(string) []byte { return append(okHeader("not-it"), patterns(Float32, 2)...) }, true, "serves uid \"not-it\""},
		{"refusal", Float32, func(string) []byte { return []byte("LSL/110 505 Version not supported\r\n") }, true, "refused the feed"},
		{"garbage status", Float32, func(string) []byte { return []byte("HTTP/1.1 200 OK\r\n\r\n") }, true, "malformed status line"},
		{"data protocol 100", Float32, func(uid string) []byte {
			return []byte("LSL/110 200 OK\r\nUID: " + uid + "\r\nData-Protocol-Version: 100\r\n\r\n")
		}, true, "chose data protocol 100"},
		{"truncated header", Float32, func(uid string) []byte { return []byte("LSL/110 200 OK\r\nUID: " + uid) }, true, "connection closed inside a header line"},
		{"bad tag", Float32, func(uid string) []byte {
			b := sample(good(uid), 5, 1, 2)
			return append(b, 7)
		}, false, "sample 1: invalid timestamp tag 7"},
		{"truncated sample", Float32, func(uid string) []byte {
			b := sample(good(uid), 5, 1, 2)
			return append(b, tagTransmitted, 1, 2, 3)
		}, false, "sample 1: stream ended in the timestamp"},
		{"string too long", String, func(uid string) []byte {
			b := append(okHeader(uid), patterns(String, 2)...)
			b = appendStamp(b, false, 5)
			b = append(b, 4)
			return binary.LittleEndian.AppendUint32(b, 1<<30)
		}, false, "channel 0: string of 1073741824 bytes exceeds the 1048576-byte limit"},
		{"bad length size", String, func(uid string) []byte {
			b := append(okHeader(uid), patterns(String, 2)...)
			b = appendStamp(b, false, 5)
			return append(b, 1, 1, 'a', 3, 0, 0, 0)
		}, false, "channel 1: invalid string length size 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t, 20*time.Second)
			fo := newFakeOutlet(t, c.format, 2, 100, c.script)
			in, err := OpenInlet(ctx, cfg, fo.info, InletOptions{ConnectTimeout: 3 * time.Second})
			if c.open {
				if err == nil {
					in.Close(ctx)
					t.Fatal("OpenInlet accepted the lying outlet")
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %q does not say %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close(ctx)
			var perr error
			for perr == nil {
				if c.format == String {
					_, perr = in.PullStrings(ctx, make([]string, 2), nil, nil)
				} else {
					_, perr = in.PullFloat32(ctx, make([]float32, 2), nil)
				}
			}
			if !errors.Is(perr, ErrBadStream) || !strings.Contains(perr.Error(), c.wantErr) {
				t.Fatalf("pull error %q, want ErrBadStream saying %q", perr, c.wantErr)
			}
			if st := in.Stats(); st.BadMessages != 1 || st.LastError == nil {
				t.Fatalf("stats: %+v", st)
			}
		})
	}
}

// TestBadStreamHarmsNoOther: a lying outlet and a good one read at the
// same time; the good inlet receives everything.
func TestBadStreamHarmsNoOther(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t, 30*time.Second)
	fo := newFakeOutlet(t, Float32, 2, 100, func(uid string) []byte {
		b := append(okHeader(uid), patterns(Float32, 2)...)
		return append(b, 9, 9, 9)
	})
	bad, err := OpenInlet(ctx, cfg, fo.info, InletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close(ctx)
	o, in := goPair(t, "bci-good-neighbour", Float32, 2, 100, OutletOptions{MaxBuffered: time.Minute}, InletOptions{MaxBufferedSamples: 1000})
	want := pushSignal(t, o, 0, 500, 10, true)
	receiveSignal(t, in, 500, want)
	if _, err := bad.PullFloat32(ctx, make([]float32, 2), nil); !errors.Is(err, ErrBadStream) {
		t.Fatalf("the bad inlet: %v", err)
	}
}

// TestBadDiscoveryReplies: malformed replies with the right query id are
// reported and skipped; the real stream is still found.
func TestBadDiscoveryReplies(t *testing.T) {
	cfg := testConfig(t)
	ctx := testContext(t, 30*time.Second)
	goSignalOutlet(t, cfg, "bci-real", Float32, 1, 10, OutletOptions{})
	// a responder in the port range that answers every query with junk
	junk, err := listenInRange(cfg, func(port int) (*net.UDPConn, error) {
		return net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, from, err := junk.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			req, err := parseUDPRequest(buf[:n])
			if err != nil {
				continue
			}
			for _, body := range []string{"<info><name>x</name>", "<?xml version=\"1.0\"?>\n<info><name>x</name><channel_count>-3</channel_count></info>", "no xml at all"} {
				_, _ = junk.WriteToUDPAddrPort([]byte(req.queryID+"\r\n"+body), netip.AddrPortFrom(from.Addr(), req.returnPort))
			}
		}
	}()
	var mu sync.Mutex
	var bad []error
	infos, err := Resolve(ctx, cfg, "", ResolveOptions{Timeout: 2 * time.Second, OnBadReply: func(from netip.AddrPort, err error) {
		mu.Lock()
		bad = append(bad, err)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != "bci-real" {
		t.Fatalf("resolved %+v", infos)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) < 3 {
		t.Fatalf("bad replies reported: %v", bad)
	}
	var text []string
	for _, e := range bad {
		if !errors.Is(e, ErrBadInfo) {
			t.Fatalf("bad reply error %v is not ErrBadInfo", e)
		}
		text = append(text, e.Error())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"<info> is not closed", "<channel_count> -3 outside", "text outside the root element"} {
		if !strings.Contains(all, want) {
			t.Fatalf("bad reply errors do not say %q:\n%s", want, all)
		}
	}
}

// TestOutletSurvivesBadRequests: garbage on the data port and on the UDP
// ports is counted and ignored.
func TestOutletSurvivesBadRequests(t *testing.T) {
	cfg := testConfig(t)
	o := goSignalOutlet(t, cfg, "bci-robust", Int16, 2, 100, OutletOptions{HandshakeTimeout: time.Second})
	info := o.Info()
	for _, req := range []string{"GET / HTTP/1.1\r\n\r\n", "LSL:streamfeed/110 " + info.UID + "\r\nMax-Buffer-Length: lots\r\n\r\n", strings.Repeat("A", 20000) + "\r\n"} {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(info.V4DataPort)))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte(req))
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 100)
		if n, err := c.Read(buf); err == nil {
			t.Fatalf("the outlet answered %q to a bad request", buf[:n])
		}
		c.Close()
	}
	u, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", itoa(info.V4ServicePort)))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for _, m := range []string{"LSL:timedata\r\nnope\r\n", "LSL:shortinfo\r\nname=\r\n1 2\r\n", "LSL:shortinfo\r\n\r\nport id\r\n", "junk"} {
		_, _ = u.Write([]byte(m))
	}
	deadline := time.Now().Add(5 * time.Second)
	for o.Stats().BadRequests < 7 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := o.Stats(); st.BadRequests != 7 {
		t.Fatalf("bad requests counted: %d, want 7", st.BadRequests)
	}
	// and it still serves
	ctx := testContext(t, 20*time.Second)
	infos, err := Resolve(ctx, cfg, "name='bci-robust'", ResolveOptions{Minimum: 1})
	if err != nil {
		t.Fatal(err)
	}
	in, err := OpenInlet(ctx, cfg, infos[0], InletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in.Close(context.Background())
}

func itoa(n int) string { return netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(n)).String()[8:] }
