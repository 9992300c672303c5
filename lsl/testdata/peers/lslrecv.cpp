// lslrecv PREDICATE COUNT [TIMEOUT]
// Resolves a stream by predicate, prints its info, receives COUNT samples
// and prints each exactly: "S <stamp as %a> <value>..." with numbers as
// hexadecimal bit patterns (floats) or decimal integers and strings as
// hex-encoded bytes. Ends with "T <time correction as %a>".
#include "common.hpp"
#include <cstdio>
#include <iostream>
#include <vector>

int main(int argc, char **argv) {
	if (argc < 3) { std::cerr << "usage: lslrecv PREDICATE COUNT [TIMEOUT]\n"; return 2; }
	long count = std::stol(argv[2]);
	double timeout = argc > 3 ? std::stod(argv[3]) : 20;
	auto found = lsl::resolve_stream(argv[1], 1, timeout);
	if (found.empty()) { std::cerr << "not found\n"; return 1; }
	lsl::stream_info info = found[0];
	std::printf("I %s|%s|%d|%a|%s|%s|%s\n", info.name().c_str(), info.type().c_str(), info.channel_count(),
		info.nominal_srate(), info.source_id().c_str(), info.uid().c_str(), info.hostname().c_str());
	std::fflush(stdout);
	lsl::stream_inlet inlet(info, 360, 0, false);
	inlet.open_stream(timeout);
	lsl::stream_info full = inlet.info(timeout);
	std::printf("L");
	auto ch = full.desc().child("channels").child("channel");
	for (; !ch.empty(); ch = ch.next_sibling("channel")) std::printf(" %s", ch.child_value("label"));
	std::printf("\n");
	int nch = info.channel_count();
	auto fmt = info.channel_format();
	std::vector<float> f(nch); std::vector<double> d(nch); std::vector<int32_t> i32(nch);
	std::vector<int16_t> i16(nch); std::vector<char> i8(nch); std::vector<int64_t> i64(nch);
	std::vector<std::string> s(nch);
	for (long n = 0; n < count; n++) {
		double ts = 0;
		switch (fmt) {
		case lsl::cf_float32: ts = inlet.pull_sample(f, timeout); break;
		case lsl::cf_double64: ts = inlet.pull_sample(d, timeout); break;
		case lsl::cf_int32: ts = inlet.pull_sample(i32, timeout); break;
		case lsl::cf_int16: ts = inlet.pull_sample(i16, timeout); break;
		case lsl::cf_int8: ts = inlet.pull_sample(i8, timeout); break;
		case lsl::cf_int64: ts = inlet.pull_sample(i64, timeout); break;
		case lsl::cf_string: ts = inlet.pull_sample(s, timeout); break;
		default: return 3;
		}
		if (ts == 0) { std::cerr << "timeout after " << n << " samples\n"; return 1; }
		std::printf("S %a", ts);
		for (int k = 0; k < nch; k++) {
			switch (fmt) {
			case lsl::cf_float32: { uint32_t u; std::memcpy(&u, &f[k], 4); std::printf(" %08x", u); break; }
			case lsl::cf_double64: { uint64_t u; std::memcpy(&u, &d[k], 8); std::printf(" %016llx", (unsigned long long)u); break; }
			case lsl::cf_int32: std::printf(" %d", i32[k]); break;
			case lsl::cf_int16: std::printf(" %d", i16[k]); break;
			case lsl::cf_int8: std::printf(" %d", (int)(signed char)i8[k]); break;
			case lsl::cf_int64: std::printf(" %lld", (long long)i64[k]); break;
			default: {
				std::printf(" x");
				for (unsigned char c : s[k]) std::printf("%02x", c);
			}
			}
		}
		std::printf("\n");
	}
	std::printf("T %a\n", inlet.time_correction(timeout));
	std::fflush(stdout);
	return 0;
}
