/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An ordinary program (libc only, nothing of famrt linked in) for the VM
 * scenario: writes through a shared mapping of a file and msyncs the part
 * it wrote, the way databases and python's mmap.flush(off, len) do, then
 * checks bytes with read(). Under the preload shim on a famrt file on real
 * device-dax, this is what must work: the kernel refuses MS_SYNC on
 * device-dax, and a range that starts past the mapping's first page must
 * still be known as famrt's.
 *
 *   vm_mmapw write PATH OFF LEN SEED   map PATH whole, fill [OFF, OFF+LEN)
 *                                      with SEED's pattern, msync that
 *                                      range (from its page), munmap
 *   vm_mmapw check PATH OFF LEN SEED   read() the range and compare
 *
 * Exit 0 on success; 1 with a message naming the failing call otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint8_t pat(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed + i) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56);
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "vm_mmapw: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t off, len, seed, page = (uint64_t)sysconf(_SC_PAGESIZE);
	const char *path;
	struct stat st;
	int fd;

	if (argc != 6 || (strcmp(argv[1], "write") && strcmp(argv[1], "check"))) {
		fprintf(stderr,
			"usage: vm_mmapw write|check PATH OFF LEN SEED\n");
		return 2;
	}
	path = argv[2];
	off = strtoull(argv[3], NULL, 0);
	len = strtoull(argv[4], NULL, 0);
	seed = strtoull(argv[5], NULL, 0);
	fd = open(path, argv[1][0] == 'w' ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return fail("open", path);
	if (fstat(fd, &st))
		return fail("fstat", path);
	if (!len || off + len < off || off + len > (uint64_t)st.st_size) {
		fprintf(stderr, "vm_mmapw: %s: range outside the file (%lld "
				"bytes)\n",
			path, (long long)st.st_size);
		return 1;
	}
	if (argv[1][0] == 'w') {
		uint8_t *p = mmap(NULL, (size_t)st.st_size,
				  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		uint64_t from = off / page * page;

		if (p == MAP_FAILED)
			return fail("mmap", path);
		for (uint64_t i = 0; i < len; i++)
			p[off + i] = pat(seed, off + i);
		if (msync(p + from, (size_t)(off + len - from), MS_SYNC))
			return fail("msync of part of the mapping of", path);
		if (munmap(p, (size_t)st.st_size))
			return fail("munmap", path);
	} else {
		uint8_t *b = malloc((size_t)len);
		ssize_t n;

		if (!b)
			return fail("malloc for", path);
		n = pread(fd, b, (size_t)len, (off_t)off);
		if (n != (ssize_t)len)
			return fail("pread", path);
		for (uint64_t i = 0; i < len; i++)
			if (b[i] != pat(seed, off + i)) {
				fprintf(stderr,
					"vm_mmapw: %s: byte %llu is 0x%02x, "
					"expected 0x%02x\n",
					path, (unsigned long long)(off + i),
					b[i], pat(seed, off + i));
				return 1;
			}
		free(b);
	}
	if (close(fd))
		return fail("close", path);
	return 0;
}
