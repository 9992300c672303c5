// Package modelfile is the on-disk container for trained decoders: a
// versioned binary envelope (magic, format version, decoder kind, JSON
// metadata, payload) sealed with a SHA-256 that doubles as the model's
// content hash. Every decoder kind (Kalman, Wiener, the spiking networks)
// stores its parameters inside the same envelope, so loading, hashing and
// corruption checks are written once.
//
// Layout, all integers little-endian:
//
//	magic    [4]byte  "BCIM"
//	version  uint16   currently 1
//	kindLen  uint16,  kind     [kindLen]byte   e.g. "kalman"
//	metaLen  uint32,  meta     [metaLen]byte   JSON object
//	dataLen  uint64,  payload  [dataLen]byte   kind-specific
//	sha256   [32]byte over every preceding byte
package modelfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Magic opens every model file.
const Magic = "BCIM"

// Version is the container version this package writes and reads.
const Version = 1

// Size limits keep a corrupt length field from asking for gigabytes.
const (
	maxMeta    = 16 << 20
	maxPayload = 4 << 30
)

// ErrCorrupt is wrapped by every error about a file that is not a valid
// model container.
var ErrCorrupt = errors.New("corrupt model file")

// Model is the decoded content of a model file.
type Model struct {
	// Kind names the decoder that owns Payload ("kalman", "wiener", "hifi"...).
	Kind string
	// Meta is free-form JSON metadata (architecture, training figures).
	Meta json.RawMessage
	// Payload holds the kind-specific parameters.
	Payload []byte
	// Hash is the hex SHA-256 of the file, its content hash.
	Hash string
}

// Encode serialises a model and returns the bytes and their content hash.
func Encode(kind string, meta any, payload []byte) ([]byte, string, error) {
	if len(kind) == 0 || len(kind) > 0xffff {
		return nil, "", fmt.Errorf("modelfile: kind %q has invalid length", kind)
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, "", fmt.Errorf("modelfile: encode metadata: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(Magic)
	le := binary.LittleEndian
	buf.Write(le.AppendUint16(nil, Version))
	buf.Write(le.AppendUint16(nil, uint16(len(kind))))
	buf.WriteString(kind)
	buf.Write(le.AppendUint32(nil, uint32(len(mb))))
	buf.Write(mb)
	buf.Write(le.AppendUint64(nil, uint64(len(payload))))
	buf.Write(payload)
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), hex.EncodeToString(sum[:]), nil
}

// ReadFile reads and verifies the model file at path.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	m, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Decode parses and verifies a model container held in memory.
func Decode(b []byte) (*Model, error) {
	r := reader{b: b}
	magic := r.bytes(4)
	if r.err != nil || string(magic) != Magic {
		return nil, fmt.Errorf("%w: byte 0: bad magic %q, want %q (not a bci-decode model)", ErrCorrupt, magic, Magic)
	}
	if v := r.u16(); r.err == nil && v != Version {
		return nil, fmt.Errorf("%w: byte 4: unsupported version %d (this build reads version %d)", ErrCorrupt, v, Version)
	}
	kind := string(r.bytes(int(r.u16())))
	metaLen := r.u32()
	if r.err == nil && metaLen > maxMeta {
		return nil, fmt.Errorf("%w: byte %d: metadata length %d exceeds %d", ErrCorrupt, r.off-4, metaLen, maxMeta)
	}
	meta := r.bytes(int(metaLen))
	dataLen := r.u64()
	if r.err == nil && dataLen > maxPayload {
		return nil, fmt.Errorf("%w: byte %d: payload length %d exceeds %d", ErrCorrupt, r.off-8, dataLen, uint64(maxPayload))
	}
	payload := r.bytes(int(dataLen))
	body := r.off
	sum := r.bytes(sha256.Size)
	if r.err != nil {
		return nil, fmt.Errorf("%w: truncated: the file has %d bytes, its fields need %d", ErrCorrupt, len(b), r.need)
	}
	if r.off != len(b) {
		return nil, fmt.Errorf("%w: %d unexpected bytes after byte %d", ErrCorrupt, len(b)-r.off, r.off)
	}
	want := sha256.Sum256(b[:body])
	if !bytes.Equal(sum, want[:]) {
		return nil, fmt.Errorf("%w: SHA-256 mismatch at byte %d: the file was altered or damaged", ErrCorrupt, body)
	}
	if !json.Valid(meta) {
		return nil, fmt.Errorf("%w: metadata is not valid JSON", ErrCorrupt)
	}
	return &Model{Kind: kind, Meta: json.RawMessage(meta), Payload: payload, Hash: hex.EncodeToString(sum)}, nil
}

// reader is a bounds-checked cursor; after the first short read every call
// returns zero values and err stays set.
type reader struct {
	b    []byte
	off  int
	need int
	err  error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.need = r.off + n
		r.err = io.ErrUnexpectedEOF
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u16() uint16 {
	p := r.bytes(2)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

func (r *reader) u32() uint32 {
	p := r.bytes(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (r *reader) u64() uint64 {
	p := r.bytes(8)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}
