/* SPDX-License-Identifier: Apache-2.0 */
/*
 * copy_in: copy standard input into a new famrt file whose size is not
 * known in advance (famrt_create_growing).
 *   copy_in PATH < data
 * Nobody sees PATH until famrt_close commits it with its final size; if
 * this program dies first, no file appears and no space is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <famrt/famrt.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "copy_in: %s: %s (%s)\n", what, strerror(-rc),
		famrt_errmsg());
	return 1;
}

int main(int argc, char **argv)
{
	struct famrt *fs;
	struct famrt_file *f;
	char buf[65536];
	uint64_t off = 0;
	ssize_t n;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: copy_in PATH < data\n");
		return 2;
	}
	rc = famrt_connect(&fs, NULL);
	if (rc)
		return fail("connect", rc);
	rc = famrt_create_growing(fs, argv[1], 0644, &f);
	if (rc)
		return fail(argv[1], rc);
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		/* Writing past the end grows a file being created. */
		ssize_t w = famrt_pwrite(f, buf, (size_t)n, off);

		if (w != n)
			return fail("pwrite", w < 0 ? (int)w : -EIO);
		off += (uint64_t)n;
	}
	/* The commit: from here on the size is fixed. */
	rc = famrt_close(f);
	if (rc)
		return fail("commit", rc);
	printf("%s: %llu bytes\n", argv[1], (unsigned long long)off);
	return famrt_disconnect(fs) ? 1 : 0;
}
