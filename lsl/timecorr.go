package lsl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// TimeEstimate is the outcome of one round of time probes.
type TimeEstimate struct {
	// Correction is what to add to the outlet's timestamps to express them
	// on the local LSL clock (liblsl's time_correction()): local minus
	// remote, in seconds.
	Correction float64
	// RTT is the round-trip time of the probe the estimate comes from, and
	// so a bound on its error.
	RTT float64
	// RemoteTime is the outlet's clock at that probe.
	RemoteTime float64
	// Probes is how many probes answered.
	Probes int
}

// timeProber sends time probes from one socket, reused round after round
// so a running inlet's periodic refresh does not allocate.
type timeProber struct {
	conn *net.UDPConn
	msg  []byte
	buf  []byte
	stop func() bool
}

// newTimeProber opens the probe socket; ctx ending interrupts a round.
func newTimeProber(ctx context.Context, cfg *Config, target netip.AddrPort) (*timeProber, error) {
	network := "udp4"
	bind := netip.IPv4Unspecified()
	if target.Addr().Is6() {
		network, bind = "udp6", netip.IPv6Unspecified()
	}
	if cfg.LoopbackOnly {
		if !target.Addr().IsLoopback() {
			return nil, fmt.Errorf("lsl: LoopbackOnly: refusing time probes to %v", target)
		}
		bind = target.Addr()
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(bind, 0)))
	if err != nil {
		return nil, fmt.Errorf("lsl: time probes: %w", err)
	}
	p := &timeProber{conn: conn, msg: make([]byte, 0, 64), buf: make([]byte, 1024)}
	p.stop = context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	return p, nil
}

func (p *timeProber) close() {
	p.stop()
	p.conn.Close()
}

// estimateTime runs one round of time probes against an outlet's service
// port on a fresh socket; see timeProber.round.
func estimateTime(ctx context.Context, cfg *Config, target netip.AddrPort) (TimeEstimate, error) {
	p, err := newTimeProber(ctx, cfg, target)
	if err != nil {
		return TimeEstimate{}, err
	}
	defer p.close()
	return p.round(ctx, cfg, target)
}

// round runs one round of time probes as liblsl's time_receiver does:
// TimeProbeCount probes TimeProbeInterval apart, answers collected until
// TimeProbeMaxRTT after the last, at least TimeUpdateMinProbes needed, the
// probe with the smallest round trip wins (as in NTP). It returns early
// once every probe answered.
func (p *timeProber) round(ctx context.Context, cfg *Config, target netip.AddrPort) (TimeEstimate, error) {
	conn := p.conn
	wave := rand.Int32()
	count := cfg.TimeProbeCount
	start := time.Now()
	end := start.Add(time.Duration(count-1)*cfg.TimeProbeInterval + cfg.TimeProbeMaxRTT)
	best := TimeEstimate{RTT: math.Inf(1)}
	sent := 0
	answered := 0
	for {
		now := time.Now()
		if sent < count && !now.Before(start.Add(time.Duration(sent)*cfg.TimeProbeInterval)) {
			msg := append(p.msg[:0], "LSL:timedata\r\n"...)
			msg = strconv.AppendInt(msg, int64(wave), 10)
			msg = append(msg, ' ')
			msg = strconv.AppendFloat(msg, LocalClock(), 'g', 16, 64)
			msg = append(msg, "\r\n"...)
			p.msg = msg
			if _, err := conn.WriteToUDPAddrPort(msg, target); err != nil && sent == 0 {
				return TimeEstimate{}, fmt.Errorf("lsl: time probe to %v: %w", target, err)
			}
			sent++
			continue
		}
		if answered >= count || !now.Before(end) {
			break
		}
		wake := end
		if sent < count {
			wake = start.Add(time.Duration(sent) * cfg.TimeProbeInterval)
		}
		_ = conn.SetReadDeadline(wake)
		if ctx.Err() != nil {
			return TimeEstimate{}, fmt.Errorf("lsl: time probes to %v: %w", target, ctx.Err())
		}
		n, _, err := conn.ReadFromUDPAddrPort(p.buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if ctx.Err() != nil {
					return TimeEstimate{}, fmt.Errorf("lsl: time probes to %v: %w", target, ctx.Err())
				}
				continue
			}
			continue // e.g. port unreachable: the outlet is gone; the round fails below
		}
		t3 := LocalClock()
		w, t0, t1, t2, err := parseTimeReplyBytes(p.buf[:n])
		if err != nil || w != int64(wave) {
			continue
		}
		answered++
		rtt := (t3 - t0) - (t2 - t1)
		offset := ((t1 - t0) + (t2 - t3)) / 2 // remote minus local
		if rtt < best.RTT {
			best = TimeEstimate{Correction: -offset, RTT: rtt, RemoteTime: (t2 + t1) / 2}
		}
	}
	best.Probes = answered
	if answered < cfg.TimeUpdateMinProbes {
		return best, fmt.Errorf("lsl: time probes to %v: %d of %d answered, %d needed", target, answered, count, cfg.TimeUpdateMinProbes)
	}
	return best, nil
}

// TimeCorrection measures the clock offset of a stream's outlet once: the
// value to add to its timestamps to put them on this machine's LSL clock,
// like liblsl's inlet.time_correction().
func TimeCorrection(ctx context.Context, cfg *Config, info StreamInfo) (TimeEstimate, error) {
	_, udp, err := endpoints(cfg, info)
	if err != nil {
		return TimeEstimate{}, err
	}
	return estimateTime(ctx, cfg, udp)
}

// endpoints picks the data and service addresses of a resolved stream,
// IPv4 first as liblsl does.
func endpoints(cfg *Config, info StreamInfo) (tcp, udp netip.AddrPort, err error) {
	try := func(addr string, data, service int) bool {
		a, err := netip.ParseAddr(addr)
		if err != nil || data <= 0 || data > 65535 || service <= 0 || service > 65535 {
			return false
		}
		a = a.Unmap()
		if (a.Is4() && !cfg.AllowIPv4) || (a.Is6() && !cfg.AllowIPv6) || !cfg.allowed(a) {
			return false
		}
		tcp, udp = netip.AddrPortFrom(a, uint16(data)), netip.AddrPortFrom(a, uint16(service))
		return true
	}
	if try(info.V4Address, info.V4DataPort, info.V4ServicePort) || try(info.V6Address, info.V6DataPort, info.V6ServicePort) {
		return tcp, udp, nil
	}
	return tcp, udp, fmt.Errorf("lsl: stream %q has no usable address (v4 %q:%d, v6 %q:%d); resolve it first", info.Name, info.V4Address, info.V4DataPort, info.V6Address, info.V6DataPort)
}
