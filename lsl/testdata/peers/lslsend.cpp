// lslsend NAME TYPE FORMAT CHANNELS RATE COUNT MODE SOURCEID [CHUNK]
// Publishes COUNT samples of the deterministic test signal (common.hpp)
// once a consumer is connected, then lingers until stdin closes.
// MODE: stamped (push_chunk_multiplexed with a stamp per sample),
//       deduced (push_chunk_multiplexed with one stamp per chunk: liblsl
//                sends the later samples with the deduced tag),
//       sample  (push_sample with a stamp each).
// Prints "ready <uid>" once the outlet exists and "sent <n>" at the end.
#include "common.hpp"
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
	if (argc < 9) { std::cerr << "usage: lslsend NAME TYPE FORMAT CHANNELS RATE COUNT MODE SOURCEID [CHUNK]\n"; return 2; }
	std::string name = argv[1], type = argv[2], fmts = argv[3], mode = argv[7], sid = argv[8];
	int nch = std::stoi(argv[4]);
	double rate = std::stod(argv[5]);
	long count = std::stol(argv[6]);
	int chunk = argc > 9 ? std::stoi(argv[9]) : 10;
	auto fmt = parse_format(fmts);
	lsl::stream_info info(name, type, nch, rate, fmt, sid);
	info.desc().append_child_value("manufacturer", "bci-decode-test");
	auto chns = info.desc().append_child("channels");
	for (int k = 0; k < nch; k++)
		chns.append_child("channel").append_child_value("label", "ch" + std::to_string(k))
			.append_child_value("unit", "microvolts").append_child_value("type", type);
	lsl::stream_outlet outlet(info, 0, 360);
	std::cout << "ready " << outlet.info().uid() << std::endl;
	if (!outlet.wait_for_consumers(30)) { std::cerr << "no consumer\n"; return 1; }
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	int size = format_size(fmt);
	std::vector<char> raw((size_t)chunk * nch * (size ? size : 1));
	std::vector<std::string> strs((size_t)chunk * nch);
	std::vector<double> stamps(chunk);
	for (long i0 = 0; i0 < count; i0 += chunk) {
		long n = std::min<long>(chunk, count - i0);
		for (long j = 0; j < n; j++) {
			uint64_t i = i0 + j;
			stamps[j] = stampof(i, rate > 0 ? rate : 100);
			for (int k = 0; k < nch; k++) {
				uint64_t u = valbits(i, k, nch);
				if (fmt == lsl::cf_string) strs[j * nch + k] = strval(i, k, nch);
				else std::memcpy(&raw[(j * nch + k) * size], &u, size);
			}
		}
		if (mode == "sample") {
			for (long j = 0; j < n; j++) {
				if (fmt == lsl::cf_string) outlet.push_sample(&strs[j * nch], stamps[j]);
				else outlet.push_numeric_raw(&raw[j * nch * size], stamps[j]);
			}
		} else if (mode == "stamped") {
			if (fmt == lsl::cf_string) outlet.push_chunk_multiplexed(strs.data(), stamps.data(), n * nch);
			else if (fmt == lsl::cf_float32) outlet.push_chunk_multiplexed((const float *)raw.data(), stamps.data(), n * nch);
			else if (fmt == lsl::cf_double64) outlet.push_chunk_multiplexed((const double *)raw.data(), stamps.data(), n * nch);
			else if (fmt == lsl::cf_int32) outlet.push_chunk_multiplexed((const int32_t *)raw.data(), stamps.data(), n * nch);
			else if (fmt == lsl::cf_int16) outlet.push_chunk_multiplexed((const int16_t *)raw.data(), stamps.data(), n * nch);
			else if (fmt == lsl::cf_int8) outlet.push_chunk_multiplexed((const char *)raw.data(), stamps.data(), n * nch);
			else outlet.push_chunk_multiplexed((const int64_t *)raw.data(), stamps.data(), n * nch);
		} else if (mode == "deduced") {
			// one stamp for the chunk: its last sample's
			double ts = stamps[n - 1];
			if (fmt == lsl::cf_string) outlet.push_chunk_multiplexed(strs.data(), n * nch, ts);
			else if (fmt == lsl::cf_float32) outlet.push_chunk_multiplexed((const float *)raw.data(), n * nch, ts);
			else if (fmt == lsl::cf_double64) outlet.push_chunk_multiplexed((const double *)raw.data(), n * nch, ts);
			else if (fmt == lsl::cf_int32) outlet.push_chunk_multiplexed((const int32_t *)raw.data(), n * nch, ts);
			else if (fmt == lsl::cf_int16) outlet.push_chunk_multiplexed((const int16_t *)raw.data(), n * nch, ts);
			else if (fmt == lsl::cf_int8) outlet.push_chunk_multiplexed((const char *)raw.data(), n * nch, ts);
			else outlet.push_chunk_multiplexed((const int64_t *)raw.data(), n * nch, ts);
		} else { std::cerr << "bad mode\n"; return 2; }
		if ((i0 / chunk) % 10 == 9) std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	std::cout << "sent " << count << std::endl;
	std::string line;
	std::getline(std::cin, line); // linger until the test closes stdin
	return 0;
}
