/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A main() for fuzz targets in builds without libFuzzer: it runs
 * LLVMFuzzerTestOneInput once on every file named on the command line, and
 * on every regular file of every directory named there (in name order).
 * Arguments starting with '-' are libFuzzer flags and are ignored, so the
 * same command line works with both. Each input is copied into a buffer of
 * exactly its size, so a sanitizer sees any read past its end.
 *
 * Exit status: 0 when every input ran; 1 when nothing could be read (a
 * missing corpus must not pass for a clean one). A broken invariant aborts
 * inside the target.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int run_file(const char *path, size_t *count)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "fuzz: cannot read %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* malloc(0) may return NULL; always ask for at least one byte. */
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		fprintf(stderr, "fuzz: out of memory for %s\n", path);
		close(fd);
		return -1;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			fprintf(stderr, "fuzz: short read of %s\n", path);
			free(buf);
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	LLVMFuzzerTestOneInput(buf, done);
	free(buf);
	(*count)++;
	return 0;
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int run_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, skip_dot, alphasort);
	int rc = 0;

	if (n < 0) {
		fprintf(stderr, "fuzz: cannot list %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path, count) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz: %s: %s\n", argv[i],
				strerror(errno));
			rc = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) < 0)
				rc = 1;
		} else if (run_file(argv[i], &count) < 0) {
			rc = 1;
		}
	}
	fprintf(stderr, "fuzz: %s: %zu inputs ran\n", argv[0], count);
	if (count == 0) {
		fprintf(stderr, "fuzz: no input at all\n");
		rc = 1;
	}
	return rc;
}
