/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "h_run.h"

struct buf {
	char *p;
	size_t n, cap;
};

/* 1: read some (or nothing yet), 0: end of file, -errno. */
static int buf_read(struct buf *b, int fd)
{
	ssize_t n;

	if (b->cap - b->n < 65537) {
		size_t cap = b->cap ? b->cap * 2 : 131072;
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

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int h_run(const char *const *argv, char *const *envp, const void *in,
	  size_t n, int stdout_fd, long timeout_ms, struct h_run_result *r)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct buf out = { 0 }, err = { 0 };
	long deadline = now_ms() + timeout_ms;
	bool killed = false;
	size_t done = 0;
	sigset_t def;
	pid_t pid;
	int rc, st;

	memset(r, 0, sizeof(*r));
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
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv,
			  envp);
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
		long left = timeout_ms > 0 ? deadline - now_ms() : -1;

		if (timeout_ms > 0 && left <= 0 && !killed) {
			fprintf(stderr, "%s: still running after %ld ms, "
					"killing it\n",
				argv[0], timeout_ms);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(pfd, 3, timeout_ms <= 0 ? -1 : left > 0 ? (int)left :
							      1000) < 0) {
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

void h_run_result_free(struct h_run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}
