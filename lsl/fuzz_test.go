package lsl

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
)

// Fuzz targets for every parser that reads bytes from the network.
// Corpora live in testdata/fuzz/<target>.

const liblslShortInfo = "<?xml version=\"1.0\"?>\n<info>\n\t<name>probe</name>\n\t<type>EEG</type>\n\t<channel_count>8</channel_count>\n\t<channel_format>float32</channel_format>\n\t<source_id>probeEEG</source_id>\n\t<nominal_srate>100.0000000000000</nominal_srate>\n\t<version>1.100000000000000</version>\n\t<created_at>8172.318719635000</created_at>\n\t<uid>83f648eb-b148-4252-8dc4-1788cbb1e8e9</uid>\n\t<session_id>default</session_id>\n\t<hostname>vm</hostname>\n\t<v4address></v4address>\n\t<v4data_port>16572</v4data_port>\n\t<v4service_port>16572</v4service_port>\n\t<v6address></v6address>\n\t<v6data_port>0</v6data_port>\n\t<v6service_port>0</v6service_port>\n\t<desc />\n</info>\n"

// FuzzServerHandshake: what an outlet reads from a connecting client.
func FuzzServerHandshake(f *testing.F) {
	f.Add([]byte(string(appendFeedRequest(nil, inletRequest{uid: "83f648eb-b148-4252-8dc4-1788cbb1e8e9", format: Float32, maxBuffer: 360, hostname: "h", sourceID: "s", sessionID: "default"}))))
	f.Add([]byte("LSL:fullinfo\r\n"))
	f.Add([]byte("LSL:shortinfo\r\nname='x'\r\n"))
	f.Add([]byte("LSL:streamfeed\r\n360 0\r\n"))
	f.Add([]byte("LSL:streamfeed/110 uid\r\nMax-Buffer-Length: 12 ; comment\r\nValue-Size: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := readFeedRequest(bufio.NewReaderSize(bytes.NewReader(data), 4096))
		if err != nil {
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("error %v is not ErrHandshake", err)
			}
			return
		}
		switch req.method {
		case "fullinfo", "shortinfo", "streamfeed":
		default:
			t.Fatalf("accepted method %q", req.method)
		}
	})
}

// FuzzClientHandshake: what an inlet reads from an outlet, response and
// test patterns.
func FuzzClientHandshake(f *testing.F) {
	const uid = "83f648eb-b148-4252-8dc4-1788cbb1e8e9"
	for _, fm := range []Format{Float32, String, Int16, Double64} {
		b := appendFeedResponse(nil, feedParams{uid: uid, byteOrder: 1234, protocol: 110})
		f.Add(append(b, patterns(fm, 3)...), byte(fm))
	}
	f.Add([]byte("LSL/110 404 Not found"), byte(Float32))
	f.Add([]byte("LSL/110 200 OK\r\nByte-Order: 4321\r\nSuppress-Subnormals: 1\r\nData-Protocol-Version: 110\r\n\r\n"), byte(Int32))
	f.Fuzz(func(t *testing.T, data []byte, fb byte) {
		fm := Format(fb%7 + 1)
		br := bufio.NewReaderSize(bytes.NewReader(data), 4096)
		p, err := readFeedResponse(br, uid, fm.Size())
		if err != nil {
			return
		}
		if p.protocol != 110 {
			t.Fatalf("accepted data protocol %d", p.protocol)
		}
		sr := newSampleReader(br, fm, 3, 100, 1<<16)
		sr.reverse = p.byteOrder == 4321
		sr.suppress = p.suppress
		if err := checkTestPatterns(sr); err != nil && !errors.Is(err, ErrHandshake) {
			t.Fatalf("test-pattern error %v is not ErrHandshake", err)
		}
	})
}

// FuzzStreamInfo: the stream-info XML. What parses must survive our own
// writing and parsing unchanged.
func FuzzStreamInfo(f *testing.F) {
	f.Add([]byte(liblslShortInfo))
	info := StreamInfo{Name: "a<b>&c", Type: "EEG", ChannelCount: 3, NominalRate: 1.0 / 3, Format: Int16, SourceID: "x\ty", Version: 110, UID: "u", CreatedAt: 12.5}
	info.SetChannels([]Channel{{"C3", "uV", "EEG"}, {"C4", "uV", "EEG"}, {"\x01", "", ""}})
	f.Add(info.FullInfoXML())
	f.Add([]byte("<info><name>x</name><channel_count>1</channel_count><channel_format>int8</channel_format><nominal_srate>0</nominal_srate><version>1.1</version><uid>u</uid><created_at>0</created_at><v4data_port>0</v4data_port><v4service_port>0</v4service_port><v6data_port>0</v6data_port><v6service_port>0</v6service_port></info>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStreamInfo(data)
		if err != nil {
			if !errors.Is(err, ErrBadInfo) {
				t.Fatalf("error %v is not ErrBadInfo", err)
			}
			return
		}
		again, err := ParseStreamInfo(s.FullInfoXML())
		if err != nil {
			t.Fatalf("our own XML of a parsed info does not parse: %v\n%s", err, s.FullInfoXML())
		}
		if again.Name != s.Name || again.Type != s.Type || again.ChannelCount != s.ChannelCount || again.Format != s.Format ||
			math.Float64bits(again.NominalRate) != math.Float64bits(s.NominalRate) || again.UID != s.UID || again.SourceID != s.SourceID ||
			again.V4DataPort != s.V4DataPort || again.Version != s.Version {
			t.Fatalf("round trip changed the info:\n%+v\n%+v", s, again)
		}
	})
}

// FuzzQuery: the predicate parser and evaluator.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"name='X'", "type='EEG' and channel_count>8", "starts-with(name,'bci') or not(contains(type,\"Marker\"))",
		"session_id='default' and (source_id='a' or nominal_srate >= 100.5)", "desc/channels/channel/label='C3'", "count(desc/channels/channel) = 8",
		"-(channel_count) div 2 mod 3 < 1", "concat(name, '-', type) = 'probe-EEG'", "//name", "name[1]", "@x", "name | type", "*/x != 'y'"} {
		f.Add(q)
	}
	root, err := parseXMLDocument([]byte(liblslShortInfo))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		c, err := ParseQuery(q)
		if err != nil {
			if !errors.Is(err, ErrQuerySyntax) {
				t.Fatalf("error %v is not ErrQuerySyntax", err)
			}
			return
		}
		_ = c.MatchesElement(root)
	})
}

// FuzzSampleDecoder: the sample stream after the handshake.
func FuzzSampleDecoder(f *testing.F) {
	var b []byte
	b = appendStamp(b, false, 1.5)
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(2.5))
	b = appendStamp(b, true, 0)
	b = binary.LittleEndian.AppendUint32(b, 7)
	f.Add(b, byte(Float32), byte(1), false)
	f.Add(appendStrings(appendStamp(nil, false, 3), []string{"a", string(make([]byte, 300))}), byte(String), byte(2), false)
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 1}, byte(Int16), byte(1), true)
	f.Fuzz(func(t *testing.T, data []byte, fb, nchb byte, reverse bool) {
		fm := Format(fb%7 + 1)
		nch := int(nchb%16) + 1
		sr := newSampleReader(bufio.NewReaderSize(bytes.NewReader(data), 4096), fm, nch, 250, 1<<12)
		sr.reverse = reverse
		sr.suppress = reverse
		vals := make([]byte, nch*fm.Size())
		strs := make([]string, nch)
		for i := 0; ; i++ {
			_, err := sr.readStamp()
			if err == nil {
				if fm == String {
					err = sr.readStrings(strs)
					for _, s := range strs {
						if len(s) > 1<<12 {
							t.Fatalf("string of %d bytes passed the limit", len(s))
						}
					}
				} else {
					err = sr.readNumeric(vals)
				}
			}
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrBadStream) {
					t.Fatalf("error %v is neither EOF nor ErrBadStream", err)
				}
				return
			}
			if i > len(data) {
				t.Fatalf("decoded more samples than bytes")
			}
		}
	})
}

// FuzzUDPMessages: discovery queries, time probes and their replies.
func FuzzUDPMessages(f *testing.F) {
	f.Add([]byte("LSL:shortinfo\r\nname='x'\r\n16600 1234\r\n"))
	f.Add([]byte("LSL:timedata\r\n17 123.25\r\n"))
	f.Add([]byte("1234\r\n" + liblslShortInfo))
	f.Add([]byte(" 17 123.25 124.5 124.75"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := parseUDPRequest(data); err == nil && r.method == "shortinfo" && r.returnPort == 0 {
			t.Fatal("accepted return port 0")
		}
		_, _, _ = parseQueryReply(data)
		_, _, _, _, _ = parseTimeReply(data)
	})
}
