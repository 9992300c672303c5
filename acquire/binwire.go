package acquire

import (
	"encoding/binary"
	"fmt"
)

// Bins travel on bci.<session>.bins (and are recorded in JetStream) as one
// self-describing binary message each, all integers little-endian:
//
//	magic     [4]byte "BCIB"
//	version   uint8   1
//	channels  uint32  number of features
//	targets   uint16  number of targets
//	record    the bin in the record layout of .bcr files:
//	          seq, start, end, trial, features, targets, CRC-32
const (
	BinMagic   = "BCIB"
	BinVersion = 1
	binHeader  = 4 + 1 + 4 + 2
)

// AppendBinMessage appends b as one bin message to dst.
func AppendBinMessage(dst []byte, b *Bin) []byte {
	dst = append(dst, BinMagic...)
	dst = append(dst, BinVersion)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b.Features)))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(b.Target)))
	return AppendRecord(dst, b)
}

// DecodeBinMessage parses a bin message into b, reusing b's slices. Errors
// wrap ErrFormat and say what is wrong with the message.
func DecodeBinMessage(p []byte, b *Bin) error {
	if len(p) < binHeader || string(p[:4]) != BinMagic {
		return fmt.Errorf("%w: not a bin message (bad magic or %d bytes)", ErrFormat, len(p))
	}
	if p[4] != BinVersion {
		return fmt.Errorf("%w: bin message version %d, this build reads %d", ErrFormat, p[4], BinVersion)
	}
	ch := binary.LittleEndian.Uint32(p[5:])
	tg := binary.LittleEndian.Uint16(p[9:])
	if ch > MaxChannels {
		return fmt.Errorf("%w: bin message declares %d channels", ErrFormat, ch)
	}
	return DecodeRecord(p[binHeader:], b, int(ch), int(tg))
}

// BinMessageSeq returns the sequence number of a bin message without
// decoding the rest; ok is false when p is not a bin message.
func BinMessageSeq(p []byte) (seq uint64, ok bool) {
	if len(p) < binHeader+8 || string(p[:4]) != BinMagic {
		return 0, false
	}
	return binary.LittleEndian.Uint64(p[binHeader:]), true
}
