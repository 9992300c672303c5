/* Writes a test EDF+ or BDF+ file with EDFlib, an independent writer, for
   acquire's reader tests: 3 signals at 256 Hz (2 s records of sine waves in
   uV, mV and uV) and two annotations. Usage: write FILE edf|bdf */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <edflib.h>

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: write FILE edf|bdf\n");
		return 2;
	}
	int bdf = strcmp(argv[2], "bdf") == 0;
	int h = edfopen_file_writeonly(argv[1], bdf ? EDFLIB_FILETYPE_BDFPLUS : EDFLIB_FILETYPE_EDFPLUS, 3);
	if (h < 0) {
		fprintf(stderr, "edfopen_file_writeonly: %d\n", h);
		return 1;
	}
	const char *labels[3] = {"C3", "C4", "EMG"};
	const char *dims[3] = {"uV", "mV", "uV"};
	double pmax[3] = {500, 2, 1000};
	for (int s = 0; s < 3; s++) {
		if (edf_set_samplefrequency(h, s, 256) || edf_set_physical_maximum(h, s, pmax[s]) ||
		    edf_set_physical_minimum(h, s, -pmax[s]) ||
		    edf_set_digital_maximum(h, s, bdf ? 8388607 : 32767) ||
		    edf_set_digital_minimum(h, s, bdf ? -8388608 : -32768) ||
		    edf_set_label(h, s, labels[s]) || edf_set_physical_dimension(h, s, dims[s])) {
			fprintf(stderr, "signal %d setup failed\n", s);
			return 1;
		}
	}
	double buf[256];
	for (int sec = 0; sec < 10; sec++) {
		for (int s = 0; s < 3; s++) {
			for (int i = 0; i < 256; i++) {
				double t = sec + i / 256.0;
				buf[i] = 0.5 * pmax[s] * sin(2 * M_PI * (5 + 5 * s) * t);
			}
			if (edfwrite_physical_samples(h, buf)) {
				fprintf(stderr, "write failed\n");
				return 1;
			}
		}
	}
	/* onsets and durations in units of 0.0001 s */
	edfwrite_annotation_utf8(h, 15000, 5000, "cue left");
	edfwrite_annotation_utf8(h, 62500, 0, "cue right");
	if (edfclose_file(h)) {
		fprintf(stderr, "close failed\n");
		return 1;
	}
	return 0;
}
