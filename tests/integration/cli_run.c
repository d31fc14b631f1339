/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

struct buf {
	char *p;
	size_t n, cap;
};

static int buf_read(struct buf *b, int fd)
{
	ssize_t n;

	if (b->cap - b->n < 4097) {
		size_t cap = b->cap ? b->cap * 2 : 8192;
		char *p = realloc(b->p, cap);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	n = read(fd, b->p + b->n, b->cap - b->n - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	b->n += (size_t)n;
	b->p[b->n] = '\0';
	return n == 0 ? 0 : 1;
}

int cli_run_fd(const char *const *args, const void *in, size_t n,
	       int stdout_fd, struct cli_result *r)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def;
	const char *argv[256];
	struct buf out = { 0 }, err = { 0 };
	size_t k = 0, done = 0;
	pid_t pid;
	int rc, st;

	memset(r, 0, sizeof(*r));
	argv[k++] = cli_famrt_path();
	for (; args && *args; args++) {
		if (k == 255)
			return -E2BIG;
		argv[k++] = *args;
	}
	argv[k] = NULL;
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(pin, O_CLOEXEC) || pipe2(perr, O_CLOEXEC) ||
	    (stdout_fd < 0 && pipe2(pout, O_CLOEXEC)))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, stdout_fd >= 0 ? stdout_fd :
							       pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	posix_spawnattr_init(&attr);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv,
			 environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pin[0]);
	close(perr[1]);
	if (pout[1] >= 0)
		close(pout[1]);
	if (rc) {
		close(pin[1]);
		close(perr[0]);
		if (pout[0] >= 0)
			close(pout[0]);
		return -rc;
	}
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	if (!n) {
		close(pin[1]);
		pin[1] = -1;
	}
	while (pin[1] >= 0 || pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd pfd[3] = {
			{ .fd = pin[1], .events = POLLOUT },
			{ .fd = pout[0], .events = POLLIN },
			{ .fd = perr[0], .events = POLLIN },
		};

		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pin[1] >= 0 && pfd[0].revents) {
			ssize_t w = write(pin[1], (const char *)in + done,
					  n - done);

			if (w > 0)
				done += (size_t)w;
			if ((w < 0 && errno != EAGAIN) || done == n) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (pout[0] >= 0 && pfd[1].revents &&
		    buf_read(&out, pout[0]) <= 0) {
			close(pout[0]);
			pout[0] = -1;
		}
		if (perr[0] >= 0 && pfd[2].revents &&
		    buf_read(&err, perr[0]) <= 0) {
			close(perr[0]);
			perr[0] = -1;
		}
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = out.p ? out.p : calloc(1, 1);
	r->out_len = out.n;
	r->err = err.p ? err.p : calloc(1, 1);
	r->err_len = err.n;
	return 0;
}

int cli_run(const char *const *args, const void *in, size_t n,
	    struct cli_result *r)
{
	return cli_run_fd(args, in, n, -1, r);
}

void cli_result_free(struct cli_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
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
