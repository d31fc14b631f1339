/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A library whose constructor reads a file: the program that links it
 * (pl_early) names the file as its first argument. The dynamic loader runs
 * this constructor before the constructor of a preloaded library that the
 * program does not depend on, so under LD_PRELOAD=libfamrt_preload.so it
 * reads a famrt file before the shim's own constructor has run. Plain:
 * nothing of famrt is linked in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char result[256] = "the constructor did not run";

const char *pl_early_result(void);
const char *pl_early_result(void)
{
	return result;
}

/* glibc passes argc, argv and envp to the constructors of libraries. */
__attribute__((constructor)) static void early(int argc, char **argv,
					       char **envp)
{
	uint64_t h = 0xcbf29ce484222325ull, total = 0;
	char buf[4096];
	ssize_t n;
	int fd;

	(void)envp;
	if (argc < 2) {
		snprintf(result, sizeof(result), "no file named");
		return;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0) {
		snprintf(result, sizeof(result), "early open: %s",
			 strerror(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ull;
		total += (uint64_t)n;
	}
	if (n < 0)
		snprintf(result, sizeof(result), "early read: %s",
			 strerror(errno));
	else
		snprintf(result, sizeof(result),
			 "early: %llu bytes, fnv1a %016llx",
			 (unsigned long long)total, (unsigned long long)h);
	close(fd);
}
