/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrtd end to end: a real service on emulated devices, driven through the
 * client library: hello, device descriptors, namespace operations, paging,
 * permissions as another user, a follower service on the same devices
 * (standing in for a second host), and a clean shutdown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_run.h"
#include "famrtd_harness.h"
#include "meta/format.h"
#include "proto/client.h"

struct env {
	struct h_fs fs;
	struct h_famrtd master;
};

static int setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));

	*state = NULL;
	if (!v)
		return -1;
	if (h_fs_make(&v->fs, 2, 64u << 20, "host-a")) {
		free(v);
		return -1;
	}
	if (h_famrtd_start(&v->master, &v->fs, "master", "host-a", NULL)) {
		h_fs_remove(&v->fs);
		free(v);
		return -1;
	}
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct env *v = *state;

	if (!v)
		return 0;
	h_famrtd_kill(&v->master);
	h_fs_remove(&v->fs);
	free(v);
	return 0;
}

static struct famrt_client *connect_to(const struct h_famrtd *d)
{
	struct famrt_client *c = NULL;
	struct famrt_err e;
	int rc = famrt_client_connect(&c, d->socket, &e);

	if (rc) {
		fprintf(stderr, "connect: %s\n", e.msg);
		h_famrtd_dump_log(d);
	}
	assert_int_equal(rc, 0);
	return c;
}

static void test_hello_and_devices(void **state)
{
	struct env *v = *state;
	struct famrt_client *c = connect_to(&v->master);
	const struct famrt_proto_hello_rep *h = famrt_client_hello(c);
	const struct famrt_proto_devices_rep *t = famrt_client_devtable(c);
	int fds[32];
	uint32_t acc[32];
	struct famrt_err e;

	assert_int_equal(h->version, FAMRT_PROTO_VERSION);
	assert_memory_equal(h->fs_uuid, v->fs.uuid, 16);
	assert_string_equal(h->fs_name, "testfs");
	assert_string_equal(h->master, "host-a");
	assert_string_equal(h->host_id, "host-a");
	assert_true(h->flags & FAMRT_HELLO_MASTER);
	assert_int_equal(h->ndevs, 2);
	assert_int_equal(h->alloc_unit, 2u << 20);
	assert_int_equal(h->server_pid, v->master.pid);
	assert_int_equal(t->ndevs, 2);
	/* Root gets read-write descriptors of the right devices. */
	assert_int_equal(famrt_client_device_fds(c, fds, acc, &e), 0);
	for (int i = 0; i < 2; i++) {
		struct stat a, b;

		assert_int_equal(acc[i], FAMRT_DEV_ACCESS_RW);
		assert_int_equal(t->dev[i].size, 64u << 20);
		assert_true(fds[i] >= 0);
		assert_int_equal(fstat(fds[i], &a), 0);
		assert_int_equal(stat(v->fs.dev[i], &b), 0);
		assert_int_equal(a.st_ino, b.st_ino);
		assert_int_equal(a.st_dev, b.st_dev);
		close(fds[i]);
	}
	famrt_client_close(c);
}

static void test_namespace_ops(void **state)
{
	struct env *v = *state;
	struct famrt_client *c = connect_to(&v->master);
	struct famrt_proto_create_req cr = { .mode = 0640,
					     .size = 5u << 20 };
	struct famrt_proto_attr a, b, d;
	struct famrt_proto_statfs_rep s;
	struct famrt_fmap *map;
	uint8_t raw[FAMRT_FMAP_MSG_MAX];
	size_t rawlen = 0;
	struct famrt_err e;

	assert_int_equal(famrt_client_mkdir(c, "/ns", 0750, &d, &e), 0);
	assert_true(S_ISDIR(d.mode));
	assert_int_equal(d.mode & 07777, 0750);
	assert_int_equal(d.uid, getuid());
	assert_int_equal(famrt_client_create(c, "/ns/f", &cr, &a, &e), 0);
	assert_true(S_ISREG(a.mode));
	assert_int_equal(a.size, 5u << 20);
	assert_int_equal(a.parent, d.ino);
	assert_true(a.alloc_bytes >= a.size);
	assert_int_equal(famrt_client_lookup(c, "/ns/f", &b, &e), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(famrt_client_getattr(c, a.ino, &b, &e), 0);
	assert_int_equal(b.ino, a.ino);
	assert_int_equal(famrt_client_get_fmap(c, a.ino, &map, raw, &rawlen,
					       &e),
			 0);
	assert_int_equal(famrt_fmap_file_size(map), 5u << 20);
	assert_int_equal(rawlen, famrt_fmap_encoded_size(map));
	famrt_fmap_free(map);

	/* Interleaved over both devices. */
	cr.layout = 1;
	cr.size = 9u << 20;
	assert_int_equal(famrt_client_create(c, "/ns/ilv", &cr, &a, &e), 0);
	assert_int_equal(famrt_client_get_fmap(c, a.ino, &map, NULL, NULL, &e),
			 0);
	assert_int_equal(famrt_fmap_ext_type(map), FAMRT_FMAP_EXT_INTERLEAVE);
	assert_int_equal(famrt_fmap_max_devindex(map), 1);
	famrt_fmap_free(map);

	/* Errors come back with their errno and a message. */
	assert_int_equal(famrt_client_lookup(c, "/ns/none", &b, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/ns/none"));
	assert_int_equal(famrt_client_mkdir(c, "/ns", 0755, &b, &e), -EEXIST);
	assert_int_equal(famrt_client_create(c, "/ns/f/x", &cr, &b, &e),
			 -ENOTDIR);
	assert_int_equal(famrt_client_get_fmap(c, d.ino, &map, NULL, NULL, &e),
			 -EISDIR);
	assert_null(map);
	assert_int_equal(famrt_client_getattr(c, 999999, &b, &e), -ENOENT);
	assert_int_equal(famrt_client_lookup(c, "relative", &b, &e), -EINVAL);
	cr.size = 1ull << 40;
	assert_int_equal(famrt_client_create(c, "/ns/huge", &cr, &b, &e),
			 -ENOSPC);
	assert_non_null(strstr(e.msg, "free"));

	assert_int_equal(famrt_client_statfs(c, &s, &e), 0);
	assert_true(s.files >= 2);
	assert_true(s.dirs >= 1);
	assert_true(s.free < s.size);
	assert_int_equal(s.ndevs, 2);
	assert_int_equal(s.alloc_unit, 2u << 20);
	famrt_client_close(c);
}

struct names {
	uint32_t n;
	char seen[700];
};

static int collect(const struct famrt_proto_dirent *d, void *arg)
{
	struct names *nm = arg;
	unsigned idx;

	assert_int_equal(sscanf(d->name, "e%u", &idx), 1);
	assert_true(idx < sizeof(nm->seen));
	assert_int_equal(nm->seen[idx], 0);
	nm->seen[idx] = 1;
	nm->n++;
	return 0;
}

static void test_readdir_paging(void **state)
{
	struct env *v = *state;
	struct famrt_client *c = connect_to(&v->master);
	struct famrt_proto_attr d, a;
	struct names nm = { 0 };
	struct famrt_err e;
	uint64_t cookie = 0, next = 0;
	uint32_t pages = 0;
	char path[64];

	assert_int_equal(famrt_client_mkdir(c, "/many", 0755, &d, &e), 0);
	for (unsigned i = 0; i < 600; i++) {
		snprintf(path, sizeof(path), "/many/e%u", i);
		assert_int_equal(famrt_client_mkdir(c, path, 0755, &a, &e), 0);
	}
	do {
		assert_int_equal(famrt_client_readdir(c, d.ino, cookie, 0,
						      collect, &nm, &next, &e),
				 0);
		cookie = next;
		pages++;
	} while (next != UINT64_MAX && pages < 100);
	assert_int_equal(nm.n, 600);
	/* 240 entries per page at most. */
	assert_int_equal(pages, 3);
	/* A small page size is honoured. */
	memset(&nm, 0, sizeof(nm));
	assert_int_equal(famrt_client_readdir(c, d.ino, 0, 7, collect, &nm,
					      &next, &e),
			 0);
	assert_int_equal(nm.n, 7);
	assert_int_not_equal(next, UINT64_MAX);
	assert_int_equal(famrt_client_readdir(c, a.ino, 0, 7, collect, &nm,
					      &next, &e),
			 0);
	famrt_client_close(c);
}

/* Run fn as user nobody in a child; returns its exit status. */
static int as_nobody(void (*fn)(const struct env *), const struct env *v)
{
	struct passwd *pw = getpwnam("nobody");
	pid_t pid;
	int status;

	if (!pw || getuid() != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (setgid(pw->pw_gid) || setuid(pw->pw_uid))
			_exit(99);
		fn(v);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

#define CHILD_CHECK(cond, code)                                              \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "child check failed: %s\n", #cond);  \
			_exit(code);                                         \
		}                                                            \
	} while (0)

static void nobody_checks(const struct env *v)
{
	struct famrt_client *c = NULL;
	struct famrt_proto_create_req cr = { .mode = 0644, .size = 1 << 20 };
	struct famrt_proto_attr a;
	struct famrt_fmap *map;
	struct famrt_err e;
	int fds[32];
	uint32_t acc[32];

	if (famrt_client_connect(&c, v->master.socket, &e)) {
		fprintf(stderr, "connect as nobody: %s\n", e.msg);
		_exit(10);
	}
	/* No group configured: no descriptors for nobody. */
	CHILD_CHECK(famrt_client_device_fds(c, fds, acc, &e) == -EACCES, 11);
	CHILD_CHECK(acc[0] == FAMRT_DEV_ACCESS_NONE, 12);
	/* The root directory is 0755 root: no creating there. */
	CHILD_CHECK(famrt_client_create(c, "/mine", &cr, &a, &e) == -EACCES,
		    13);
	CHILD_CHECK(strstr(e.msg, "permission denied") != NULL, 14);
	CHILD_CHECK(famrt_client_mkdir(c, "/mydir", 0755, &a, &e) == -EACCES,
		    15);
	/* /secret is 0700 root: not searchable, not listable. */
	CHILD_CHECK(famrt_client_lookup(c, "/secret/f", &a, &e) == -EACCES,
		    16);
	CHILD_CHECK(famrt_client_lookup(c, "/secret", &a, &e) == 0, 17);
	CHILD_CHECK(famrt_client_getattr(c, a.ino, &a, &e) == 0, 18);
	/* /open is 0777: creating works, owned by nobody. */
	CHILD_CHECK(famrt_client_create(c, "/open/byme", &cr, &a, &e) == 0, 19);
	CHILD_CHECK(a.uid == getuid(), 20);
	/* /open/private is a root file 0600: its map is not for us. */
	CHILD_CHECK(famrt_client_lookup(c, "/open/private", &a, &e) == 0, 21);
	CHILD_CHECK(famrt_client_get_fmap(c, a.ino, &map, NULL, NULL, &e) ==
			    -EACCES,
		    22);
	/* The owner may chmod their file, not someone else's, nor give it
	 * away. */
	CHILD_CHECK(famrt_client_setattr(c, "/open/byme", 0600, UINT32_MAX,
					 UINT32_MAX, &a, &e) == 0 &&
			    (a.mode & 07777) == 0600,
		    23);
	CHILD_CHECK(famrt_client_setattr(c, "/open/private", 0644, UINT32_MAX,
					 UINT32_MAX, &a, &e) == -EPERM,
		    24);
	CHILD_CHECK(famrt_client_setattr(c, "/open/byme", UINT32_MAX, 0,
					 UINT32_MAX, &a, &e) == -EPERM,
		    25);
	famrt_client_close(c);
}

static void test_permissions(void **state)
{
	struct env *v = *state;
	struct famrt_client *c = connect_to(&v->master);
	struct famrt_proto_create_req cr = { .mode = 0600, .size = 1 << 20 };
	struct famrt_proto_attr a;
	struct famrt_err e;
	int st;

	assert_int_equal(famrt_client_mkdir(c, "/secret", 0700, &a, &e), 0);
	assert_int_equal(famrt_client_create(c, "/secret/f", &cr, &a, &e), 0);
	assert_int_equal(famrt_client_mkdir(c, "/open", 0777, &a, &e), 0);
	assert_int_equal(famrt_client_create(c, "/open/private", &cr, &a, &e),
			 0);
	famrt_client_close(c);
	st = as_nobody(nobody_checks, v);
	if (st < 0) {
		skip();
		return;
	}
	assert_int_equal(st, 0);
	/* Root may give a file away; the change is in the log. */
	c = connect_to(&v->master);
	assert_int_equal(famrt_client_setattr(c, "/open/private", 0640, 1234,
					      5678, &a, &e),
			 0);
	assert_int_equal(a.mode & 07777, 0640);
	assert_int_equal(a.uid, 1234);
	assert_int_equal(a.gid, 5678);
	assert_int_equal(famrt_client_lookup(c, "/open/private", &a, &e), 0);
	assert_int_equal(a.uid, 1234);
	assert_int_equal(famrt_client_setattr(c, "/", 0700, UINT32_MAX,
					      UINT32_MAX, &a, &e),
			 -EPERM);
	famrt_client_close(c);
}

static int wait_lookup(struct famrt_client *c, const char *path,
		       struct famrt_proto_attr *a, long *waited_us)
{
	struct timespec t0, t1;
	struct famrt_err e;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = famrt_client_lookup(c, path, a, &e);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		*waited_us = (t1.tv_sec - t0.tv_sec) * 1000000L +
			     (t1.tv_nsec - t0.tv_nsec) / 1000;
		if (rc != -ENOENT || *waited_us > 5000000)
			return rc;
		usleep(200);
	}
}

static void test_follower(void **state)
{
	struct env *v = *state;
	struct h_famrtd follower;
	struct famrt_client *m, *f;
	struct famrt_proto_create_req cr = { .mode = 0644, .size = 3 << 20 };
	struct famrt_proto_attr a, b;
	struct famrt_err e;
	long waited;

	assert_int_equal(h_famrtd_start(&follower, &v->fs, "follower",
					"host-b", NULL),
			 0);
	m = connect_to(&v->master);
	f = connect_to(&follower);
	assert_false(famrt_client_hello(f)->flags & FAMRT_HELLO_MASTER);
	assert_string_equal(famrt_client_hello(f)->master, "host-a");

	/* A create on the master appears at the follower. */
	assert_int_equal(famrt_client_mkdir(m, "/shared", 0755, &a, &e), 0);
	assert_int_equal(famrt_client_create(m, "/shared/data", &cr, &a, &e),
			 0);
	assert_int_equal(wait_lookup(f, "/shared/data", &b, &waited), 0);
	assert_int_equal(b.ino, a.ino);
	assert_int_equal(b.size, a.size);
	assert_true(waited < 10000); /* the 10 ms target */

	/* The follower refuses changes and names the master. */
	assert_int_equal(famrt_client_create(f, "/shared/other", &cr, &b, &e),
			 -EROFS);
	assert_non_null(strstr(e.msg, "host-a"));
	assert_int_equal(famrt_client_mkdir(f, "/x", 0755, &b, &e), -EROFS);

	famrt_client_close(m);
	famrt_client_close(f);
	assert_int_equal(h_famrtd_stop(&follower), 0);
}

static void test_clean_shutdown(void **state)
{
	struct env *v = *state;
	struct famrt_client *c = connect_to(&v->master);
	struct famrt_proto_attr a;
	struct famrt_err e;
	struct stat st;

	/* A connected client does not hold up shutdown. */
	assert_int_equal(h_famrtd_stop(&v->master), 0);
	assert_int_not_equal(stat(v->master.socket, &st), 0);
	assert_int_not_equal(famrt_client_lookup(c, "/", &a, &e), 0);
	famrt_client_close(c);
	/* A restart replays the log and serves what was made before. */
	assert_int_equal(h_famrtd_start(&v->master, &v->fs, "master", "host-a",
					NULL),
			 0);
	c = connect_to(&v->master);
	assert_int_equal(famrt_client_lookup(c, "/ns/f", &a, &e), 0);
	assert_int_equal(a.size, 5u << 20);
	famrt_client_close(c);
}

/*
 * The famrt command goes through the famrtd serving the file system: a
 * change made by the CLI is made by the service (the CLI's host id names
 * no master, so appending directly is refused, as the second half
 * shows), and the service then serves what the CLI made.
 */
static void test_cli_through_service(void **state)
{
	struct env *v = *state;
	const char *mk[] = { "mkdir", "--fs", v->fs.spec, "--host-id",
			     "not-the-master", ":/via-cli", NULL };
	struct famrt_client *c;
	struct famrt_proto_attr a;
	struct cli_result r;
	struct famrt_err e;

	assert_int_equal(setenv("FAMRT_SOCKET", v->master.socket, 1), 0);
	unsetenv("FAMRT_CLI_BACKEND");
	assert_int_equal(cli_run(mk, NULL, 0, &r), 0);
	if (r.status)
		fprintf(stderr, "famrt mkdir: %s", r.err);
	assert_int_equal(r.status, 0);
	cli_result_free(&r);
	c = connect_to(&v->master);
	assert_int_equal(famrt_client_lookup(c, "/via-cli", &a, &e), 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(a.uid, geteuid());
	famrt_client_close(c);
	/* Forced direct, the same change is refused: not the master. */
	assert_int_equal(setenv("FAMRT_CLI_BACKEND", "direct", 1), 0);
	mk[5] = ":/via-cli-direct";
	assert_int_equal(cli_run(mk, NULL, 0, &r), 0);
	assert_int_equal(r.status, 4);
	assert_non_null(strstr(r.err, "host-a"));
	cli_result_free(&r);
	unsetenv("FAMRT_CLI_BACKEND");
	unsetenv("FAMRT_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_and_devices),
		cmocka_unit_test(test_namespace_ops),
		cmocka_unit_test(test_readdir_paging),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_follower),
		cmocka_unit_test(test_cli_through_service),
		cmocka_unit_test(test_clean_shutdown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
