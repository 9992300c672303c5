// lslpace NAME CHANNELS RATE SECONDS
// Publishes int16 samples one at a time in real time, each stamped with
// lsl::local_clock() as it is pushed, so a receiver on this machine can
// measure push-to-pull latency from the stamps. Starts once a consumer is
// connected; prints "done" at the end and lingers until stdin closes.
#include "common.hpp"
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
	if (argc < 5) { std::cerr << "usage: lslpace NAME CHANNELS RATE SECONDS\n"; return 2; }
	int nch = std::stoi(argv[2]);
	double rate = std::stod(argv[3]), seconds = std::stod(argv[4]);
	lsl::stream_info info(argv[1], "Pace", nch, rate, lsl::cf_int16, std::string("pace-") + argv[1]);
	lsl::stream_outlet outlet(info);
	std::cout << "ready" << std::endl;
	if (!outlet.wait_for_consumers(30)) return 1;
	std::vector<int16_t> sample(nch);
	auto period = std::chrono::nanoseconds((long long)(1e9 / rate));
	auto next = std::chrono::steady_clock::now();
	long n = (long)(rate * seconds);
	for (long i = 0; i < n; i++) {
		next += period;
		std::this_thread::sleep_until(next);
		for (int k = 0; k < nch; k++) sample[k] = (int16_t)(i + k);
		outlet.push_sample(sample, lsl::local_clock());
	}
	std::cout << "done" << std::endl;
	std::string line;
	std::getline(std::cin, line);
	return 0;
}
