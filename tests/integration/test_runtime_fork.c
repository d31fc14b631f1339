/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt across fork():
 * - the child reads through handles and mappings it inherited, opens files
 *   (which needs the service: the runtime reconnects, since the socket is
 *   shared with the parent), sees a file the parent created after the
 *   fork, writes into an inherited handle and into new files, creates a
 *   file; the parent sees all of the child's writes and its file, and its
 *   own connection still works;
 * - a fork while another thread is inside a request (holding the
 *   connection's lock) does not leave the child with a locked lock: the
 *   atfork handlers take every connection's lock around fork;
 * - the same for the process-wide default connection (famrt_default):
 *   a fork while another thread is connecting it does not deadlock the
 *   child's famrt_default.
 * Children report through their exit status; an alarm turns a deadlock
 * into a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "client/internal.h"
#include "rt_util.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define FSIZE (6 * MiB + 123)

static struct rt_env E;

static int setup(void **state)
{
	(void)state;
	return rt_env_start(&E, 2, 64 * MiB, NULL, 0);
}

static int teardown(void **state)
{
	(void)state;
	rt_env_stop(&E);
	return 0;
}

#define CHILD_FAIL(code, ...)                                                \
	do {                                                                 \
		fprintf(stderr, "child: " __VA_ARGS__);                      \
		fprintf(stderr, " (%s)\n", famrt_errmsg());                  \
		_exit(code);                                                 \
	} while (0)

static void wait_child(pid_t pid, const char *what)
{
	int st = 0;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
		fail_msg("%s: the child hung (killed by its alarm)", what);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("%s: child status 0x%x (exit %d)", what, st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static int readback(struct famrt_file *f, const uint8_t *ref, uint64_t off,
		    size_t len)
{
	uint8_t *buf = malloc(len);
	int bad;

	if (!buf)
		return 1;
	bad = famrt_pread(f, buf, len, off) != (ssize_t)len ||
	      memcmp(buf, ref, len);
	free(buf);
	return bad;
}

static void test_child_io(void **state)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true };
	uint8_t *ref = malloc(FSIZE), *part = malloc(512 * KiB);
	struct famrt_file *f, *ro, *g;
	struct famrt_client *before = E.c->client;
	int to[2], from[2];
	uint8_t *p;
	pid_t pid;
	char c;

	(void)state;
	assert_non_null(ref);
	assert_non_null(part);
	assert_int_equal(famrt_create(E.c, "/f", 0644, FSIZE, &lay, &f), 0);
	rt_fill(ref, FSIZE, 1);
	assert_int_equal(famrt_pwrite(f, ref, FSIZE, 0), FSIZE);
	assert_int_equal(famrt_open(E.c, "/f", O_RDONLY, &ro), 0);
	/*
	 * Made through another connection, so not in E.c's cache: the
	 * child's open must ask the service.
	 */
	{
		struct famrt *other = rt_connect(E.d.socket, 0);

		assert_non_null(other);
		assert_int_equal(famrt_create(other, "/g", 0644, 300 * KiB,
					      NULL, &g),
				 0);
		assert_int_equal(famrt_pwrite(g, ref, 300 * KiB, 0),
				 300 * KiB);
		assert_int_equal(famrt_close(g), 0);
		assert_int_equal(famrt_disconnect(other), 0);
	}
	assert_int_equal(famrt_mmap(f, 1 * MiB + 5, 2 * MiB, PROT_READ,
				    (void **)&p),
			 0);
	assert_int_equal(pipe(to), 0);
	assert_int_equal(pipe(from), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct famrt_file *h, *k;
		struct famrt_stat st;

		alarm(30);
		close(to[1]);
		close(from[0]);
		/* Inherited handles and mapping. */
		if (readback(f, ref, 0, FSIZE) || readback(ro, ref, 0, FSIZE))
			CHILD_FAIL(2, "inherited handles read wrong");
		if (memcmp(p, ref + 1 * MiB + 5, 2 * MiB))
			CHILD_FAIL(3, "inherited mapping shows wrong bytes");
		if (famrt_munmap(E.c, p))
			CHILD_FAIL(4, "munmap of the inherited mapping");
		/* A new open: the runtime reconnects. */
		if (famrt_open(E.c, "/g", O_RDONLY, &h))
			CHILD_FAIL(5, "open /g");
		if (E.c->pid != getpid() || E.c->client == before)
			CHILD_FAIL(6, "the child still uses the parent's "
				      "connection");
		if (readback(h, ref, 0, 300 * KiB))
			CHILD_FAIL(7, "/g reads wrong");
		famrt_close(h);
		/* A file the parent creates after the fork. */
		if (write(from[1], "r", 1) != 1 || read(to[0], &c, 1) != 1)
			CHILD_FAIL(8, "pipe");
		if (famrt_stat(E.c, "/after", &st) || st.size != 200 * KiB)
			CHILD_FAIL(9, "stat /after");
		if (famrt_open(E.c, "/after", O_RDWR, &h))
			CHILD_FAIL(10, "open /after");
		rt_fill(part, 200 * KiB, 3);
		if (famrt_pwrite(h, part, 200 * KiB, 0) != 200 * KiB)
			CHILD_FAIL(11, "write /after");
		famrt_close(h);
		/* Writes through an inherited read-write handle. */
		rt_fill(part, 512 * KiB, 2);
		if (famrt_pwrite(f, part, 512 * KiB, 2 * MiB - 77) !=
		    512 * KiB)
			CHILD_FAIL(12, "write /f");
		/* And a file of its own (this is the master host). */
		if (famrt_create(E.c, "/bychild", 0600, 5000, NULL, &k) ||
		    famrt_pwrite(k, "child", 5, 4990) != 5)
			CHILD_FAIL(13, "create /bychild");
		famrt_close(k);
		famrt_close(ro);
		famrt_close(f);
		if (famrt_disconnect(E.c))
			CHILD_FAIL(14, "disconnect");
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	assert_int_equal(read(from[0], &c, 1), 1);
	assert_int_equal(famrt_create(E.c, "/after", 0644, 200 * KiB, NULL, &g),
			 0);
	assert_int_equal(write(to[1], "a", 1), 1);
	wait_child(pid, "child I/O");
	close(to[1]);
	close(from[0]);

	/* The parent's mapping and connection are untouched. */
	assert_memory_equal(p, ref + 1 * MiB + 5, 1 * MiB - 82);
	assert_true(E.c->client == before);
	rt_fill(part, 512 * KiB, 2);
	memcpy(ref + 2 * MiB - 77, part, 512 * KiB);
	assert_int_equal(readback(f, ref, 0, FSIZE), 0);
	assert_int_equal(readback(ro, ref, 0, FSIZE), 0);
	assert_memory_equal(p, ref + 1 * MiB + 5, 2 * MiB);
	assert_int_equal(famrt_munmap(E.c, p), 0);
	rt_fill(part, 200 * KiB, 3);
	assert_int_equal(readback(g, part, 0, 200 * KiB), 0);
	assert_int_equal(famrt_close(g), 0);
	assert_int_equal(famrt_open(E.c, "/bychild", O_RDONLY, &g), 0);
	assert_int_equal(readback(g, (const uint8_t *)"child", 4990, 5), 0);
	assert_int_equal(famrt_close(g), 0);
	assert_int_equal(famrt_close(ro), 0);
	assert_int_equal(famrt_close(f), 0);
	free(ref);
	free(part);
}

/* ---- forks while another thread holds a lock ---- */

static atomic_int stop;
static atomic_ulong busy_calls;

/* Requests back to back: the connection's lock is held most of the time. */
static void *busy(void *arg)
{
	struct famrt_stat st;
	unsigned i = 0;

	(void)arg;
	while (!atomic_load(&stop)) {
		char path[32];
		struct famrt_file *f;

		snprintf(path, sizeof(path), "/busy%u", i++ % 4);
		famrt_stat(E.c, path, &st);
		famrt_stat(E.c, "/nothing-here", &st);
		if (!famrt_open(E.c, path, O_RDONLY, &f))
			famrt_close(f);
		atomic_fetch_add(&busy_calls, 1);
	}
	return NULL;
}

static void test_fork_while_locked(void **state)
{
	pthread_t t[2];
	struct famrt_file *f;

	(void)state;
	for (int i = 0; i < 4; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/busy%d", i);
		assert_int_equal(famrt_create(E.c, path, 0644, 8192, NULL, &f),
				 0);
		assert_int_equal(famrt_pwrite(f, "busy", 4, 0), 4);
		assert_int_equal(famrt_close(f), 0);
	}
	atomic_store(&stop, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, busy, NULL), 0);
	while (atomic_load(&busy_calls) < 10)
		usleep(100);
	for (int n = 0; n < 40; n++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct famrt_stat st;
			char buf[4];

			alarm(10);
			if (famrt_open(E.c, "/busy1", O_RDONLY, &f))
				CHILD_FAIL(2, "open");
			if (famrt_pread(f, buf, 4, 0) != 4 ||
			    memcmp(buf, "busy", 4))
				CHILD_FAIL(3, "read");
			famrt_close(f);
			if (famrt_stat(E.c, "/busy3", &st) || st.size != 8192)
				CHILD_FAIL(4, "stat");
			if (famrt_stat(E.c, "/absent", &st) != -ENOENT)
				CHILD_FAIL(5, "stat /absent");
			_exit(0);
		}
		wait_child(pid, "fork while busy");
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

static void *default_spinner(void *arg)
{
	(void)arg;
	/* FAMRT_SOCKET names no service: every call tries to connect. */
	while (!atomic_load(&stop)) {
		if (famrt_default())
			return (void *)1;
		atomic_fetch_add(&busy_calls, 1);
	}
	return NULL;
}

static void test_fork_default_connection(void **state)
{
	char nowhere[160];
	struct famrt_file *g;
	pthread_t t;
	void *ret;

	(void)state;
	assert_int_equal(famrt_create(E.c, "/dflt", 0644, 4096, NULL, &g), 0);
	assert_int_equal(famrt_close(g), 0);
	snprintf(nowhere, sizeof(nowhere), "%s/none.sock", E.fs.dir);
	setenv("FAMRT_SOCKET", nowhere, 1);
	atomic_store(&stop, 0);
	atomic_store(&busy_calls, 0);
	assert_int_equal(pthread_create(&t, NULL, default_spinner, NULL), 0);
	while (atomic_load(&busy_calls) < 10)
		usleep(100);
	for (int n = 0; n < 40; n++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct famrt *c;
			struct famrt_file *f;

			alarm(10);
			if (famrt_default() || errno != ENOENT)
				CHILD_FAIL(2, "famrt_default with no service");
			/* And once there is one. */
			setenv("FAMRT_SOCKET", E.d.socket, 1);
			c = famrt_default();
			if (!c)
				CHILD_FAIL(3, "famrt_default");
			if (famrt_open(c, "/dflt", O_RDONLY, &f))
				CHILD_FAIL(4, "open");
			famrt_close(f);
			if (famrt_disconnect(c))
				CHILD_FAIL(5, "disconnect");
			_exit(0);
		}
		wait_child(pid, "fork while famrt_default connects");
	}
	atomic_store(&stop, 1);
	pthread_join(t, &ret);
	assert_null(ret);
	unsetenv("FAMRT_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_io),
		cmocka_unit_test(test_fork_while_locked),
		cmocka_unit_test(test_fork_default_connection),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
