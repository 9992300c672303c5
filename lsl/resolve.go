package lsl

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ResolveOptions tune a resolve. EnsureDefaults fills them in.
type ResolveOptions struct {
	// Minimum is how many matching streams end the resolve early; 0 means
	// collect for the whole Timeout (listing everything visible).
	Minimum int
	// Timeout bounds the resolve (default 5 s, or 1 s when Minimum is 0,
	// as liblsl's resolve_streams waits).
	Timeout time.Duration
	// MinimumTime keeps collecting at least this long even after Minimum
	// streams were found (default 0).
	MinimumTime time.Duration
	// AllSessions drops the session_id='...' condition liblsl adds to
	// every query, making streams of other sessions visible.
	AllSessions bool
	// OnBadReply, when set, hears about every malformed reply to this
	// resolve's queries (they are skipped either way).
	OnBadReply func(from netip.AddrPort, err error)
}

// EnsureDefaults fills unset fields with their defaults.
func (o *ResolveOptions) EnsureDefaults() {
	if o.Timeout <= 0 {
		if o.Minimum > 0 {
			o.Timeout = 5 * time.Second
		} else {
			o.Timeout = time.Second
		}
	}
}

// ErrNotFound is returned (with whatever was found) when a resolve ends
// before Minimum streams were found.
var ErrNotFound = errors.New("lsl: not enough streams found")

// Resolve finds the streams matching predicate (an XPath predicate on the
// stream info, see Query; "" matches all) the way liblsl does: waves of
// discovery queries to the configured multicast, broadcast and machine
// addresses at the discovery port, and to every port of the known peers,
// until Minimum streams answered, the timeout passes or ctx ends. Results
// are deduplicated by uid, in the order they first answered.
func Resolve(ctx context.Context, cfg *Config, predicate string, opts ResolveOptions) ([]StreamInfo, error) {
	opts.EnsureDefaults()
	query, err := sessionQuery(cfg, predicate, opts.AllSessions)
	if err != nil {
		return nil, err
	}
	r, err := newResolver(ctx, cfg, query)
	if err != nil {
		return nil, err
	}
	r.onBad = opts.OnBadReply
	return r.run(ctx, opts)
}

// ResolveAll lists every stream of the session that answers within
// timeout (like liblsl's resolve_streams and the GetAllStreams example).
func ResolveAll(ctx context.Context, cfg *Config, timeout time.Duration) ([]StreamInfo, error) {
	return Resolve(ctx, cfg, "", ResolveOptions{Timeout: timeout})
}

// sessionQuery prefixes the session condition liblsl adds, after checking
// that the predicate is one this package can evaluate (the outlets
// evaluate it, and Go outlets evaluate the same subset).
func sessionQuery(cfg *Config, predicate string, all bool) (string, error) {
	predicate = strings.TrimSpace(predicate)
	if _, err := ParseQuery(predicate); err != nil {
		return "", err
	}
	if strings.ContainsAny(predicate, "\r\n") {
		return "", fmt.Errorf("%w: a predicate cannot contain line breaks", ErrQuerySyntax)
	}
	if all {
		return predicate, nil
	}
	session := "session_id='" + cfg.SessionID + "'"
	if strings.Contains(cfg.SessionID, "'") {
		session = "session_id=\"" + cfg.SessionID + "\""
	}
	if predicate == "" {
		return session, nil
	}
	return session + " and (" + predicate + ")", nil
}

type resolver struct {
	cfg       *Config
	query     string
	queryID   string
	conns     []*net.UDPConn
	multicast []netip.AddrPort
	unicast   []netip.AddrPort
	ifaces    []netip.Addr

	mu      sync.Mutex
	results []StreamInfo
	seen    map[string]bool
	onBad   func(netip.AddrPort, error)
	found   chan struct{} // signalled when a new result arrives
}

func newResolver(ctx context.Context, cfg *Config, query string) (*resolver, error) {
	r := &resolver{cfg: cfg, query: query, queryID: strconv.FormatUint(rand.Uint64(), 10), seen: map[string]bool{}, found: make(chan struct{}, 1)}
	for _, a := range cfg.MulticastAddresses {
		if !cfg.allowed(a) {
			return nil, fmt.Errorf("lsl: LoopbackOnly configuration lists discovery address %v", a)
		}
		r.multicast = append(r.multicast, netip.AddrPortFrom(a, uint16(cfg.MulticastPort)))
	}
	for _, peer := range cfg.KnownPeers {
		addrs, err := lookupPeer(ctx, peer)
		if err != nil {
			continue // liblsl skips peers it cannot resolve
		}
		for _, a := range addrs {
			if (a.Is4() && !cfg.AllowIPv4) || (a.Is6() && !cfg.AllowIPv6) {
				continue
			}
			if !cfg.allowed(a) {
				return nil, fmt.Errorf("lsl: LoopbackOnly configuration lists known peer %s (%v)", peer, a)
			}
			for p := cfg.BasePort; p < cfg.BasePort+cfg.PortRange; p++ {
				r.unicast = append(r.unicast, netip.AddrPortFrom(a, uint16(p)))
			}
		}
	}
	r.ifaces = cfg.interfaceAddrs()
	return r, nil
}

func lookupPeer(ctx context.Context, peer string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(peer); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", peer)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, err
}

func (r *resolver) open() error {
	for _, st := range r.cfg.stacks() {
		conn, err := net.ListenUDP(st.udp, net.UDPAddrFromAddrPort(netip.AddrPortFrom(r.cfg.bindAddr(st), 0)))
		if err != nil {
			continue
		}
		if st.udp == "udp4" {
			_ = setSockopt(conn, func(fd int) error {
				if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1); err != nil {
					return err
				}
				return syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_TTL, r.cfg.MulticastTTL)
			})
		} else {
			_ = setSockopt(conn, func(fd int) error {
				return syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_HOPS, r.cfg.MulticastTTL)
			})
		}
		r.conns = append(r.conns, conn)
	}
	if len(r.conns) == 0 {
		return fmt.Errorf("lsl: resolve: could not open a UDP socket for any enabled IP version")
	}
	return nil
}

func (r *resolver) run(ctx context.Context, opts ResolveOptions) ([]StreamInfo, error) {
	if err := r.open(); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	for _, c := range r.conns {
		wg.Add(1)
		go func() { defer wg.Done(); r.receive(c) }()
	}
	defer func() {
		for _, c := range r.conns {
			c.Close()
		}
		wg.Wait()
	}()

	start := time.Now()
	deadline := start.Add(opts.Timeout)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nextWave := start
	var unicastAt time.Time
	for {
		if r.satisfied(opts, start) {
			break
		}
		now := time.Now()
		if !now.Before(nextWave) {
			r.send(r.multicast, true)
			wave := r.cfg.MulticastMinRTT
			if len(r.unicast) > 0 {
				unicastAt = now.Add(r.cfg.MulticastMinRTT)
				wave += r.cfg.UnicastMinRTT
			}
			nextWave = now.Add(max(wave, 10*time.Millisecond))
		}
		if !unicastAt.IsZero() && !now.Before(unicastAt) {
			r.send(r.unicast, false)
			unicastAt = time.Time{}
		}
		wake := nextWave
		if !unicastAt.IsZero() && unicastAt.Before(wake) {
			wake = unicastAt
		}
		if opts.Minimum > 0 && opts.MinimumTime > 0 {
			if t := start.Add(opts.MinimumTime); t.After(now) && t.Before(wake) {
				wake = t
			}
		}
		timer := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			timer.Stop()
			return r.finish(opts, ctx.Err())
		case <-r.found:
		case <-timer.C:
		}
		timer.Stop()
	}
	return r.finish(opts, nil)
}

func (r *resolver) satisfied(opts ResolveOptions, start time.Time) bool {
	if opts.Minimum <= 0 {
		return false
	}
	r.mu.Lock()
	n := len(r.results)
	r.mu.Unlock()
	return n >= opts.Minimum && time.Since(start) >= opts.MinimumTime
}

func (r *resolver) finish(opts ResolveOptions, ctxErr error) ([]StreamInfo, error) {
	r.mu.Lock()
	out := append([]StreamInfo(nil), r.results...)
	r.mu.Unlock()
	if opts.Minimum > 0 && len(out) < opts.Minimum {
		return out, fmt.Errorf("%w: %d of %d for %q within %v: %v", ErrNotFound, len(out), opts.Minimum, r.query, opts.Timeout, ctxErr)
	}
	if opts.Minimum == 0 && ctxErr != nil && !errors.Is(ctxErr, context.DeadlineExceeded) {
		return out, fmt.Errorf("lsl: resolve %q: %w", r.query, ctxErr)
	}
	return out, nil
}

// send sends the query to every target, multicast ones out of every
// interface.
func (r *resolver) send(targets []netip.AddrPort, perInterface bool) {
	for _, conn := range r.conns {
		v4 := conn.LocalAddr().(*net.UDPAddr).IP.To4() != nil
		msg := appendQuery(nil, r.query, conn.LocalAddr().(*net.UDPAddr).Port, r.queryID)
		ifaces := []netip.Addr{{}}
		if perInterface {
			ifaces = r.ifaces
		}
		sentUnicast := false
		for _, ifa := range ifaces {
			if ifa.IsValid() {
				if ifa.Is4() != v4 {
					continue
				}
				if !ifa.IsUnspecified() {
					_ = setMulticastInterface(conn, ifa)
				}
			}
			for _, t := range targets {
				if t.Addr().Is4() != v4 {
					continue
				}
				if !t.Addr().IsMulticast() && sentUnicast {
					continue // unicast and broadcast targets once, not per interface
				}
				_, _ = conn.WriteToUDPAddrPort(msg, t)
			}
			sentUnicast = true
		}
	}
}

func setMulticastInterface(conn *net.UDPConn, ifa netip.Addr) error {
	if ifa.Is4() {
		return setSockopt(conn, func(fd int) error {
			mreq := &syscall.IPMreqn{Address: ifa.As4()}
			return syscall.SetsockoptIPMreqn(fd, syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, mreq)
		})
	}
	idx := 0
	if z := ifa.Zone(); z != "" {
		if ifc, err := net.InterfaceByName(z); err == nil {
			idx = ifc.Index
		}
	}
	return setSockopt(conn, func(fd int) error {
		return syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_MULTICAST_IF, idx)
	})
}

// receive collects replies until the socket is closed.
func (r *resolver) receive(conn *net.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP port unreachable from a unicast wave
		}
		if !r.cfg.allowed(from.Addr()) {
			continue
		}
		id, info, err := parseQueryReply(buf[:n])
		if id != r.queryID {
			continue // a reply to someone else's (or an older) query
		}
		if err != nil {
			if r.onBad != nil {
				r.onBad(from, fmt.Errorf("reply from %v: %w", from, err))
			}
			continue
		}
		src := from.Addr().Unmap()
		if src.Is4() {
			if info.V4Address == "" {
				info.V4Address = src.String()
			}
		} else if info.V6Address == "" {
			info.V6Address = src.String()
		}
		r.mu.Lock()
		if !r.seen[info.UID] {
			r.seen[info.UID] = true
			r.results = append(r.results, info)
			select {
			case r.found <- struct{}{}:
			default:
			}
		}
		r.mu.Unlock()
	}
}
