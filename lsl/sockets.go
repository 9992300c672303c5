package lsl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// stack is one IP protocol family an outlet or resolver runs on.
type stack struct {
	udp, tcp string     // "udp4"/"tcp4" or "udp6"/"tcp6"
	any      netip.Addr // the unspecified address
}

var (
	stackV4 = stack{udp: "udp4", tcp: "tcp4", any: netip.IPv4Unspecified()}
	stackV6 = stack{udp: "udp6", tcp: "tcp6", any: netip.IPv6Unspecified()}
)

func (c *Config) stacks() []stack {
	var out []stack
	if c.AllowIPv4 {
		out = append(out, stackV4)
	}
	if c.AllowIPv6 {
		out = append(out, stackV6)
	}
	return out
}

// bindAddr is the address outlets bind: loopback under LoopbackOnly, else
// every address (as liblsl does).
func (c *Config) bindAddr(s stack) netip.Addr {
	if c.LoopbackOnly {
		if s.udp == "udp4" {
			return netip.MustParseAddr("127.0.0.1")
		}
		return netip.IPv6Loopback()
	}
	return s.any
}

// listenInRange binds the first free port of [BasePort, BasePort+PortRange),
// then (if allowed) any free port, like liblsl's bind_port_in_range.
func listenInRange[T any](cfg *Config, listen func(port int) (T, error)) (T, error) {
	var zero T
	var lastErr error
	for p := cfg.BasePort; p < cfg.BasePort+cfg.PortRange; p++ {
		l, err := listen(p)
		if err == nil {
			return l, nil
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) {
			return zero, err
		}
	}
	if cfg.AllowRandomPorts {
		return listen(0)
	}
	return zero, fmt.Errorf("lsl: all %d ports from %d are in use (more outlets than PortRange allows?): %w", cfg.PortRange, cfg.BasePort, lastErr)
}

// reuseAddr lets several outlets on a machine bind the discovery port, as
// liblsl's responders do.
func reuseAddr(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// setSockopt runs a setsockopt on a connection's descriptor.
func setSockopt(conn syscall.Conn, f func(fd int) error) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = f(int(fd)) }); err != nil {
		return err
	}
	return serr
}

// joinGroup joins a multicast group on the given local interface
// addresses (any interface when none is of the group's family); it fails
// only when the group could be joined nowhere.
func joinGroup(conn *net.UDPConn, group netip.Addr, ifaces []netip.Addr) error {
	var errs []error
	joined := false
	for _, ifa := range ifaces {
		var err error
		switch {
		case group.Is4() && ifa.Is4():
			mreq := &syscall.IPMreq{Multiaddr: group.As4(), Interface: ifa.As4()}
			err = setSockopt(conn, func(fd int) error {
				return syscall.SetsockoptIPMreq(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq)
			})
		case group.Is6() && ifa.Is6():
			idx := 0
			if z := ifa.Zone(); z != "" {
				if ifc, e := net.InterfaceByName(z); e == nil {
					idx = ifc.Index
				}
			}
			mreq := &syscall.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(idx)}
			err = setSockopt(conn, func(fd int) error {
				return syscall.SetsockoptIPv6Mreq(fd, syscall.IPPROTO_IPV6, syscall.IPV6_JOIN_GROUP, mreq)
			})
		default:
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("on %v: %w", ifa, err))
		} else {
			joined = true
		}
	}
	if !joined {
		return fmt.Errorf("lsl: could not join multicast group %v: %w", group, errors.Join(errs...))
	}
	return nil
}

// listenUDPReuse binds a UDP socket with SO_REUSEADDR.
func listenUDPReuse(network string, addr netip.AddrPort) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: reuseAddr}
	pc, err := lc.ListenPacket(context.Background(), network, addr.String())
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
