/* SPDX-License-Identifier: Apache-2.0 */
/*
 * share: pass a message from one host to another through a famrt file.
 *   share put PATH TEXT    write TEXT (and its length), then flush
 *   share get PATH         invalidate, then read and print it
 * PATH must exist (any file of at least 8 + strlen(TEXT) bytes). Writing
 * data is allowed on every host; only creating files needs the master.
 * Without famrt_flush on the writer and famrt_invalidate on the reader,
 * another host may see old bytes (on memory that is not cache-coherent
 * between hosts); on one host, other processes see writes at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/famrt.h>

static int fail(const char *what, int rc)
{
	fprintf(stderr, "share: %s: %s (%s)\n", what, strerror(-rc),
		famrt_errmsg());
	return 1;
}

static int put(struct famrt_file *f, const char *text)
{
	uint64_t len = strlen(text);
	ssize_t n;

	/* The text first, its length last: a reader never sees a length
	 * before the bytes it counts. */
	n = famrt_pwrite(f, text, len, 8);
	if (n == (ssize_t)len)
		n = famrt_pwrite(f, &len, sizeof(len), 0);
	if (n < 0)
		return fail("pwrite", (int)n);
	if (n != sizeof(len))
		return fail("pwrite", -EFBIG);
	n = famrt_flush(f, 0, 8 + len);
	return n ? fail("flush", (int)n) : 0;
}

static int get(struct famrt_file *f)
{
	uint64_t len = 0;
	char *text;
	int rc = famrt_invalidate(f, 0, 0); /* 0: to the end of the file */

	if (rc)
		return fail("invalidate", rc);
	if (famrt_pread(f, &len, sizeof(len), 0) != sizeof(len) ||
	    len > famrt_file_size(f) - 8)
		return fail("no message", -EINVAL);
	text = malloc(len + 1);
	if (!text)
		return 1;
	if (famrt_pread(f, text, len, 8) != (ssize_t)len) {
		free(text);
		return fail("pread", -EIO);
	}
	text[len] = '\0';
	printf("%s\n", text);
	free(text);
	return 0;
}

int main(int argc, char **argv)
{
	struct famrt *fs;
	struct famrt_file *f;
	int put_mode = argc == 4 && !strcmp(argv[1], "put");
	int rc, status;

	if (!put_mode && !(argc == 3 && !strcmp(argv[1], "get"))) {
		fprintf(stderr,
			"usage: share put PATH TEXT | share get PATH\n");
		return 2;
	}
	rc = famrt_connect(&fs, NULL);
	if (rc)
		return fail("connect", rc);
	rc = famrt_open(fs, argv[2], put_mode ? O_RDWR : O_RDONLY, &f);
	if (rc)
		return fail(argv[2], rc);
	status = put_mode ? put(f, argv[3]) : get(f);
	famrt_close(f);
	famrt_disconnect(fs);
	return status;
}
