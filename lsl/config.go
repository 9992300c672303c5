package lsl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the LSL network configuration: the same settings, file format,
// file locations and defaults liblsl 1.16 uses, so one lsl_api.cfg
// configures liblsl programs and this package alike.
type Config struct {
	// Source is the file the configuration was read from ("" for the
	// built-in defaults).
	Source string

	// [ports]
	MulticastPort    int  // UDP port of the discovery responders (16571)
	BasePort         int  // first port outlets bind (16572)
	PortRange        int  // number of ports from BasePort (32)
	AllowRandomPorts bool // bind any free port when the range is full
	AllowIPv4        bool
	AllowIPv6        bool

	// [multicast]
	ResolveScope string // machine, link, site, organization or global
	// ListenAddress is the address discovery responders bind ("" for all).
	ListenAddress string
	// MulticastAddresses are the discovery destinations for the scope
	// (machine addresses always include 127.0.0.1), or AddressesOverride.
	MulticastAddresses []netip.Addr
	MulticastTTL       int
	// Interfaces are the local addresses multicast goes out of and joins
	// on; empty means every interface that is up and multicast-capable.
	Interfaces []netip.Addr

	// [lab]
	KnownPeers []string // hosts queried by unicast on every port of the range
	SessionID  string   // streams of other sessions are invisible

	// [tuning]
	UseProtocolVersion        int
	WatchdogCheckInterval     time.Duration
	WatchdogTimeThreshold     time.Duration
	MulticastMinRTT           time.Duration
	MulticastMaxRTT           time.Duration
	UnicastMinRTT             time.Duration
	UnicastMaxRTT             time.Duration
	ContinuousResolveInterval time.Duration
	TimeUpdateInterval        time.Duration
	TimeUpdateMinProbes       int
	TimeProbeCount            int
	TimeProbeInterval         time.Duration
	TimeProbeMaxRTT           time.Duration
	SmoothingHalftime         time.Duration
	ForceDefaultTimestamps    bool

	// LoopbackOnly is not a liblsl setting: when true, this package refuses
	// to send any discovery packet to, or accept a stream address that is
	// not, a loopback address. Tests set it so that a configuration mistake
	// can never put a packet on a real network.
	LoopbackOnly bool
}

// ConfigEnv names the environment variable liblsl reads first for the path
// of its configuration file.
const ConfigEnv = "LSLAPICFG"

// ErrConfig marks an unreadable or invalid configuration.
var ErrConfig = errors.New("lsl: invalid configuration")

// DefaultConfig returns liblsl's built-in defaults (no file).
func DefaultConfig() *Config {
	cfg, err := parseConfig(nil, "")
	if err != nil {
		// The built-in defaults always parse.
		panic(err)
	}
	return cfg
}

// LoopbackConfig returns a configuration that keeps all discovery on
// 127.0.0.1 and refuses anything else (LoopbackOnly); it matches the
// lsl_loopback.cfg used for liblsl programs in tests.
func LoopbackConfig() *Config {
	cfg := DefaultConfig()
	cfg.RestrictToLoopback()
	return cfg
}

// RestrictToLoopback changes cfg in place so that discovery only ever
// addresses 127.0.0.1 (IPv4 only, machine scope, TTL 0) and sets
// LoopbackOnly.
func (c *Config) RestrictToLoopback() {
	lo := netip.MustParseAddr("127.0.0.1")
	c.AllowIPv6 = false
	c.AllowIPv4 = true
	c.ResolveScope = "machine"
	c.MulticastAddresses = []netip.Addr{lo}
	c.Interfaces = []netip.Addr{lo}
	c.MulticastTTL = 0
	c.KnownPeers = []string{"127.0.0.1"}
	c.ListenAddress = ""
	c.LoopbackOnly = true
}

// LoadConfig reads the configuration the way liblsl does: the file named
// by LSLAPICFG, then lsl_api.cfg in the working directory, then
// ~/lsl_api/lsl_api.cfg, then /etc/lsl_api/lsl_api.cfg; the first readable
// one wins, and without any the defaults apply. Unlike liblsl, which logs
// and falls back to defaults, an invalid file is an error.
func LoadConfig() (*Config, error) {
	var candidates []string
	if env := os.Getenv(ConfigEnv); env != "" {
		if !readable(env) {
			return nil, fmt.Errorf("%w: %s=%s is not a readable file", ErrConfig, ConfigEnv, env)
		}
		candidates = append(candidates, env)
	}
	candidates = append(candidates, "lsl_api.cfg")
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "lsl_api", "lsl_api.cfg"))
	}
	candidates = append(candidates, "/etc/lsl_api/lsl_api.cfg")
	for _, name := range candidates {
		if readable(name) {
			return LoadConfigFile(name)
		}
	}
	return DefaultConfig(), nil
}

func readable(name string) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	st, err := f.Stat()
	f.Close()
	return err == nil && !st.IsDir()
}

// LoadConfigFile reads one liblsl configuration file.
func LoadConfigFile(name string) (*Config, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	defer f.Close()
	return ParseConfig(f, name)
}

// ParseConfig reads a configuration in liblsl's INI dialect from r; name
// is used in error messages and as Source.
func ParseConfig(r io.Reader, name string) (*Config, error) {
	values, err := readINI(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	cfg, err := parseConfig(values, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	return cfg, nil
}

// readINI parses liblsl's INI dialect: "[section]" lines, "key = value"
// lines, comments only as lines starting with ';', keys stored as
// "section.key" (case-sensitive), duplicate keys rejected.
func readINI(r io.Reader) (map[string]string, error) {
	values := map[string]string{}
	section := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 0; sc.Scan(); {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, ";") || strings.TrimSpace(text) == "" {
			continue
		}
		if strings.HasPrefix(text, "[") {
			end := strings.IndexByte(text, ']')
			if end < 0 {
				return nil, fmt.Errorf("line %d: no closing bracket ]", line)
			}
			section = text[1:end] + "."
			continue
		}
		eq := strings.IndexByte(text, '=')
		if eq < 0 {
			return nil, fmt.Errorf("line %d: no key = value pair", line)
		}
		key := strings.TrimSpace(text[:eq])
		val := strings.TrimSpace(text[eq+1:])
		if key == "" {
			return nil, fmt.Errorf("line %d: empty key", line)
		}
		if val == "" {
			return nil, fmt.Errorf("line %d: empty value", line)
		}
		key = section + key
		if _, dup := values[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %s", line, key)
		}
		values[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return values, nil
}

type iniValues struct {
	m   map[string]string
	err error
}

func (v *iniValues) str(key, def string) string {
	if s, ok := v.m[key]; ok {
		return s
	}
	return def
}

// int reads a leading decimal integer, as a C++ stream extraction does.
func (v *iniValues) int(key string, def int) int {
	s, ok := v.m[key]
	if !ok {
		return def
	}
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil && v.err == nil {
		v.err = fmt.Errorf("%s = %q is not an integer", key, s)
	}
	return n
}

// seconds reads a leading decimal number of seconds.
func (v *iniValues) seconds(key string, def float64) time.Duration {
	s, ok := v.m[key]
	f := def
	if ok {
		fields := strings.Fields(s)
		var err error
		if len(fields) > 0 {
			f, err = strconv.ParseFloat(fields[0], 64)
		}
		if (len(fields) == 0 || err != nil) && v.err == nil {
			v.err = fmt.Errorf("%s = %q is not a number", key, s)
		}
	}
	return time.Duration(f * float64(time.Second))
}

// bool follows liblsl, which reads a boolean as true only when its text
// is exactly "1" (so "true" is false, as it is for liblsl).
func (v *iniValues) bool(key string, def bool) bool {
	if s, ok := v.m[key]; ok {
		return s == "1"
	}
	return def
}

// set parses "{a, b, c}"; anything else is an empty set, as in liblsl.
func (v *iniValues) set(key, def string) []string {
	s := v.str(key, def)
	if len(s) <= 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil
	}
	var out []string
	for _, part := range strings.Split(s[1:len(s)-1], ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseConfig(m map[string]string, name string) (*Config, error) {
	v := &iniValues{m: m}
	c := &Config{Source: name}
	if err := c.parsePorts(v); err != nil {
		return nil, err
	}
	if err := c.parseMulticast(v); err != nil {
		return nil, err
	}
	c.KnownPeers = v.set("lab.KnownPeers", "{}")
	c.SessionID = v.str("lab.SessionID", "default")
	c.parseTuning(v)
	if v.err != nil {
		return nil, v.err
	}
	if c.UseProtocolVersion < 110 {
		return nil, fmt.Errorf("UseProtocolVersion %d: only protocol 1.10 is implemented", c.UseProtocolVersion)
	}
	if c.TimeProbeCount < 1 || c.TimeUpdateMinProbes < 1 || c.TimeUpdateMinProbes > c.TimeProbeCount {
		return nil, fmt.Errorf("time probes: TimeProbeCount %d, TimeUpdateMinProbes %d", c.TimeProbeCount, c.TimeUpdateMinProbes)
	}
	return c, nil
}

// parsePorts reads the [ports] section.
func (c *Config) parsePorts(v *iniValues) error {
	c.MulticastPort = v.int("ports.MulticastPort", 16571)
	c.BasePort = v.int("ports.BasePort", 16572)
	c.PortRange = v.int("ports.PortRange", 32)
	c.AllowRandomPorts = v.bool("ports.AllowRandomPorts", true)
	c.AllowIPv4, c.AllowIPv6 = true, true
	switch ipv6 := v.str("ports.IPv6", "allow"); ipv6 {
	case "disabled", "disable":
		c.AllowIPv6 = false
	case "allowed", "allow":
	case "forced", "force":
		c.AllowIPv4 = false
	default:
		return fmt.Errorf("unsupported IPv6 setting %q (allow, disable or force)", ipv6)
	}
	if c.MulticastPort <= 0 || c.MulticastPort > 65535 || c.BasePort <= 0 || c.BasePort > 65535 || c.PortRange < 0 || c.BasePort+c.PortRange > 65536 {
		return fmt.Errorf("ports out of range: MulticastPort %d, BasePort %d, PortRange %d", c.MulticastPort, c.BasePort, c.PortRange)
	}
	return nil
}

// scopeLevels orders liblsl's resolve scopes; each includes the ones below.
var scopeLevels = []struct {
	name, key, defaults, ipv6Prefix string
	ttl                             int
}{
	{"machine", "multicast.MachineAddresses", "{127.0.0.1}", "", 0},
	{"link", "multicast.LinkAddresses", "{255.255.255.255, 224.0.0.1, 224.0.0.183}", "FF02:", 1},
	{"site", "multicast.SiteAddresses", "{239.255.172.215}", "FF05:", 24},
	{"organization", "multicast.OrganizationAddresses", "{}", "FF08:", 32},
	{"global", "multicast.GlobalAddresses", "{}", "FF0E:", 255},
}

// parseMulticast reads the [multicast] section: the addresses of every
// scope up to ResolveScope, as liblsl gathers them, and the interfaces.
func (c *Config) parseMulticast(v *iniValues) error {
	c.ResolveScope = v.str("multicast.ResolveScope", "site")
	c.ListenAddress = v.str("multicast.ListenAddress", "")
	group := v.str("multicast.IPv6MulticastGroup", "113D:6FDD:2C17:A643:FFE2:1BD1:3CD2")
	var addrs []string
	known := false
	ttl := 0
	for _, l := range scopeLevels {
		set := v.set(l.key, l.defaults) // read every key, as liblsl does
		if known {
			continue
		}
		addrs = append(addrs, set...)
		if l.ipv6Prefix != "" {
			addrs = append(addrs, l.ipv6Prefix+group)
		}
		ttl = l.ttl
		known = l.name == c.ResolveScope
	}
	if !known {
		return fmt.Errorf("unsupported ResolveScope %q", c.ResolveScope)
	}
	if o := v.int("multicast.TTLOverride", -1); o >= 0 {
		ttl = o
	}
	if o := v.set("multicast.AddressesOverride", "{}"); len(o) > 0 {
		addrs = o
	}
	c.MulticastTTL = ttl
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("multicast address %q: %v", s, err)
		}
		if (a.Is4() && c.AllowIPv4) || (a.Is6() && c.AllowIPv6) {
			c.MulticastAddresses = append(c.MulticastAddresses, a)
		}
	}
	for _, s := range v.set("multicast.Interfaces", "{}") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("interface address %q: %v", s, err)
		}
		c.Interfaces = append(c.Interfaces, a)
	}
	return nil
}

// parseTuning reads the [tuning] section.
func (c *Config) parseTuning(v *iniValues) {
	c.UseProtocolVersion = min(110, v.int("tuning.UseProtocolVersion", 110))
	c.WatchdogCheckInterval = v.seconds("tuning.WatchdogCheckInterval", 15)
	c.WatchdogTimeThreshold = v.seconds("tuning.WatchdogTimeThreshold", 15)
	c.MulticastMinRTT = v.seconds("tuning.MulticastMinRTT", 0.5)
	c.MulticastMaxRTT = v.seconds("tuning.MulticastMaxRTT", 3)
	c.UnicastMinRTT = v.seconds("tuning.UnicastMinRTT", 0.75)
	c.UnicastMaxRTT = v.seconds("tuning.UnicastMaxRTT", 5)
	c.ContinuousResolveInterval = v.seconds("tuning.ContinuousResolveInterval", 0.5)
	c.TimeUpdateInterval = v.seconds("tuning.TimeUpdateInterval", 2)
	c.TimeUpdateMinProbes = v.int("tuning.TimeUpdateMinProbes", 6)
	c.TimeProbeCount = v.int("tuning.TimeProbeCount", 8)
	c.TimeProbeInterval = v.seconds("tuning.TimeProbeInterval", 0.064)
	c.TimeProbeMaxRTT = v.seconds("tuning.TimeProbeMaxRTT", 0.128)
	c.SmoothingHalftime = v.seconds("tuning.SmoothingHalftime", 90)
	c.ForceDefaultTimestamps = v.bool("tuning.ForceDefaultTimestamps", false)
}

// allowed reports whether an address may be used under LoopbackOnly.
func (c *Config) allowed(a netip.Addr) bool {
	return !c.LoopbackOnly || a.Unmap().IsLoopback()
}

// interfaceAddrs returns the local addresses multicast is sent from: the
// configured Interfaces, else every address of an up, multicast-capable
// interface, else the unspecified addresses (the OS picks).
func (c *Config) interfaceAddrs() []netip.Addr {
	if len(c.Interfaces) > 0 {
		return c.Interfaces
	}
	var out []netip.Addr
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
					ip = ip.Unmap()
					if ip.Is6() {
						ip = ip.WithZone(ifc.Name)
					}
					out = append(out, ip)
				}
			}
		}
	}
	if len(out) == 0 {
		out = []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	}
	return out
}
