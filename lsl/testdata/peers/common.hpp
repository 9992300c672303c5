// Shared by the interop peers: the deterministic test signal both these
// programs and the Go tests compute, so values can be compared bit for bit.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <lsl_cpp.h>

static inline uint64_t splitmix64(uint64_t x) {
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

// value bits of sample i, channel k
static inline uint64_t valbits(uint64_t i, uint64_t k, uint64_t nch) { return splitmix64(i * nch + k); }

static inline std::string strval(uint64_t i, uint64_t k, uint64_t nch) {
	uint64_t u = valbits(i, k, nch);
	std::string s = "s" + std::to_string(i) + "-" + std::to_string(k);
	// every 16th value is longer than 255 bytes (4-byte length prefix),
	// every 8th is empty
	if (u % 16 == 3) s += std::string(300 + u % 50, 'x');
	if (u % 8 == 5) s.clear();
	return s;
}

static inline lsl::channel_format_t parse_format(const std::string &f) {
	if (f == "float32") return lsl::cf_float32;
	if (f == "double64") return lsl::cf_double64;
	if (f == "string") return lsl::cf_string;
	if (f == "int32") return lsl::cf_int32;
	if (f == "int16") return lsl::cf_int16;
	if (f == "int8") return lsl::cf_int8;
	if (f == "int64") return lsl::cf_int64;
	throw std::runtime_error("unknown format " + f);
}

static inline int format_size(lsl::channel_format_t f) {
	switch (f) {
	case lsl::cf_float32: case lsl::cf_int32: return 4;
	case lsl::cf_double64: case lsl::cf_int64: return 8;
	case lsl::cf_int16: return 2;
	case lsl::cf_int8: return 1;
	default: return 0;
	}
}

// the stamp of sample i in "stamped" mode: irregular steps, so that every
// stamp travels in full
static inline double stampof(uint64_t i, double rate) {
	return 1000.0 + (double)i / rate + (double)(splitmix64(i) % 1000) * 1e-9;
}
