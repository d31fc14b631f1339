/* SPDX-License-Identifier: Apache-2.0 */
/* Run a program from a test and capture what it does (tests only). */
#ifndef FAMRT_TEST_H_RUN_H
#define FAMRT_TEST_H_RUN_H

#include <stddef.h>

struct h_run_result {
	int status;  /* exit code, or 128 + signal */
	char *out;   /* stdout, NUL-terminated (empty if it went to a fd) */
	size_t out_len;
	char *err;   /* stderr, NUL-terminated */
	size_t err_len;
};

/*
 * Run argv (argv[0] looked up in PATH unless it has a '/') with environment
 * envp, feeding in[0..n) on its stdin; stdout goes to stdout_fd when that
 * is >= 0, else is captured, and stderr is captured. SIGPIPE is default in
 * the program and ignored here. With timeout_ms > 0, a program still
 * running after that long is killed (and said so on stderr). 0, or -errno
 * when it could not be started.
 */
int h_run(const char *const *argv, char *const *envp, const void *in,
	  size_t n, int stdout_fd, long timeout_ms, struct h_run_result *r);
void h_run_result_free(struct h_run_result *r);

#endif
