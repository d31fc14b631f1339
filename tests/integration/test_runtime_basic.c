/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt against a real famrtd: create, write, read back, map, after a
 * fork, and the errors at the edges.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
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

#include "famrtd_harness.h"
#include "rt_util.h"


/* Devices, a file system, famrtd and a connection (rt_util.c). */
static int setup(void **state)
{
	*state = rt_env_new(3, 64u << 20);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rt_env_free(*state);
	return 0;
}


static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(seed >> 56);
	}
}

/* Write a pattern, read it back in pieces of every size class. */
static void roundtrip(struct rt_env *v, const char *path,
		      const struct famrt_layout *lay, uint64_t size)
{
	struct famrt_file *f;
	uint8_t *ref = malloc(size), *got = malloc(size);
	uint64_t off;
	ssize_t n;

	assert_non_null(ref);
	assert_non_null(got);
	fill(ref, size, size);
	assert_int_equal(famrt_create(v->c, path, 0644, size, lay, &f), 0);
	assert_int_equal(famrt_file_size(f), size);
	/* Written in odd-sized pieces that cross every boundary. */
	for (off = 0; off < size; off += (uint64_t)n) {
		size_t len = (size_t)(off % 7919 + 1) * 37;

		if (len > size - off)
			len = size - off;
		n = famrt_pwrite(f, ref + off, len, off);
		assert_int_equal(n, (ssize_t)len);
	}
	assert_int_equal(famrt_fsync(f), 0);
	memset(got, 0, size);
	assert_int_equal(famrt_pread(f, got, size, 0), (ssize_t)size);
	assert_memory_equal(got, ref, size);
	for (int i = 0; i < 300; i++) {
		uint64_t o = (uint64_t)rand() % size;
		size_t len = (size_t)rand() % (3u << 20);
		size_t want;

		if (len > size)
			len = size; /* got holds size bytes */
		want = len < size - o ? len : size - o;
		assert_int_equal(famrt_pread(f, got, len, o), (ssize_t)want);
		assert_memory_equal(got, ref + o, want);
	}
	/* At and past the end. */
	assert_int_equal(famrt_pread(f, got, 10, size), 0);
	assert_int_equal(famrt_pread(f, got, 10, size + 100), 0);
	assert_int_equal(famrt_pread(f, got, 100, size - 10), 10);
	assert_int_equal(famrt_pwrite(f, ref, 10, size), -EFBIG);
	assert_non_null(strstr(famrt_errmsg(), "grow"));
	assert_int_equal(famrt_pwrite(f, ref + size - 10, 100, size - 10), 10);
	assert_int_equal(famrt_close(f), 0);

	/* A read-only open sees the same bytes and cannot write. */
	assert_int_equal(famrt_open(v->c, path, O_RDONLY, &f), 0);
	assert_int_equal(famrt_pread(f, got, size, 0), (ssize_t)size);
	assert_memory_equal(got, ref, size);
	assert_int_equal(famrt_pwrite(f, ref, 1, 0), -EBADF);
	{
		void *p;

		assert_int_equal(famrt_mmap(f, 0, 0, PROT_READ, &p), 0);
		assert_memory_equal(p, ref, size);
		assert_int_equal(famrt_munmap(v->c, p), 0);
		if (size > (6u << 20)) {
			assert_int_equal(famrt_mmap(f, 5u << 20, 1u << 20,
						    PROT_READ, &p),
					 0);
			assert_memory_equal(p, ref + (5u << 20), 1u << 20);
			assert_int_equal(famrt_munmap(v->c, p), 0);
		}
		assert_int_equal(famrt_mmap(f, 0, 0, PROT_READ | PROT_WRITE,
					    &p),
				 -EACCES);
	}
	assert_int_equal(famrt_close(f), 0);
	free(ref);
	free(got);
}

static void test_simple(void **state)
{
	roundtrip(*state, "/simple", NULL, (9u << 20) + 12345);
}

static void test_interleaved(void **state)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true };

	roundtrip(*state, "/ilv3", &lay, (21u << 20) + 777);
	lay.ndevs = 2;
	lay.devs[0] = 2;
	lay.devs[1] = 0;
	roundtrip(*state, "/ilv2", &lay, 13u << 20);
}

static void test_fork_child_reads(void **state)
{
	struct rt_env *v = *state;
	struct famrt_file *f;
	uint8_t buf[4096], ref[4096];
	pid_t pid;
	int st;

	fill(ref, sizeof(ref), 42);
	assert_int_equal(famrt_create(v->c, "/forked", 0644, 1u << 20, NULL,
				      &f),
			 0);
	assert_int_equal(famrt_pwrite(f, ref, sizeof(ref), 4096), 4096);
	pid = fork();
	if (pid == 0) {
		struct famrt_file *g;

		/* Inherited handle, then a new open (needs a reconnect). */
		if (famrt_pread(f, buf, sizeof(buf), 4096) != 4096 ||
		    memcmp(buf, ref, sizeof(buf)))
			_exit(1);
		if (famrt_open(v->c, "/simple", O_RDONLY, &g))
			_exit(2);
		if (famrt_pread(g, buf, 16, 0) != 16)
			_exit(3);
		famrt_close(g);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(famrt_close(f), 0);
}

/* Mappings of the file standing in for device 0, in /proc/self/maps. */
static int dev_mappings(const struct rt_env *v)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (l && line[l - 1] == '\n')
			line[--l] = '\0';
		if (l >= strlen(v->fs.dev[0]) &&
		    !strcmp(line + l - strlen(v->fs.dev[0]), v->fs.dev[0]))
			n++;
	}
	fclose(f);
	return n;
}

/*
 * Devices are mapped once per process: a second connection to the same
 * file system shares the first one's mappings (no new mapping of the
 * device appears), reads through it are right, and the first connection
 * goes on after the second is gone.
 */
static void test_second_connection(void **state)
{
	struct rt_env *v = *state;
	struct famrt_connect_opts o = { .size = sizeof(o) };
	struct famrt_file *f, *g;
	struct famrt *c2;
	uint8_t a[4096], b[4096];
	int before;

	o.socket = v->d.socket;
	assert_int_equal(famrt_open(v->c, "/simple", O_RDONLY, &f), 0);
	before = dev_mappings(v);
	assert_true(before >= 1);
	assert_int_equal(famrt_connect(&c2, &o), 0);
	assert_int_equal(dev_mappings(v), before);
	assert_int_equal(famrt_open(c2, "/simple", O_RDONLY, &g), 0);
	assert_int_equal(famrt_pread(f, a, sizeof(a), 123456), sizeof(a));
	assert_int_equal(famrt_pread(g, b, sizeof(b), 123456), sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	famrt_close(g);
	assert_int_equal(famrt_disconnect(c2), 0);
	assert_int_equal(dev_mappings(v), before);
	memset(b, 0, sizeof(b));
	assert_int_equal(famrt_pread(f, b, sizeof(b), 123456), sizeof(b));
	assert_memory_equal(a, b, sizeof(a));
	famrt_close(f);
}

static void test_errors(void **state)
{
	struct rt_env *v = *state;
	struct famrt_file *f;
	struct famrt_stat st;
	struct famrt_dir *d;
	struct famrt_dirent de;
	int n = 0;

	assert_int_equal(famrt_open(v->c, "/nope", O_RDONLY, &f), -ENOENT);
	assert_non_null(strstr(famrt_errmsg(), "/nope"));
	assert_int_equal(famrt_open(v->c, "/", O_RDONLY, &f), -EISDIR);
	assert_int_equal(famrt_open(v->c, "rel", O_RDONLY, &f), -EINVAL);
	assert_int_equal(famrt_open(v->c, "/simple", O_RDONLY | O_CREAT, &f),
			 -EINVAL);
	assert_int_equal(famrt_create(v->c, "/simple", 0644, 1, NULL, &f),
			 -EEXIST);
	assert_int_equal(famrt_stat(v->c, "/simple", &st), 0);
	assert_int_equal(st.size, (9u << 20) + 12345);
	/* Emulated devices have no NUMA node: said so, affinity untouched
	 * (the known-node case runs on real devdax: tests/vm, vm_rt numa). */
	{
		cpu_set_t before, after;

		assert_int_equal(famrt_open(v->c, "/simple", O_RDONLY, &f), 0);
		assert_int_equal(famrt_numa_node(f, 0, 0), -ENOENT);
		assert_non_null(strstr(famrt_errmsg(), "NUMA"));
		assert_int_equal(sched_getaffinity(0, sizeof(before), &before),
				 0);
		assert_int_equal(famrt_bind_near(f, 0, 0), -ENOENT);
		assert_int_equal(sched_getaffinity(0, sizeof(after), &after),
				 0);
		assert_true(CPU_EQUAL(&before, &after));
		famrt_close(f);
	}
	assert_int_equal(famrt_mkdir(v->c, "/dir", 0755), 0);
	assert_int_equal(famrt_opendir(v->c, "/", &d), 0);
	while (famrt_readdir(d, &de) == 1)
		n++;
	assert_true(n >= 4);
	famrt_closedir(d);
	/* Open files keep the connection. */
	assert_int_equal(famrt_open(v->c, "/simple", O_RDONLY, &f), 0);
	assert_int_equal(famrt_disconnect(v->c), -EBUSY);
	famrt_close(f);
}

static void test_growing(void **state)
{
	struct rt_env *v = *state;
	struct famrt_file *f, *g;
	struct famrt_stat st;
	size_t total = (7u << 20) + 4321, gap = 1u << 20;
	uint8_t *ref = calloc(1, total + gap + 100), *got = malloc(total + gap);
	pid_t pid;
	int status;

	assert_non_null(ref);
	assert_non_null(got);
	fill(ref, total, 7);
	assert_int_equal(famrt_create_growing(v->c, "/grown", 0640, &f), 0);
	/* Invisible until committed; a second writer of the name is refused. */
	assert_int_equal(famrt_stat(v->c, "/grown", &st), -ENOENT);
	assert_int_equal(famrt_create_growing(v->c, "/grown", 0640, &g),
			 -EEXIST);
	for (size_t off = 0; off < total;) {
		size_t n = total - off < 65536 ? total - off : 65536;

		assert_int_equal(famrt_pwrite(f, ref + off, n, off), (ssize_t)n);
		off += n;
	}
	/* A write past the end leaves a hole that reads as zeros. */
	assert_int_equal(famrt_pwrite(f, ref, 100, total + gap), 100);
	memcpy(ref + total + gap, ref, 100);
	assert_int_equal(famrt_file_size(f), total + gap + 100);
	assert_int_equal(famrt_pread(f, got, total + gap, 0),
			 (ssize_t)(total + gap));
	assert_memory_equal(got, ref, total + gap);
	assert_int_equal(famrt_close(f), 0);

	assert_int_equal(famrt_stat(v->c, "/grown", &st), 0);
	assert_int_equal(st.size, total + gap + 100);
	assert_int_equal(st.mode & 07777, 0640);
	assert_int_equal(famrt_open(v->c, "/grown", O_RDONLY, &f), 0);
	assert_int_equal(famrt_pread(f, got, total + gap, 0),
			 (ssize_t)(total + gap));
	assert_memory_equal(got, ref, total + gap);
	/* Geometric growth: a handful of extents for 8 MiB. */
	assert_true(famrt_fmap_nextents(famrt_file_fmap(f)) <= 4);
	assert_int_equal(famrt_close(f), 0);

	/* A writer that dies leaves no file (and the name is free again). */
	pid = fork();
	if (pid == 0) {
		struct famrt_file *h;
		struct famrt_connect_opts o = { .size = sizeof(o),
						.socket = v->d.socket };
		struct famrt *c2;

		if (famrt_connect(&c2, &o) ||
		    famrt_create_growing(c2, "/dies", 0644, &h) ||
		    famrt_pwrite(h, ref, 3u << 20, 0) != 3 << 20)
			_exit(1);
		_exit(0); /* no close: no commit */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(famrt_stat(v->c, "/dies", &st), -ENOENT);
	for (int i = 0; i < 200; i++) {
		/* The service notices the disconnect asynchronously. */
		if (!famrt_create_growing(v->c, "/dies", 0644, &f))
			break;
		usleep(10000);
	}
	assert_int_equal(famrt_close(f), 0);
	assert_int_equal(famrt_stat(v->c, "/dies", &st), 0);
	assert_int_equal(st.size, 0);
	free(ref);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_fork_child_reads),
		cmocka_unit_test(test_second_connection),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_growing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
