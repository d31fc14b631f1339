/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mapsum: map a famrt file and checksum it through the pointer
 * (64-bit FNV-1a).
 *   mapsum PATH [OFFSET [LENGTH]]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <famrt/famrt.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "mapsum: %s: %s (%s)\n", what, strerror(-rc),
		famrt_errmsg());
	return 1;
}

int main(int argc, char **argv)
{
	struct famrt *fs;
	struct famrt_file *f;
	uint64_t off, len, h = 0xcbf29ce484222325ull;
	const unsigned char *p;
	void *addr;
	int rc;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: mapsum PATH [OFFSET [LENGTH]]\n");
		return 2;
	}
	rc = famrt_connect(&fs, NULL);
	if (rc)
		return fail("connect", rc);
	rc = famrt_open(fs, argv[1], O_RDONLY, &f);
	if (rc)
		return fail(argv[1], rc);
	off = argc > 2 ? strtoull(argv[2], NULL, 0) : 0;
	len = argc > 3 ? strtoull(argv[3], NULL, 0) : 0; /* 0: to the end */
	rc = famrt_mmap(f, off, (size_t)len, PROT_READ, &addr);
	if (rc)
		return fail("mmap", rc);
	if (!len)
		len = famrt_file_size(f) - off;
	/* The mapping outlives the handle; only famrt_munmap ends it. */
	famrt_close(f);
	p = addr;
	for (uint64_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	printf("%016" PRIx64 " %" PRIu64 "\n", h, len);
	rc = famrt_munmap(fs, addr);
	if (rc)
		return fail("munmap", rc);
	return famrt_disconnect(fs) ? 1 : 0;
}
