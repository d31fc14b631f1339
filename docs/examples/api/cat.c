/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cat: write famrt files to standard output, 1 MiB at a time.
 *   cat PATH...
 * Uses the process-wide default connection (famrt_default).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/famrt.h>

int main(int argc, char **argv)
{
	enum { BLOCK = 1 << 20 };
	struct famrt *fs = famrt_default();
	char *buf = malloc(BLOCK);
	int status = 0;

	if (!fs) {
		fprintf(stderr, "cat: %s (%s)\n", strerror(errno),
			famrt_errmsg());
		return 1;
	}
	if (!buf)
		return 1;
	for (int i = 1; i < argc; i++) {
		struct famrt_file *f;
		uint64_t off = 0;
		ssize_t n;
		int rc = famrt_open(fs, argv[i], O_RDONLY, &f);

		if (rc) {
			fprintf(stderr, "cat: %s\n", famrt_errmsg());
			status = 1;
			continue;
		}
		/* famrt_pread returns 0 at the end of the file. */
		while ((n = famrt_pread(f, buf, BLOCK, off)) > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			off += (uint64_t)n;
		}
		if (n < 0) {
			fprintf(stderr, "cat: %s\n", famrt_errmsg());
			status = 1;
		}
		famrt_close(f);
	}
	free(buf);
	famrt_disconnect(fs);
	return status;
}
