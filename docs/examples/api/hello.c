/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello: create a famrt file, write it, read it back.
 *   hello PATH
 * The service is found from the environment (FAMRT_SOCKET, FAMRT_FS or the
 * only socket in /run/famrt).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <famrt/famrt.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "hello: %s: %s (%s)\n", what, strerror(-rc),
		famrt_errmsg());
	return 1;
}

int main(int argc, char **argv)
{
	static const char text[] = "hello, fabric memory\n";
	struct famrt *fs;
	struct famrt_file *f;
	char buf[64] = { 0 };
	ssize_t n;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: hello PATH\n");
		return 2;
	}
	rc = famrt_connect(&fs, NULL);
	if (rc)
		return fail("connect", rc);
	/* 4 KiB, fixed for the file's life; NULL: simple layout. */
	rc = famrt_create(fs, argv[1], 0644, 4096, NULL, &f);
	if (rc)
		return fail(argv[1], rc);
	n = famrt_pwrite(f, text, sizeof(text) - 1, 0);
	if (n < 0)
		return fail("pwrite", (int)n);
	/* Write the bytes back to memory: for other hosts, and power loss. */
	rc = famrt_fsync(f);
	if (rc)
		return fail("fsync", rc);
	n = famrt_pread(f, buf, sizeof(text) - 1, 0);
	if (n < 0)
		return fail("pread", (int)n);
	printf("%s is %llu bytes and starts with: %s", argv[1],
	       (unsigned long long)famrt_file_size(f), buf);
	famrt_close(f);
	rc = famrt_disconnect(fs);
	return rc ? fail("disconnect", rc) : 0;
}
