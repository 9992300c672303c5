package lsl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// OutletOptions tune an outlet. The zero value is usable; EnsureDefaults
// fills it in.
type OutletOptions struct {
	// MaxBuffered is how much data the outlet keeps for each consumer: a
	// consumer lagging further loses the oldest samples. Measured in time
	// (for irregular streams liblsl's convention applies: one second is
	// 100 samples). Default 10 s (liblsl's 360 s is far more than a
	// real-time consumer can use, and is preallocated here).
	MaxBuffered time.Duration
	// MaxBufferBytes caps the preallocated buffer (default 256 MiB);
	// MaxBuffered is shortened to fit.
	MaxBufferBytes int
	// WriteBatchBytes bounds one socket write to a consumer (default
	// 256 KiB).
	WriteBatchBytes int
	// HandshakeTimeout bounds how long a connecting client may take to
	// send its request (default 10 s).
	HandshakeTimeout time.Duration
}

// EnsureDefaults fills unset fields with their defaults.
func (o *OutletOptions) EnsureDefaults() {
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = 10 * time.Second
	}
	if o.MaxBufferBytes <= 0 {
		o.MaxBufferBytes = 256 << 20
	}
	if o.WriteBatchBytes <= 0 {
		o.WriteBatchBytes = 256 << 10
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
}

// Outlet publishes one stream: it answers discovery queries and time
// probes over UDP and serves the samples to any number of inlets over TCP.
type Outlet struct {
	cfg  *Config
	opts OutletOptions
	info StreamInfo
	// wireRate is the rate as receivers read it back from the XML, so
	// "deduced" stamps reconstruct bit for bit.
	wireRate  float64
	shortInfo []byte
	fullInfo  []byte
	doc       *Element
	buf       *sendBuffer
	scratch   []byte // one sample, for conversions (under pushMu)
	pushMu    sync.Mutex
	lastStamp float64 // last pushed stamp (under pushMu)

	listeners  []net.Listener
	services   []*net.UDPConn // unicast service ports: queries and time probes
	responders []*net.UDPConn // discovery ports: queries only
	queries    queryCache

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	closing  bool
	closed   chan struct{} // closed when Close begins
	wg       sync.WaitGroup
	stats    outletCounters
	closeErr error
}

type outletCounters struct {
	badRequests uint64
	feeds       uint64
}

// ErrClosed is returned by operations on a closed outlet or inlet.
var ErrClosed = errors.New("lsl: closed")

// NewOutlet starts publishing a stream. info's Name, ChannelCount, Format
// and NominalRate are required; the outlet fills in the UID, session,
// hostname, ports and creation time (see Info).
func NewOutlet(cfg *Config, info StreamInfo, opts OutletOptions) (*Outlet, error) {
	if cfg == nil {
		return nil, fmt.Errorf("lsl: NewOutlet: nil config")
	}
	if err := info.Validate(); err != nil {
		return nil, err
	}
	opts.EnsureDefaults()
	info = info.Clone()
	if info.Desc == nil {
		info.Desc = &Element{Name: "desc"}
	}
	info.Version = cfg.UseProtocolVersion
	info.SessionID = cfg.SessionID
	info.UID = newUID()
	info.CreatedAt = LocalClock()
	if h, err := os.Hostname(); err == nil {
		info.Hostname = h
	}
	info.V4Address, info.V6Address = "", ""

	capacity := bufferSamples(opts.MaxBuffered, info.NominalRate)
	sampleBytes := info.ChannelCount * max(info.Format.Size(), 16)
	if capacity*sampleBytes > opts.MaxBufferBytes {
		capacity = max(opts.MaxBufferBytes/sampleBytes, 1)
	}
	wireRate, err := cppStod(formatDouble(info.NominalRate))
	if err != nil {
		return nil, fmt.Errorf("lsl: NewOutlet: rate %v does not survive the XML: %w", info.NominalRate, err)
	}
	o := &Outlet{
		cfg:       cfg,
		opts:      opts,
		wireRate:  wireRate,
		buf:       newSendBuffer(info.Format, info.ChannelCount, capacity),
		scratch:   make([]byte, info.ChannelCount*info.Format.Size()),
		conns:     map[net.Conn]struct{}{},
		closed:    make(chan struct{}),
		lastStamp: -1,
	}
	o.queries.init()
	for _, st := range cfg.stacks() {
		if err := o.listenStack(st, &info); err != nil {
			o.abort()
			return nil, err
		}
	}
	if len(o.listeners) == 0 {
		o.abort()
		return nil, fmt.Errorf("lsl: NewOutlet %q: neither IPv4 nor IPv6 is enabled", info.Name)
	}
	o.info = info
	o.shortInfo = info.ShortInfoXML()
	o.fullInfo = info.FullInfoXML()
	o.doc = info.document(true)
	for _, l := range o.listeners {
		o.wg.Add(1)
		go o.acceptLoop(l)
	}
	for _, c := range o.services {
		o.wg.Add(1)
		go o.serveUDP(c, true)
	}
	for _, c := range o.responders {
		o.wg.Add(1)
		go o.serveUDP(c, false)
	}
	return o, nil
}

// bufferSamples converts a buffer duration into samples (irregular
// streams: 100 per second, as liblsl does).
func bufferSamples(d time.Duration, rate float64) int {
	perSecond := rate
	if rate == 0 {
		perSecond = 100
	}
	return max(int(d.Seconds()*perSecond), 1)
}

// listenStack opens the TCP data port, the UDP service port and the
// discovery responders of one IP family.
func (o *Outlet) listenStack(st stack, info *StreamInfo) error {
	bind := o.cfg.bindAddr(st)
	ln, err := listenInRange(o.cfg, func(port int) (net.Listener, error) {
		return net.Listen(st.tcp, netip.AddrPortFrom(bind, uint16(port)).String())
	})
	if err != nil {
		if st.udp == "udp6" {
			// Like liblsl, an IPv6 stack that cannot start is not fatal.
			return nil
		}
		return fmt.Errorf("lsl: outlet %q: TCP data port: %w", info.Name, err)
	}
	uc, err := listenInRange(o.cfg, func(port int) (*net.UDPConn, error) {
		return net.ListenUDP(st.udp, net.UDPAddrFromAddrPort(netip.AddrPortFrom(bind, uint16(port))))
	})
	if err != nil {
		ln.Close()
		if st.udp == "udp6" {
			return nil
		}
		return fmt.Errorf("lsl: outlet %q: UDP service port: %w", info.Name, err)
	}
	o.listeners = append(o.listeners, ln)
	o.services = append(o.services, uc)
	dataPort := ln.Addr().(*net.TCPAddr).Port
	servicePort := uc.LocalAddr().(*net.UDPAddr).Port
	if st.udp == "udp4" {
		info.V4DataPort, info.V4ServicePort = dataPort, servicePort
	} else {
		info.V6DataPort, info.V6ServicePort = dataPort, servicePort
	}
	// Discovery responders: one per configured address of this family.
	listen := st.any
	if o.cfg.ListenAddress != "" {
		if a, err := netip.ParseAddr(o.cfg.ListenAddress); err == nil {
			listen = a
		}
	}
	if o.cfg.LoopbackOnly {
		listen = bind
	}
	for _, addr := range o.cfg.MulticastAddresses {
		if addr.Is4() != (st.udp == "udp4") || !o.cfg.allowed(addr) {
			continue
		}
		rc, err := listenUDPReuse(st.udp, netip.AddrPortFrom(listen, uint16(o.cfg.MulticastPort)))
		if err != nil {
			continue // liblsl logs and goes on without this responder
		}
		if addr.IsMulticast() {
			if st.udp == "udp4" {
				_ = setSockopt(rc, func(fd int) error {
					return syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, o.cfg.MulticastTTL)
				})
			}
			if err := joinGroup(rc, addr, o.cfg.interfaceAddrs()); err != nil {
				rc.Close()
				continue
			}
		}
		o.responders = append(o.responders, rc)
	}
	return nil
}

// abort closes whatever a failed NewOutlet opened.
func (o *Outlet) abort() {
	for _, l := range o.listeners {
		l.Close()
	}
	for _, c := range o.services {
		c.Close()
	}
	for _, c := range o.responders {
		c.Close()
	}
}

// Info returns the stream info as the outlet announces it (UID, ports,
// hostname and creation time filled in).
func (o *Outlet) Info() StreamInfo { return o.info.Clone() }

// OutletStats are an outlet's counters.
type OutletStats struct {
	Consumers   int    // inlets currently connected
	Pushed      uint64 // samples pushed
	Dropped     uint64 // samples skipped for consumers that lagged beyond MaxBuffered
	Feeds       uint64 // feeds served since the start
	BadRequests uint64 // malformed requests on the data port or UDP
}

// Stats returns the outlet's counters.
func (o *Outlet) Stats() OutletStats {
	n, pushed, dropped := o.buf.stats()
	o.mu.Lock()
	defer o.mu.Unlock()
	return OutletStats{Consumers: n, Pushed: pushed, Dropped: dropped, Feeds: o.stats.feeds, BadRequests: o.stats.badRequests}
}

// WaitForConsumers blocks until at least one inlet is connected.
func (o *Outlet) WaitForConsumers(ctx context.Context) error {
	for {
		o.buf.mu.Lock()
		n, added := len(o.buf.consumers), o.buf.consumerAdded
		o.buf.mu.Unlock()
		if n > 0 {
			return nil
		}
		select {
		case <-added:
		case <-ctx.Done():
			return fmt.Errorf("lsl: waiting for consumers of %q: %w", o.info.Name, ctx.Err())
		case <-o.closed:
			return ErrClosed
		}
	}
}

// stampFor resolves a push timestamp: 0 (or ForceDefaultTimestamps) means
// now on the LSL local clock.
func (o *Outlet) stampFor(stamp float64) float64 {
	if stamp == 0 || o.cfg.ForceDefaultTimestamps {
		return LocalClock()
	}
	return stamp
}

// Push sends one sample (len(sample) == channel count). stamp is in LSL
// seconds (LocalClock's domain); 0 means now. Numbers are converted to the
// stream's format as C++ would cast them.
func Push[T Number](o *Outlet, sample []T, stamp float64) error {
	return pushNumeric(o, sample, 1, stamp, nil)
}

// PushChunk sends len(data)/channels samples (multiplexed: all channels
// of a sample together). stamp is the time of the last sample (0: now);
// the earlier ones are spaced 1/rate before it, as liblsl's push_chunk
// does, and travel as "deduced" stamps.
func PushChunk[T Number](o *Outlet, data []T, stamp float64) error {
	n, err := o.chunkLen(len(data))
	if err != nil {
		return err
	}
	return pushNumeric(o, data, n, stamp, nil)
}

// PushChunkStamped sends len(stamps) samples, each with its own stamp
// (0: now).
func PushChunkStamped[T Number](o *Outlet, data []T, stamps []float64) error {
	n, err := o.chunkLen(len(data))
	if err != nil {
		return err
	}
	if n != len(stamps) {
		return fmt.Errorf("lsl: push to %q: %d samples but %d stamps", o.info.Name, n, len(stamps))
	}
	return pushNumeric(o, data, n, 0, stamps)
}

// PushFloat32 sends one float32 sample; see Push.
func (o *Outlet) PushFloat32(sample []float32, stamp float64) error {
	return Push(o, sample, stamp)
}

func (o *Outlet) chunkLen(values int) (int, error) {
	nch := o.info.ChannelCount
	if values%nch != 0 {
		return 0, fmt.Errorf("lsl: push to %q: %d values are not a whole number of %d-channel samples", o.info.Name, values, nch)
	}
	return values / nch, nil
}

func pushNumeric[T Number](o *Outlet, data []T, n int, stamp float64, stamps []float64) error {
	nch := o.info.ChannelCount
	if o.info.Format == String {
		return fmt.Errorf("lsl: push to %q: numbers pushed to a string stream (use PushStrings)", o.info.Name)
	}
	if len(data) != n*nch {
		return fmt.Errorf("lsl: push to %q: %d values, want %d (channel count %d)", o.info.Name, len(data), n*nch, nch)
	}
	if n == 0 {
		return nil
	}
	o.pushMu.Lock()
	defer o.pushMu.Unlock()
	b := o.buf
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("lsl: push to %q: %w", o.info.Name, ErrClosed)
	}
	var first, step float64
	if stamps == nil {
		last := o.stampFor(stamp)
		if o.wireRate != 0 {
			step = 1.0 / o.wireRate
			first = last - float64(n-1)/o.wireRate
		} else {
			first = last
		}
	}
	for k := 0; k < n; k++ {
		i := b.slot(b.head)
		encodeValues(b.data[i*b.sampleBytes:(i+1)*b.sampleBytes], data[k*nch:(k+1)*nch], b.format)
		switch {
		case stamps != nil:
			b.stamps[i] = o.stampFor(stamps[k])
		case k == 0:
			b.stamps[i] = first
		default:
			b.stamps[i] = o.lastStamp + step
		}
		o.lastStamp = b.stamps[i]
		b.head++
	}
	b.notifyLocked()
	return nil
}

// PushString sends one sample of a single-channel string stream (markers).
func (o *Outlet) PushString(s string, stamp float64) error {
	if o.info.ChannelCount != 1 {
		return fmt.Errorf("lsl: PushString to %q: the stream has %d channels (use PushStrings)", o.info.Name, o.info.ChannelCount)
	}
	var one [1]string
	one[0] = s
	return o.PushStrings(one[:], stamp)
}

// PushStrings sends one sample of a string stream.
func (o *Outlet) PushStrings(sample []string, stamp float64) error {
	if o.info.Format != String {
		return fmt.Errorf("lsl: PushStrings to %q: the stream's format is %v", o.info.Name, o.info.Format)
	}
	nch := o.info.ChannelCount
	if len(sample) != nch {
		return fmt.Errorf("lsl: push to %q: %d values, want %d", o.info.Name, len(sample), nch)
	}
	o.pushMu.Lock()
	defer o.pushMu.Unlock()
	b := o.buf
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("lsl: push to %q: %w", o.info.Name, ErrClosed)
	}
	i := b.slot(b.head)
	copy(b.strs[i*nch:(i+1)*nch], sample)
	b.stamps[i] = o.stampFor(stamp)
	o.lastStamp = b.stamps[i]
	b.head++
	b.notifyLocked()
	return nil
}

// Close stops the outlet: no new pushes or connections, discovery stops
// answering, and each connected inlet is sent what it has not received yet
// (graceful); when ctx ends first, the connections are cut (hard). Close
// returns once every goroutine of the outlet has ended.
func (o *Outlet) Close(ctx context.Context) error {
	o.mu.Lock()
	if o.closing {
		o.mu.Unlock()
		o.wg.Wait()
		return o.closeErr
	}
	o.closing = true
	close(o.closed)
	o.mu.Unlock()

	o.abort()
	o.buf.close() // feeds flush what they have, then end
	done := make(chan struct{})
	go func() { o.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		o.mu.Lock()
		for c := range o.conns {
			c.Close()
		}
		o.mu.Unlock()
		<-done
		o.closeErr = fmt.Errorf("lsl: outlet %q closed before every inlet had its data: %w", o.info.Name, ctx.Err())
	}
	return o.closeErr
}

// queryCache remembers compiled predicates, since discovery repeats the
// same few queries every half second.
type queryCache struct {
	mu sync.Mutex
	m  map[string]*Query
}

func (q *queryCache) init() { q.m = map[string]*Query{} }

const maxCachedQueries = 100

func (q *queryCache) get(src string) (*Query, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c, ok := q.m[src]; ok {
		return c, nil
	}
	c, err := ParseQuery(src)
	if err != nil {
		return nil, err
	}
	if len(q.m) >= maxCachedQueries {
		clear(q.m)
	}
	q.m[src] = c
	return c, nil
}

// matches evaluates a query from the network on this outlet's info.
func (o *Outlet) matches(src string) bool {
	q, err := o.queries.get(src)
	if err != nil {
		o.countBad()
		return false
	}
	return q.MatchesElement(o.doc)
}

func (o *Outlet) countBad() {
	o.mu.Lock()
	o.stats.badRequests++
	o.mu.Unlock()
}

// formatG writes a number as a C++ stream with precision 16 does.
func formatG(v float64) string { return strconv.FormatFloat(v, 'g', 16, 64) }
