package lsl

import (
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bci-decode/bci-decode/internal/shareddata"
)

func TestConfigDefaultsAreLiblsls(t *testing.T) {
	c := DefaultConfig()
	if c.MulticastPort != 16571 || c.BasePort != 16572 || c.PortRange != 32 || !c.AllowIPv4 || !c.AllowIPv6 || c.ResolveScope != "site" ||
		c.MulticastTTL != 24 || c.SessionID != "default" || len(c.KnownPeers) != 0 || c.TimeProbeCount != 8 || c.TimeUpdateMinProbes != 6 ||
		c.TimeProbeInterval != 64*time.Millisecond || c.MulticastMinRTT != 500*time.Millisecond || c.SmoothingHalftime != 90*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
	var got []string
	for _, a := range c.MulticastAddresses {
		got = append(got, a.String())
	}
	want := "127.0.0.1 255.255.255.255 224.0.0.1 224.0.0.183 ff02:113d:6fdd:2c17:a643:ffe2:1bd1:3cd2 239.255.172.215 ff05:113d:6fdd:2c17:a643:ffe2:1bd1:3cd2"
	if strings.Join(got, " ") != want {
		t.Fatalf("site-scope addresses %q, want %q", strings.Join(got, " "), want)
	}
}

func TestConfigLoopbackFileAndEnv(t *testing.T) {
	path := shareddata.Path(t, "peers", "lsl_loopback.cfg")
	t.Setenv(ConfigEnv, path)
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Source != path || c.AllowIPv6 || c.ResolveScope != "machine" || c.MulticastTTL != 0 ||
		len(c.MulticastAddresses) != 1 || c.MulticastAddresses[0] != netip.MustParseAddr("127.0.0.1") ||
		len(c.KnownPeers) != 1 || c.KnownPeers[0] != "127.0.0.1" || len(c.Interfaces) != 1 {
		t.Fatalf("lsl_loopback.cfg read as %+v", c)
	}
	t.Setenv(ConfigEnv, filepath.Join(t.TempDir(), "missing.cfg"))
	if _, err := LoadConfig(); !errors.Is(err, ErrConfig) {
		t.Fatalf("a missing LSLAPICFG file: %v", err)
	}
}

func TestConfigParse(t *testing.T) {
	in := "; comment\n[ports]\nBasePort = 17000\nPortRange = 4\nIPv6 = force\nAllowRandomPorts = true\n[multicast]\nResolveScope = link\n" +
		"[lab]\nSessionID = lab7\nKnownPeers = {a.example, 10.0.0.1}\n[tuning]\nTimeProbeMaxRTT = 0.25\n"
	c, err := ParseConfig(strings.NewReader(in), "x.cfg")
	if err != nil {
		t.Fatal(err)
	}
	// liblsl reads booleans as true only for "1"
	if c.BasePort != 17000 || c.PortRange != 4 || c.AllowIPv4 || !c.AllowIPv6 || c.AllowRandomPorts || c.SessionID != "lab7" ||
		len(c.KnownPeers) != 2 || c.MulticastTTL != 1 || c.TimeProbeMaxRTT != 250*time.Millisecond {
		t.Fatalf("parsed %+v", c)
	}
	for _, a := range c.MulticastAddresses {
		if a.Is4() {
			t.Fatalf("IPv6 forced but %v kept", a)
		}
	}
	for _, bad := range []string{"[ports\nBasePort=1\n", "BasePort\n", "[ports]\nIPv6 = maybe\n", "[ports]\nBasePort = x\n", "[multicast]\nResolveScope = moon\n", "[a]\nk=1\nk=2\n", "[multicast]\nAddressesOverride = {999.1.1.1}\n"} {
		if _, err := ParseConfig(strings.NewReader(bad), "bad.cfg"); !errors.Is(err, ErrConfig) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestConfigSearchOrder(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ConfigEnv, "")
	t.Setenv("HOME", dir)
	if err := os.WriteFile("lsl_api.cfg", []byte("[lab]\nSessionID = cwd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "lsl_api"), 0o755)
	os.WriteFile(filepath.Join(dir, "lsl_api", "lsl_api.cfg"), []byte("[lab]\nSessionID = home\n"), 0o644)
	if c, err := LoadConfig(); err != nil || c.SessionID != "cwd" {
		t.Fatalf("working directory file: %v %v", c, err)
	}
	os.Remove("lsl_api.cfg")
	if c, err := LoadConfig(); err != nil || c.SessionID != "home" {
		t.Fatalf("home file: %v %v", c, err)
	}
}

func TestShortInfoMatchesLiblsl(t *testing.T) {
	// The shortinfo liblsl 1.16.2 sent for SendData (captured), rebuilt
	// from its fields, byte for byte.
	s, err := ParseStreamInfo([]byte(liblslShortInfo))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.ShortInfoXML()); got != liblslShortInfo {
		t.Fatalf("our shortinfo:\n%q\nliblsl's:\n%q", got, liblslShortInfo)
	}
	s.SetChannels([]Channel{{"C3", "microvolts", "EEG"}})
	s.Desc.AppendValue("manufacturer", "A&B <x>")
	want := "\t<desc>\n\t\t<channels>\n\t\t\t<channel>\n\t\t\t\t<label>C3</label>\n\t\t\t\t<unit>microvolts</unit>\n\t\t\t\t<type>EEG</type>\n\t\t\t</channel>\n\t\t</channels>\n\t\t<manufacturer>A&amp;B &lt;x&gt;</manufacturer>\n\t</desc>\n</info>\n"
	if got := string(s.FullInfoXML()); !strings.HasSuffix(got, want) {
		t.Fatalf("fullinfo:\n%s", got)
	}
}

func TestQueries(t *testing.T) {
	info := StreamInfo{Name: "bci-eeg", Type: "EEG", ChannelCount: 16, NominalRate: 250, Format: Float32, SourceID: "amp-7", Version: 110, UID: "u", SessionID: "default"}
	info.SetChannels([]Channel{{"C3", "uV", "EEG"}, {"C4", "uV", "EEG"}})
	cases := map[string]bool{
		"":                                true,
		"name='bci-eeg'":                  true,
		"name=\"bci-eeg\"":                true,
		"name='other'":                    false,
		"type='EEG' and channel_count>8":  true,
		"type='EEG' and channel_count>16": false,
		"channel_count>=16 and channel_count<=16": true,
		"channel_count='16'":                      true,
		"nominal_srate=250":                       true,
		"nominal_srate='250'":                     false, // string comparison with "250.0000000000000"
		"starts-with(name,'bci')":                 true,
		"starts-with(name,'eeg')":                 false,
		"contains(source_id, 'mp-')":              true,
		"not(type='Markers')":                     true,
		"type='Markers' or (name='bci-eeg' and not(channel_count<4))": true,
		"source_id='amp-7'":                                   true,
		"source_id!='amp-7'":                                  false,
		"missing_field!='x'":                                  false, // empty node-set: no node differs
		"desc/channels/channel/label='C4'":                    true,
		"desc/channels/channel/label='Cz'":                    false,
		"count(desc/channels/channel)=2":                      true,
		"channel_count div 4 = 4 and channel_count mod 5 = 1": true,
		"-channel_count < 0":                                  true,
		"channel_count * 2 = 32":                              true,
		"session_id='default' and (type='EEG')":               true,
		"concat(name,'/',type)='bci-eeg/EEG'":                 true,
		"string-length(name)=7":                               true,
		"normalize-space('  a  b ')='a b'":                    true,
		"boolean(desc/channels)":                              true,
		"true() and not(false())":                             true,
	}
	for q, want := range cases {
		c, err := ParseQuery(q)
		if err != nil {
			t.Errorf("%q: %v", q, err)
			continue
		}
		if got := c.Matches(&info); got != want {
			t.Errorf("%q matched %v, want %v", q, got, want)
		}
	}
	for q, why := range map[string]string{
		"//name='x'":          "'//'",
		"/info/name='x'":      "absolute path",
		"name[1]='x'":         "bracketed predicates",
		"@id='x'":             "attributes",
		"name | type":         "unions",
		"$v=1":                "variables",
		"ends-with(name,'x')": "ends-with() at 0 is not supported",
		"child::name='x'":     "axes",
		"name='x":             "unterminated literal",
		"name=":               "unexpected end of predicate",
		"(name='x'":           "expected ')'",
		"starts-with(name)":   "takes 2..2 arguments",
	} {
		_, err := ParseQuery(q)
		if !errors.Is(err, ErrQuerySyntax) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: error %v, want one saying %q", q, err, why)
		}
	}
}

func TestCppNumberParsing(t *testing.T) {
	if v, err := cppStod(" 100.0000000000000"); err != nil || v != 100 {
		t.Fatal(v, err)
	}
	if v, err := cppStod("1.5e3xyz"); err != nil || v != 1500 {
		t.Fatal(v, err)
	}
	if _, err := cppStod("abc"); err == nil {
		t.Fatal("abc parsed")
	}
	if v, err := cppStoi("42abc"); err != nil || v != 42 {
		t.Fatal(v, err)
	}
	if _, err := cppStoi("99999999999"); err == nil {
		t.Fatal("overflow accepted")
	}
}

// TestStampProcessor: jitter is smoothed, lost samples are counted as a
// gap, and backward or huge jumps are counted and not passed on.
func TestStampProcessor(t *testing.T) {
	const rate = 100.0
	p := newStampProcessor(rate, 0.05, 10, 90)
	var out []float64
	jit := func(i int) float64 { return 0.002 * math.Sin(float64(i)*1.7) }
	for i := 0; i < 1000; i++ {
		out = append(out, p.process(5000+float64(i)/rate+jit(i), false))
		if p.lost != 0 || p.jumped {
			t.Fatalf("sample %d: lost %d jumped %v", i, p.lost, p.jumped)
		}
	}
	// after convergence the output is within a fraction of the jitter
	for i := 500; i < 1000; i++ {
		if e := math.Abs(out[i] - (5000 + float64(i)/rate)); e > 0.0005 {
			t.Fatalf("sample %d: de-jittered error %v", i, e)
		}
	}
	// 20 samples lost
	v := p.process(5000+float64(1020)/rate, false)
	if p.lost != 20 || p.jumped || math.Abs(v-(5000+10.2)) > 0.001 {
		t.Fatalf("gap: lost %d jumped %v v %v", p.lost, p.jumped, v)
	}
	last := v
	// the sender's clock steps back by 100 s: a jump, not passed on
	v = p.process(4900+float64(1021)/rate, false)
	if !p.jumped || v < last || v-last > 0.02 {
		t.Fatalf("backward jump: jumped %v, out %v after %v", p.jumped, v, last)
	}
	// and the timeline goes on from there
	for i := 1022; i < 1100; i++ {
		w := p.process(4900+float64(i)/rate, false)
		if p.jumped || w < v || w-v > 0.011 {
			t.Fatalf("after the jump, sample %d: %v after %v (jumped %v)", i, w, v, p.jumped)
		}
		v = w
	}
	// a forward leap beyond MaxGap is a jump too
	v2 := p.process(4900+float64(1100)/rate+60, false)
	if !p.jumped || v2-v > 0.02 {
		t.Fatalf("forward jump: jumped %v, %v after %v", p.jumped, v2, v)
	}
}
