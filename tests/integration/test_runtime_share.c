/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sharing file data through libfamrt:
 * - between processes of one host, each with its own connection;
 * - between "hosts": a second famrtd on the same devices with another host
 *   id (a follower of the master's log) and a client of it in another
 *   process. The follower's client sees files the master creates (polling
 *   until they appear), reads the master's bytes after famrt_flush /
 *   famrt_invalidate, writes into an existing file (data writes are allowed
 *   on every host) and the master reads them; metadata changes on the
 *   follower are refused (EROFS, naming the master);
 * - on a file system made non-coherent (famrt_mkfs_opts.noncoherent): the
 *   flag reaches every open file (checked in the runtime's own state, since
 *   on this cache-coherent machine the invalidation cannot be seen any
 *   other way), and a ping-pong through the file's bytes with famrt_pread
 *   alone, no explicit invalidate, sees every write of the other process
 *   and of the other host.
 * Processes check with plain code and report through their exit status
 * (cmocka's asserts belong to the parent).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

#define MiB (1ull << 20)
#define KiB (1ull << 10)
#define WAIT_MS 10000

struct share_env {
	struct rt_env a;        /* master service and a client of it */
	struct h_famrtd b;      /* the follower service on the same devices */
};

static int env_up(void **state, bool noncoherent)
{
	struct share_env *v = calloc(1, sizeof(*v));
	struct rt_mkfs mk = { .noncoherent = noncoherent };

	*state = v;
	if (!v || rt_env_start(&v->a, 2, 32 * MiB, &mk, 0))
		return -1;
	if (h_famrtd_start(&v->b, &v->a.fs, "follower", "host-b", NULL))
		return -1;
	return 0;
}

static int setup_coherent(void **state)
{
	return env_up(state, false);
}

static int setup_noncoherent(void **state)
{
	return env_up(state, true);
}

static int env_down(void **state)
{
	struct share_env *v = *state;

	if (v) {
		h_famrtd_kill(&v->b);
		rt_env_stop(&v->a);
		free(v);
	}
	return 0;
}

/* ---- a child process, and talking to it through a pipe ---- */

struct kid {
	pid_t pid;
	int to[2], from[2]; /* parent -> child, child -> parent */
};

#define KID_FAIL(code, ...)                                                  \
	do {                                                                 \
		fprintf(stderr, "child: " __VA_ARGS__);                      \
		fprintf(stderr, " (%s)\n", famrt_errmsg());                  \
		_exit(code);                                                 \
	} while (0)

static void kid_start(struct kid *k, void (*fn)(struct kid *, void *),
		      void *arg)
{
	assert_int_equal(pipe2(k->to, O_CLOEXEC), 0);
	assert_int_equal(pipe2(k->from, O_CLOEXEC), 0);
	k->pid = fork();
	assert_true(k->pid >= 0);
	if (k->pid == 0) {
		close(k->to[1]);
		close(k->from[0]);
		alarm(60);
		fn(k, arg);
		_exit(0);
	}
	close(k->to[0]);
	close(k->from[1]);
}

/* Send one byte; in the child, to the parent. */
static void say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(90);
}

/* Wait for one byte; 0 at end of file. */
static char hear(int fd)
{
	char c = 0;

	if (read(fd, &c, 1) != 1)
		return 0;
	return c;
}

static void kid_wait_ok(struct kid *k)
{
	int st = 0;

	close(k->to[1]);
	close(k->from[0]);
	assert_int_equal(waitpid(k->pid, &st, 0), k->pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("child failed: status 0x%x (exit %d, signal %d)", st,
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			 WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* Poll famrt_stat until path exists (the follower catching up). */
static int wait_for(struct famrt *c, const char *path, struct famrt_stat *st)
{
	uint64_t t0 = rt_now_ms();
	int rc;

	while ((rc = famrt_stat(c, path, st)) == -ENOENT &&
	       rt_now_ms() - t0 < WAIT_MS)
		usleep(1000);
	return rc;
}

/* ---- one host, two processes ---- */

struct proc_arg {
	const char *socket;
	uint64_t size;
};

static void other_process(struct kid *k, void *varg)
{
	struct proc_arg *a = varg;
	struct famrt *c = rt_connect(a->socket, 0);
	struct famrt_file *f;
	uint8_t *ref = malloc(a->size), *got = malloc(a->size);

	if (!c || !ref || !got)
		_exit(2);
	if (hear(k->to[0]) != 'w')
		_exit(3);
	if (famrt_open(c, "/p2p", O_RDWR, &f))
		KID_FAIL(4, "open /p2p");
	rt_fill(ref, a->size, 1);
	if (famrt_pread(f, got, a->size, 0) != (ssize_t)a->size ||
	    memcmp(got, ref, a->size))
		KID_FAIL(5, "the parent's bytes are not there");
	/* Write the middle third; the parent checks it. */
	rt_fill(ref, a->size / 3, 2);
	if (famrt_pwrite(f, ref, a->size / 3, a->size / 3) !=
	    (ssize_t)(a->size / 3))
		KID_FAIL(6, "pwrite");
	famrt_close(f);
	famrt_disconnect(c);
	say(k->from[1], 'd');
	free(ref);
	free(got);
}

static void test_two_processes(void **state)
{
	struct share_env *v = *state;
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true };
	struct proc_arg a = { .socket = v->a.d.socket, .size = 5 * MiB + 3 };
	uint8_t *ref = malloc(a.size), *got = malloc(a.size), *mid;
	struct famrt_file *f;
	struct kid k;

	assert_non_null(ref);
	assert_non_null(got);
	kid_start(&k, other_process, &a);
	assert_int_equal(famrt_create(v->a.c, "/p2p", 0644, a.size, &lay, &f),
			 0);
	rt_fill(ref, a.size, 1);
	assert_int_equal(famrt_pwrite(f, ref, a.size, 0), (ssize_t)a.size);
	say(k.to[1], 'w');
	assert_int_equal(hear(k.from[0]), 'd');
	mid = malloc(a.size / 3);
	assert_non_null(mid);
	rt_fill(mid, a.size / 3, 2);
	memcpy(ref + a.size / 3, mid, a.size / 3);
	assert_int_equal(famrt_pread(f, got, a.size, 0), (ssize_t)a.size);
	assert_memory_equal(got, ref, a.size);
	kid_wait_ok(&k);
	assert_int_equal(famrt_close(f), 0);
	free(mid);
	free(ref);
	free(got);
}

/* ---- two hosts: master and follower ---- */

struct host_arg {
	const char *socket;  /* the follower's */
	uint64_t size;
	bool noncoherent;    /* expect the flag, and skip invalidates */
};

static void follower_host(struct kid *k, void *varg)
{
	struct host_arg *a = varg;
	struct famrt *c = rt_connect(a->socket, 0);
	struct famrt_file *f, *g;
	struct famrt_stat st;
	uint8_t *ref = malloc(a->size), *got = malloc(a->size);
	uint64_t t0;
	int rc;

	if (!c || !ref || !got)
		_exit(2);
	if (c->noncoherent != a->noncoherent)
		KID_FAIL(3, "the follower's client has noncoherent %d",
			 c->noncoherent);
	if (hear(k->to[0]) != 'c')
		_exit(4);
	/* The master created /shared: poll until this host sees it. */
	if (wait_for(c, "/shared", &st))
		KID_FAIL(5, "/shared never appeared on the follower");
	if (st.size != a->size)
		KID_FAIL(6, "/shared has %llu bytes on the follower",
			 (unsigned long long)st.size);
	/* Data writes are allowed on every host. */
	if (famrt_open(c, "/shared", O_RDWR, &f))
		KID_FAIL(7, "open /shared read-write on the follower");
	if (f->noncoherent != a->noncoherent)
		KID_FAIL(8, "file noncoherent %d", f->noncoherent);
	if (!a->noncoherent && famrt_invalidate(f, 0, 0))
		KID_FAIL(9, "invalidate");
	rt_fill(ref, a->size, 10);
	if (famrt_pread(f, got, a->size, 0) != (ssize_t)a->size ||
	    memcmp(got, ref, a->size))
		KID_FAIL(10, "the master's bytes are not visible");
	/* Write a range the master checks, flush it for the other host. */
	rt_fill(ref, 300 * KiB, 11);
	if (famrt_pwrite(f, ref, 300 * KiB, 1 * MiB - 1) != 300 * KiB)
		KID_FAIL(11, "pwrite on the follower");
	if (famrt_flush(f, 1 * MiB - 1, 300 * KiB))
		KID_FAIL(12, "flush");
	/* Metadata changes are the master's. */
	rc = famrt_create(c, "/nope", 0644, 4096, NULL, &g);
	if (rc != -EROFS || !strstr(famrt_errmsg(), "host-a"))
		KID_FAIL(13, "create on the follower gave %d", rc);
	rc = famrt_mkdir(c, "/nodir", 0755);
	if (rc != -EROFS)
		KID_FAIL(14, "mkdir on the follower gave %d", rc);
	say(k->from[1], 'w');

	/* A file created while we wait, in a directory. */
	if (hear(k->to[0]) != 'l')
		_exit(15);
	t0 = rt_now_ms();
	if (wait_for(c, "/dir/later", &st))
		KID_FAIL(16, "/dir/later never appeared");
	if (rt_now_ms() - t0 > WAIT_MS)
		_exit(17);
	if (famrt_open(c, "/dir/later", O_RDONLY, &g))
		KID_FAIL(18, "open /dir/later");
	if (!a->noncoherent)
		famrt_invalidate(g, 0, 0);
	rt_fill(ref, st.size, 12);
	if (famrt_pread(g, got, st.size, 0) != (ssize_t)st.size ||
	    memcmp(got, ref, st.size))
		KID_FAIL(19, "/dir/later has the wrong bytes");
	famrt_close(g);
	famrt_close(f);
	if (famrt_disconnect(c))
		KID_FAIL(20, "disconnect");
	free(ref);
	free(got);
	say(k->from[1], 'd');
}

static void two_hosts(struct share_env *v, bool noncoherent)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .chunk = 2 * MiB };
	struct host_arg a = { .socket = v->b.socket, .size = 7 * MiB + 11,
			      .noncoherent = noncoherent };
	uint8_t *ref = malloc(a.size), *got = malloc(a.size), *part;
	struct famrt_file *f, *g;
	struct kid k;

	assert_non_null(ref);
	assert_non_null(got);
	kid_start(&k, follower_host, &a);
	assert_int_equal(famrt_create(v->a.c, "/shared", 0600, a.size, &lay,
				      &f),
			 0);
	assert_int_equal(f->noncoherent, noncoherent);
	rt_fill(ref, a.size, 10);
	assert_int_equal(famrt_pwrite(f, ref, a.size, 0), (ssize_t)a.size);
	assert_int_equal(famrt_flush(f, 0, 0), 0);
	say(k.to[1], 'c');
	if (hear(k.from[0]) != 'w') {
		kid_wait_ok(&k);
		fail_msg("the follower stopped early");
	}
	if (!noncoherent)
		assert_int_equal(famrt_invalidate(f, 1 * MiB - 1, 300 * KiB),
				 0);
	part = malloc(300 * KiB);
	assert_non_null(part);
	rt_fill(part, 300 * KiB, 11);
	memcpy(ref + 1 * MiB - 1, part, 300 * KiB);
	assert_int_equal(famrt_pread(f, got, a.size, 0), (ssize_t)a.size);
	assert_memory_equal(got, ref, a.size);

	assert_int_equal(famrt_mkdir(v->a.c, "/dir", 0755), 0);
	assert_int_equal(famrt_create(v->a.c, "/dir/later", 0644, 123457, NULL,
				      &g),
			 0);
	rt_fill(ref, 123457, 12);
	assert_int_equal(famrt_pwrite(g, ref, 123457, 0), 123457);
	assert_int_equal(famrt_fsync(g), 0);
	say(k.to[1], 'l');
	assert_int_equal(hear(k.from[0]), 'd');
	kid_wait_ok(&k);

	/* Flush and invalidate ranges: edges and errors. */
	assert_int_equal(famrt_flush(f, a.size, 0), 0);
	assert_int_equal(famrt_invalidate(f, a.size - 1, 100), 0);
	assert_int_equal(famrt_flush(f, a.size + 1, 1), -EINVAL);
	assert_non_null(strstr(famrt_errmsg(), "past the end"));
	assert_int_equal(famrt_invalidate(f, a.size + 1, 0), -EINVAL);
	assert_int_equal(famrt_flush(f, 0, UINT64_MAX), 0);
	assert_int_equal(famrt_flush(NULL, 0, 0), -EBADF);
	assert_int_equal(famrt_close(g), 0);
	assert_int_equal(famrt_close(f), 0);
	free(part);
	free(ref);
	free(got);
}

static void test_two_hosts(void **state)
{
	two_hosts(*state, false);
}

/* ---- a non-coherent file system ---- */

struct ping_arg {
	const char *socket;
	int rounds;
};

/*
 * Wait until the u64 at off reads `want` through famrt_pread alone: on a
 * non-coherent file system the runtime invalidates before reading.
 */
static int await(struct famrt_file *f, uint64_t off, uint64_t want)
{
	uint64_t t0 = rt_now_ms(), v = 0;

	for (;;) {
		if (famrt_pread(f, &v, sizeof(v), off) != sizeof(v))
			return -1;
		if (v == want)
			return 0;
		if (rt_now_ms() - t0 > WAIT_MS)
			return -1;
	}
}

static void ponger(struct kid *k, void *varg)
{
	struct ping_arg *a = varg;
	struct famrt *c = rt_connect(a->socket, 0);
	struct famrt_stat st;
	struct famrt_file *f;

	if (!c)
		_exit(2);
	if (!c->noncoherent)
		KID_FAIL(3, "the connection does not know the fs is "
			    "non-coherent");
	if (hear(k->to[0]) != 'p' || wait_for(c, "/pingpong", &st))
		KID_FAIL(4, "no /pingpong");
	if (famrt_open(c, "/pingpong", O_RDWR, &f))
		KID_FAIL(5, "open");
	if (!f->noncoherent || f->direct == NULL)
		KID_FAIL(6, "file noncoherent %d direct %p", f->noncoherent,
			 (void *)f->direct);
	for (uint64_t i = 1; i <= (uint64_t)a->rounds; i++) {
		if (await(f, 0, i))
			KID_FAIL(7, "ping %llu never arrived",
				 (unsigned long long)i);
		if (famrt_pwrite(f, &i, sizeof(i), 2 * MiB + 8) != sizeof(i))
			KID_FAIL(8, "pwrite");
		famrt_flush(f, 2 * MiB + 8, sizeof(i));
	}
	famrt_close(f);
	famrt_disconnect(c);
}

static void pingpong(struct famrt *c, const char *peer_socket, int rounds)
{
	struct ping_arg a = { .socket = peer_socket, .rounds = rounds };
	struct famrt_file *f;
	struct kid k;
	char path[] = "/pingpong";

	kid_start(&k, ponger, &a);
	assert_int_equal(famrt_create(c, path, 0644, 4 * MiB, NULL, &f), 0);
	assert_true(f->noncoherent);
	say(k.to[1], 'p');
	for (uint64_t i = 1; i <= (uint64_t)rounds; i++) {
		assert_int_equal(famrt_pwrite(f, &i, sizeof(i), 0), sizeof(i));
		assert_int_equal(famrt_flush(f, 0, sizeof(i)), 0);
		if (await(f, 2 * MiB + 8, i)) {
			kid_wait_ok(&k);
			fail_msg("pong %llu never arrived",
				 (unsigned long long)i);
		}
	}
	kid_wait_ok(&k);
	assert_int_equal(famrt_close(f), 0);
}

/* Same host, another process. */
static void test_noncoherent_process(void **state)
{
	struct share_env *v = *state;

	pingpong(v->a.c, v->a.d.socket, 200);
}

/* Another host (the follower), and the data paths of test_two_hosts. */
static void test_noncoherent_hosts(void **state)
{
	struct share_env *v = *state;

	pingpong(v->a.c, v->b.socket, 200);
	two_hosts(v, true);
}

/* The coherent file system's files do not pay for invalidation. */
static void test_coherent_flag(void **state)
{
	struct share_env *v = *state;
	struct famrt_file *f;

	assert_false(v->a.c->noncoherent);
	assert_int_equal(famrt_create(v->a.c, "/c", 0644, 8192, NULL, &f), 0);
	assert_false(f->noncoherent);
	assert_int_equal(famrt_close(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_processes,
						setup_coherent, env_down),
		cmocka_unit_test_setup_teardown(test_two_hosts, setup_coherent,
						env_down),
		cmocka_unit_test_setup_teardown(test_coherent_flag,
						setup_coherent, env_down),
		cmocka_unit_test_setup_teardown(test_noncoherent_process,
						setup_noncoherent, env_down),
		cmocka_unit_test_setup_teardown(test_noncoherent_hosts,
						setup_noncoherent, env_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
