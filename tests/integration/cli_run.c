/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"

extern char **environ;

const char *cli_famrt_path(void)
{
	static char path[4096];
	const char *dir = getenv("FAMRT_BIN_DIR");

	if (!dir) {
		fprintf(stderr, "FAMRT_BIN_DIR is not set (run under ctest)\n");
		abort();
	}
	snprintf(path, sizeof(path), "%s/tools/famrt/famrt", dir);
	return path;
}

int cli_run_fd(const char *const *args, const void *in, size_t n,
	       int stdout_fd, struct cli_result *r)
{
	const char *argv[256];
	size_t k = 0;

	memset(r, 0, sizeof(*r));
	argv[k++] = cli_famrt_path();
	for (; args && *args; args++) {
		if (k == 255)
			return -E2BIG;
		argv[k++] = *args;
	}
	argv[k] = NULL;
	return h_run(argv, environ, in, n, stdout_fd, 0, r);
}

int cli_run(const char *const *args, const void *in, size_t n,
	    struct cli_result *r)
{
	return cli_run_fd(args, in, n, -1, r);
}

void cli_result_free(struct cli_result *r)
{
	h_run_result_free(r);
}

size_t cli_count_lines(const char *s)
{
	size_t n = 0, len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			n++;
	if (len && s[len - 1] != '\n')
		n++;
	return n;
}
