// SPDX-License-Identifier: GPL-2.0-only
/*
 * flood: floods stdout with output the host can regenerate exactly, to
 * prove the harness's channel from the guest (tests/test_guest_channel.py).
 *
 *   flood bytes N   N bytes: a 64 KiB block of xorshift64 output (every
 *                   byte value occurs), repeated with block k rotated left
 *                   by (k * 4099) % 65536 bytes, so no two of the first
 *                   16 blocks are alike; written 64 KiB at a time.
 *   flood lines N   lines "flood NNNNNNNN\n" for 0..N-1, one write() each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 65536
#define STEP 4099

static int write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t done = write(1, buf, len);

		if (done < 0)
			return -1;
		buf += done;
		len -= done;
	}
	return 0;
}

static int flood_bytes(unsigned long long n)
{
	static char base[BLOCK], out[BLOCK];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned long long k;
	size_t i, r, len;

	for (i = 0; i < BLOCK; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		for (r = 0; r < 8; r++)
			base[i + r] = (char)(x >> (8 * r));
	}
	for (k = 0; n; k++) {
		r = (k * STEP) % BLOCK;
		memcpy(out, base + r, BLOCK - r);
		memcpy(out + BLOCK - r, base, r);
		len = n < BLOCK ? n : BLOCK;
		if (write_all(out, len))
			return -1;
		n -= len;
	}
	return 0;
}

static int flood_lines(unsigned long long n)
{
	char line[32];
	unsigned long long i;

	for (i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "flood %08llu\n", i);

		if (write_all(line, len))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long n;
	int err;

	if (argc != 3) {
		fprintf(stderr, "usage: flood bytes|lines N\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 0);
	if (!strcmp(argv[1], "bytes"))
		err = flood_bytes(n);
	else if (!strcmp(argv[1], "lines"))
		err = flood_lines(n);
	else
		return 2;
	if (err) {
		perror("flood: write");
		return 1;
	}
	return 0;
}
