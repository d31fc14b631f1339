/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An ordinary program, linked with nothing of famrt, that reads a file the
 * way simple programs do: read() in fixed blocks, or pread() at random
 * block offsets. bench_shim runs it on a tmpfs file and, under the
 * LD_PRELOAD shim, on a famrt file holding the same bytes.
 *
 *   shim_reader PATH BLOCK seq|rand OPS
 *
 * Prints "ns_per_op X checksum Y" (the checksum proves the bytes were read
 * and makes the two arms comparable).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	size_t block;
	uint64_t ops, sum = 0, x = 88172645463325252ull, t0, t1, size, nblocks;
	struct stat st;
	char *buf;
	int fd, rnd;

	if (argc != 5) {
		fprintf(stderr, "usage: shim_reader PATH BLOCK seq|rand OPS\n");
		return 2;
	}
	block = strtoul(argv[2], NULL, 0);
	rnd = !strcmp(argv[3], "rand");
	ops = strtoull(argv[4], NULL, 0);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || !block || (uint64_t)st.st_size < block) {
		perror(argv[1]);
		return 1;
	}
	size = (uint64_t)st.st_size;
	nblocks = size / block;
	buf = aligned_alloc(4096, (block + 4095) & ~(size_t)4095);
	if (!buf)
		return 1;
	/* One untimed pass to warm caches and mappings. */
	for (uint64_t i = 0; i < nblocks && i < ops; i++)
		if (pread(fd, buf, block, (off_t)(i * block)) != (ssize_t)block)
			return 1;
	t0 = now_ns();
	for (uint64_t i = 0; i < ops; i++) {
		ssize_t n;

		if (rnd) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			n = pread(fd, buf, block,
				  (off_t)((x * 0x2545f4914f6cdd1dull) % nblocks *
					  block));
		} else {
			n = read(fd, buf, block);
			if (n == 0) {
				lseek(fd, 0, SEEK_SET);
				n = read(fd, buf, block);
			}
		}
		if (n <= 0)
			return 1;
		sum += (uint8_t)buf[0] + (uint8_t)buf[n - 1];
	}
	t1 = now_ns();
	printf("ns_per_op %.3f checksum %llu\n", (double)(t1 - t0) / (double)ops,
	       (unsigned long long)sum);
	close(fd);
	free(buf);
	return 0;
}
