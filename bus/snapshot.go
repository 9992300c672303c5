package bus

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/bci-decode/bci-decode/acquire"
	"github.com/bci-decode/bci-decode/decoder"
)

// Snapshot messages, little-endian: magic "BCIS", version uint8 (1), seq
// uint64 (the last bin the state includes), model hash (uint16 length +
// bytes), state (uint32 length + bytes, decoder.StateSaver's form), CRC-32
// (IEEE) of the preceding bytes.
const (
	snapshotMagic   = "BCIS"
	snapshotVersion = 1
)

// AppendSnapshot appends a checkpoint of st, taken after bin seq of a
// stream decoded by model, to dst.
func AppendSnapshot(dst []byte, seq uint64, model string, st decoder.StateSaver) []byte {
	le := binary.LittleEndian
	start := len(dst)
	dst = append(dst, snapshotMagic...)
	dst = append(dst, snapshotVersion)
	dst = le.AppendUint64(dst, seq)
	dst = le.AppendUint16(dst, uint16(len(model)))
	dst = append(dst, model...)
	lenAt := len(dst)
	dst = le.AppendUint32(dst, 0)
	dst = st.AppendState(dst)
	le.PutUint32(dst[lenAt:], uint32(len(dst)-lenAt-4))
	return le.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
}

// Snapshot is a decoded checkpoint.
type Snapshot struct {
	Seq   uint64
	Model string
	State []byte
}

// DecodeSnapshot parses a snapshot message.
func DecodeSnapshot(p []byte) (Snapshot, error) {
	le := binary.LittleEndian
	if len(p) < 4+1+8+2+4+4 || string(p[:4]) != snapshotMagic || p[4] != snapshotVersion {
		return Snapshot{}, fmt.Errorf("%w: not a snapshot message", acquire.ErrFormat)
	}
	body := len(p) - 4
	if crc32.ChecksumIEEE(p[:body]) != le.Uint32(p[body:]) {
		return Snapshot{}, fmt.Errorf("%w: snapshot checksum mismatch", acquire.ErrFormat)
	}
	off := 5
	s := Snapshot{Seq: le.Uint64(p[off:])}
	off += 8
	n := int(le.Uint16(p[off:]))
	off += 2
	if off+n+4 > body {
		return Snapshot{}, fmt.Errorf("%w: snapshot model hash overruns the message", acquire.ErrFormat)
	}
	s.Model = string(p[off : off+n])
	off += n
	m := int(le.Uint32(p[off:]))
	off += 4
	if off+m != body {
		return Snapshot{}, fmt.Errorf("%w: snapshot state of %d bytes does not fill the message", acquire.ErrFormat, m)
	}
	s.State = p[off : off+m]
	return s, nil
}
