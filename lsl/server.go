package lsl

import (
	"bufio"
	"errors"
	"math"
	"net"
	"time"
)

// acceptLoop accepts data-port connections until the listener closes.
func (o *Outlet) acceptLoop(l net.Listener) {
	defer o.wg.Done()
	for {
		conn, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			select {
			case <-o.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		if !o.track(conn) {
			conn.Close()
			return
		}
		o.wg.Add(1)
		go o.serveConn(conn)
	}
}

// track registers a connection so a hard Close can cut it; it refuses
// once the outlet is closing.
func (o *Outlet) track(c net.Conn) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing {
		return false
	}
	o.conns[c] = struct{}{}
	return true
}

func (o *Outlet) untrack(c net.Conn) {
	o.mu.Lock()
	delete(o.conns, c)
	o.mu.Unlock()
	c.Close()
}

// serveConn answers one data-port request: the full or short info, or a
// sample feed.
func (o *Outlet) serveConn(conn net.Conn) {
	defer o.wg.Done()
	defer o.untrack(conn)
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	_ = conn.SetReadDeadline(time.Now().Add(o.opts.HandshakeTimeout))
	br := bufio.NewReaderSize(conn, 4096)
	req, err := readFeedRequest(br)
	if err != nil {
		o.countBad()
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Now().Add(o.opts.HandshakeTimeout))
	switch req.method {
	case "fullinfo":
		_, _ = conn.Write(o.fullInfo)
		return
	case "shortinfo":
		if o.matches(req.query) {
			_, _ = conn.Write(o.shortInfo)
		}
		return
	}
	// A stream feed. liblsl answers these refusals with a status line.
	switch {
	case req.version/100 > 1:
		_, _ = conn.Write([]byte("LSL/110 505 Version not supported"))
		return
	case req.version < 110:
		// Protocol 1.00 (portable archive) is not implemented: refusing
		// is all a 1.00 client understands.
		o.countBad()
		return
	case req.uid != "" && req.uid != o.info.UID:
		_, _ = conn.Write([]byte("LSL/110 404 Not found"))
		return
	case o.info.Format != String && req.valueSize >= 0 && req.valueSize != o.info.Format.Size(),
		!req.ieee754, min(req.protocol, 110) < 110:
		// liblsl would fall back to data protocol 1.00 here.
		_, _ = conn.Write([]byte("LSL/110 505 Data protocol 1.00 (needed for this client's value size or float format) is not supported"))
		return
	}
	suppress := (o.info.Format == Float32 || o.info.Format == Double64) && !req.subnorm
	hdr := appendFeedResponse(nil, feedParams{uid: o.info.UID, byteOrder: 1234, suppress: suppress, protocol: 110})
	for _, offset := range []int{4, 2} {
		hdr = appendStamp(hdr, false, testPatternStamp)
		if o.info.Format == String {
			hdr = appendStrings(hdr, testPatternStrings(o.info.ChannelCount))
		} else {
			hdr = append(hdr, testPatternNumeric(o.info.Format, o.info.ChannelCount, offset)...)
		}
	}
	// Register before the header goes out, so no sample pushed after the
	// client has seen the test patterns can be missed.
	var c *consumer
	if req.maxBuffer > 0 {
		c = o.buf.addConsumer(req.maxBuffer)
		defer o.buf.removeConsumer(c)
	}
	if _, err := conn.Write(hdr); err != nil || c == nil {
		// max-buffer-length 0: liblsl sends the header and stops.
		return
	}
	o.mu.Lock()
	o.stats.feeds++
	o.mu.Unlock()
	_ = conn.SetWriteDeadline(time.Time{})
	// Notice the client going away even while there is nothing to send.
	gone := make(chan struct{})
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer close(gone)
		_, _ = br.WriteTo(discard{})
	}()
	defer func() { conn.Close(); <-gone }()
	o.feed(conn, c, gone)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// feed streams samples to one consumer until the outlet closes (after
// sending everything) or the connection fails.
func (o *Outlet) feed(conn net.Conn, c *consumer, gone <-chan struct{}) {
	buf := make([]byte, 0, o.opts.WriteBatchBytes+o.buf.sampleBytes+64)
	last := math.NaN()
	for {
		var done bool
		buf, last, done = o.buf.fill(c, buf[:0], o.opts.WriteBatchBytes, last, o.wireRate)
		if len(buf) > 0 {
			if _, err := conn.Write(buf); err != nil {
				return
			}
			continue
		}
		if done {
			return
		}
		select {
		case <-c.wake:
		case <-gone:
			return
		}
	}
}

// serveUDP answers discovery queries (and, on the service port, time
// probes) until the socket closes.
func (o *Outlet) serveUDP(conn *net.UDPConn, timeServices bool) {
	defer o.wg.Done()
	buf := make([]byte, 65536)
	var reply []byte
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-o.closed:
				return
			default:
				continue
			}
		}
		t1 := LocalClock()
		if !o.cfg.allowed(from.Addr()) {
			continue
		}
		msg, err := parseUDPRequest(buf[:n])
		if err != nil {
			o.countBad()
			continue
		}
		switch {
		case msg.method == "shortinfo":
			if !o.matches(msg.query) {
				continue
			}
			reply = append(append(append(reply[:0], msg.queryID...), "\r\n"...), o.shortInfo...)
			_, _ = conn.WriteToUDPAddrPort(reply, addrPort(from.Addr(), msg.returnPort))
		case msg.method == "timedata" && timeServices:
			reply = append(reply[:0], ' ')
			reply = append(reply, msg.waveID...)
			reply = append(reply, ' ')
			reply = append(reply, formatG(msg.t0)...)
			reply = append(reply, ' ')
			reply = append(reply, formatG(t1)...)
			reply = append(reply, ' ')
			reply = append(reply, formatG(LocalClock())...)
			_, _ = conn.WriteToUDPAddrPort(reply, from)
		}
	}
}
