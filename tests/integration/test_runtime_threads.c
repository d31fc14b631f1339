/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One libfamrt connection used by many threads at once: 8 threads opening,
 * reading (pread, preadv, through shared and private handles), mapping and
 * unmapping, stat-ing, listing and closing files concurrently, each also
 * writing its own file and reading it back, while one more thread creates
 * new files (through a connection of its own, so that the shared one
 * learns of them only when the readers first open them: concurrent first
 * opens, read-write opens of files first opened read-only, and the file
 * cache growing past its first 256 entries) and publishes them; readers
 * pick up published files and check their contents. Every byte read is
 * compared with reference data. Run under ThreadSanitizer (ctest -L
 * threads in the TSan build) and ASan.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "rt_util.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define NTHREADS 8
#define NFILES 10
#define NNEW 320
#define OPS 300

struct file_ref {
	char path[32];
	uint64_t size;
	uint64_t seed;
	uint8_t *ref; /* the contents, made before the file is shared */
};

static struct rt_env E;
static struct file_ref files[NFILES];
static struct famrt_file *shared[NFILES];  /* opened by main, used by all */
static struct file_ref created[NNEW];
static atomic_uint published;               /* created[0..published) ready */
static atomic_uint failures;
static atomic_uint first_open;             /* next created file to open */
static struct famrt *creator_conn;

#define BAD(...)                                                             \
	do {                                                                 \
		fprintf(stderr, __VA_ARGS__);                                \
		fprintf(stderr, " [%s]\n", famrt_errmsg());                 \
		atomic_fetch_add(&failures, 1);                              \
	} while (0)

/* Check buf[0..len) against the reference bytes at off of f. */
static void check(const struct file_ref *f, const uint8_t *buf, uint64_t off,
		  size_t len, const char *how)
{
	if (memcmp(buf, f->ref + off, len))
		BAD("%s %s: %zu bytes at %llu differ", how, f->path, len,
		    (unsigned long long)off);
}

static void one_read(struct famrt_file *h, const struct file_ref *f,
		     uint64_t *r, const char *how)
{
	uint64_t off = rt_rand(r) % f->size;
	size_t len = (size_t)(rt_rand(r) % (256 * KiB)) + 1, want;
	uint8_t *buf = malloc(len);
	ssize_t n;

	want = len < f->size - off ? len : (size_t)(f->size - off);
	n = famrt_pread(h, buf, len, off);
	if (n != (ssize_t)want)
		BAD("%s pread %s: %zd, expected %zu", how, f->path, n, want);
	else
		check(f, buf, off, want, how);
	free(buf);
}

static void one_map(struct famrt_file *h, const struct file_ref *f,
		    uint64_t *r)
{
	uint64_t off = rt_rand(r) % f->size;
	size_t len = (size_t)(rt_rand(r) % (f->size - off)) + 1;
	void *p;
	int rc = famrt_mmap(h, off, len, PROT_READ, &p);

	if (rc) {
		BAD("mmap %s %zu at %llu: %d", f->path, len,
		    (unsigned long long)off, rc);
		return;
	}
	check(f, p, off, len, "mmap");
	if (famrt_munmap(E.c, p))
		BAD("munmap %s", f->path);
}

static void one_readv(struct famrt_file *h, const struct file_ref *f,
		      uint64_t *r)
{
	struct iovec iov[16];
	uint8_t buf[16 * 600];
	uint64_t off = rt_rand(r) % f->size;
	size_t total = 0, want;
	ssize_t n;

	for (int i = 0; i < 16; i++) {
		iov[i].iov_base = buf + total;
		iov[i].iov_len = (size_t)(rt_rand(r) % 600);
		total += iov[i].iov_len;
	}
	want = total < f->size - off ? total : (size_t)(f->size - off);
	n = famrt_preadv(h, iov, 16, off);
	if (n != (ssize_t)want)
		BAD("preadv %s: %zd, expected %zu", f->path, n, want);
	else
		check(f, buf, off, want, "preadv");
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t r = 1000 + id;
	char own[32];
	struct famrt_file *mine;
	uint8_t *wbuf = malloc(64 * KiB), *rbuf = malloc(64 * KiB);
	uint64_t own_size;

	/* This thread's own file (created by main) for writes. */
	snprintf(own, sizeof(own), "/own%u", (unsigned)id);
	if (famrt_open(E.c, own, O_RDWR, &mine)) {
		BAD("open %s", own);
		return NULL;
	}
	own_size = famrt_file_size(mine);
	for (int op = 0; op < OPS; op++) {
		const struct file_ref *f = &files[rt_rand(&r) % NFILES];
		struct famrt_file *h;
		struct famrt_stat st;

		switch (rt_rand(&r) % 9) {
		case 0: /* open, read, close */
			if (famrt_open(E.c, f->path, O_RDONLY, &h)) {
				BAD("open %s", f->path);
				break;
			}
			if (famrt_file_size(h) != f->size)
				BAD("size of %s", f->path);
			one_read(h, f, &r, "private");
			if (famrt_close(h))
				BAD("close");
			break;
		case 1: /* a shared handle */
			one_read(shared[f - files], f, &r, "shared");
			break;
		case 2:
			one_map(shared[f - files], f, &r);
			break;
		case 3: /* map through a private handle, close it first */
			if (famrt_open(E.c, f->path, O_RDONLY, &h)) {
				BAD("open %s", f->path);
				break;
			}
			{
				void *p;

				if (famrt_mmap(h, 0, 0, PROT_READ, &p)) {
					BAD("mmap %s", f->path);
					famrt_close(h);
					break;
				}
				famrt_close(h);
				check(f, p, 0, f->size, "whole map");
				if (famrt_munmap(E.c, p))
					BAD("munmap");
			}
			break;
		case 4:
			if (famrt_stat(E.c, f->path, &st) || st.size != f->size)
				BAD("stat %s", f->path);
			if (famrt_fstat(shared[f - files], &st) ||
			    st.size != f->size)
				BAD("fstat %s", f->path);
			if (famrt_stat(E.c, "/missing", &st) != -ENOENT)
				BAD("stat /missing");
			break;
		case 5:
			one_readv(shared[f - files], f, &r);
			break;
		case 6: { /* published new files: the next unopened, any */
			unsigned n = atomic_load(&published);
			unsigned k = atomic_load(&first_open);
			const struct file_ref *g;

			while (k < n && !atomic_compare_exchange_weak(
						&first_open, &k, k + 1))
				;
			if (k < n) {
				g = &created[k];
				if (famrt_open(E.c, g->path, O_RDONLY, &h)) {
					BAD("first open %s", g->path);
					break;
				}
				one_read(h, g, &r, "first");
				famrt_close(h);
			}
			if (!n)
				break;
			g = &created[rt_rand(&r) % n];
			if (famrt_open(E.c, g->path,
				       rt_rand(&r) % 4 ? O_RDONLY : O_RDWR,
				       &h)) {
				BAD("open new %s", g->path);
				break;
			}
			one_read(h, g, &r, "new");
			famrt_close(h);
			break;
		}
		case 7: { /* write own file, read back */
			uint64_t off = rt_rand(&r) % own_size;
			size_t len = (size_t)(rt_rand(&r) % (64 * KiB)) + 1;

			if (len > own_size - off)
				len = (size_t)(own_size - off);
			rt_fill(wbuf, len, r);
			if (famrt_pwrite(mine, wbuf, len, off) !=
				    (ssize_t)len ||
			    famrt_pread(mine, rbuf, len, off) != (ssize_t)len ||
			    memcmp(wbuf, rbuf, len))
				BAD("own file %s", own);
			break;
		}
		case 8: { /* list the root */
			struct famrt_dir *d;
			struct famrt_dirent de;
			int n = 0, rc;

			if (famrt_opendir(E.c, "/", &d)) {
				BAD("opendir");
				break;
			}
			while ((rc = famrt_readdir(d, &de)) == 1)
				n++;
			if (rc || n < NFILES + NTHREADS)
				BAD("readdir: %d entries, rc %d", n, rc);
			famrt_closedir(d);
			break;
		}
		}
	}
	famrt_close(mine);
	free(wbuf);
	free(rbuf);
	return NULL;
}

static void *creator(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < NNEW; i++) {
		struct file_ref *g = &created[i];
		struct famrt_layout lay = { .size = sizeof(lay),
					    .interleave = i % 2,
					    .ndevs = 2,
					    .devs = { 2, 1 } };
		struct famrt_file *f;

		snprintf(g->path, sizeof(g->path), "/new/%u", i);
		g->size = 5 * KiB + i % 17 * 4099;
		g->seed = 5000 + i;
		if (famrt_create(creator_conn, g->path, 0644, g->size, &lay,
				 &f)) {
			BAD("create %s", g->path);
			return NULL;
		}
		g->ref = malloc(g->size);
		if (!g->ref)
			return NULL;
		rt_fill(g->ref, g->size, g->seed);
		if (famrt_pwrite(f, g->ref, g->size, 0) != (ssize_t)g->size)
			BAD("write %s", g->path);
		famrt_close(f);
		atomic_store(&published, i + 1);
	}
	return NULL;
}

static int setup(void **state)
{
	/* A small unit, so that hundreds of files fit. */
	struct rt_mkfs mk = { .alloc_unit = 64 * KiB };

	(void)state;
	if (rt_env_start(&E, 3, 96 * MiB, &mk, 0))
		return -1;
	creator_conn = rt_connect(E.d.socket, 0);
	return creator_conn ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NFILES; i++) {
		if (shared[i])
			famrt_close(shared[i]);
		free(files[i].ref);
	}
	for (unsigned i = 0; i < NNEW; i++)
		free(created[i].ref);
	if (creator_conn)
		famrt_disconnect(creator_conn);
	rt_env_stop(&E);
	return 0;
}

static void test_threads(void **state)
{
	pthread_t t[NTHREADS], cr;
	uint8_t *buf;

	(void)state;
	for (unsigned i = 0; i < NFILES; i++) {
		struct file_ref *f = &files[i];
		struct famrt_layout lay = { .size = sizeof(lay),
					    .interleave = i % 3 != 0,
					    .chunk = i % 3 == 2 ? 256 * KiB :
								  0 };
		struct famrt_file *h;

		snprintf(f->path, sizeof(f->path), "/f%u", i);
		f->size = (i + 1) * 700 * KiB + i * 13;
		f->seed = 100 + i;
		assert_int_equal(famrt_create(E.c, f->path, 0644, f->size,
					      &lay, &h),
				 0);
		f->ref = malloc(f->size);
		assert_non_null(f->ref);
		rt_fill(f->ref, f->size, f->seed);
		assert_int_equal(famrt_pwrite(h, f->ref, f->size, 0),
				 (ssize_t)f->size);
		assert_int_equal(famrt_close(h), 0);
		assert_int_equal(famrt_open(E.c, f->path, O_RDONLY,
					    &shared[i]),
				 0);
	}
	for (unsigned i = 0; i < NTHREADS; i++) {
		char own[32];
		struct famrt_file *h;

		snprintf(own, sizeof(own), "/own%u", i);
		assert_int_equal(famrt_create(E.c, own, 0644, 1 * MiB, NULL,
					      &h),
				 0);
		assert_int_equal(famrt_close(h), 0);
	}
	assert_int_equal(famrt_mkdir(E.c, "/new", 0755), 0);

	assert_int_equal(pthread_create(&cr, NULL, creator, NULL), 0);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i),
				 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(cr, NULL);
	assert_int_equal(atomic_load(&failures), 0);
	assert_int_equal(atomic_load(&published), NNEW);

	/* Everything the creator made, checked once more. */
	for (unsigned i = 0; i < NNEW; i++) {
		struct famrt_file *h;

		buf = malloc(created[i].size);
		assert_non_null(buf);
		assert_int_equal(famrt_open(E.c, created[i].path, O_RDONLY, &h),
				 0);
		assert_int_equal(famrt_pread(h, buf, created[i].size, 0),
				 (ssize_t)created[i].size);
		check(&created[i], buf, 0, created[i].size, "final");
		assert_int_equal(famrt_close(h), 0);
		free(buf);
	}
	assert_int_equal(atomic_load(&failures), 0);
	for (unsigned i = 0; i < NFILES; i++) {
		assert_int_equal(famrt_close(shared[i]), 0);
		shared[i] = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
