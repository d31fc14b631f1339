/* SPDX-License-Identifier: Apache-2.0 */
/* Run the built famrt binary and capture what it does. */
#ifndef FAMRT_TEST_CLI_RUN_H
#define FAMRT_TEST_CLI_RUN_H

#include <stddef.h>

#include "h_run.h"

/* What the command did (tests/common/h_run.h). */
#define cli_result h_run_result

/* $FAMRT_BIN_DIR/tools/famrt/famrt; aborts the test if the env is unset. */
const char *cli_famrt_path(void);

/*
 * Run famrt with args (NULL-terminated, without argv[0]), feeding in[0..n)
 * on stdin. If stdout_fd >= 0 the child's stdout is that descriptor and
 * r->out stays empty. Returns 0 or -errno (spawn failed).
 */
int cli_run_fd(const char *const *args, const void *in, size_t n,
	       int stdout_fd, struct cli_result *r);
int cli_run(const char *const *args, const void *in, size_t n,
	    struct cli_result *r);
void cli_result_free(struct cli_result *r);

/* Number of '\n'-terminated lines in s (a last line without one counts). */
size_t cli_count_lines(const char *s);

#endif
