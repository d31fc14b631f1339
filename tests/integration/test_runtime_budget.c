/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The famrt_mmap budget: a file whose map needs more kernel mappings than
 * the budget allows (famrt_connect_opts.map_budget or $FAMRT_MAP_BUDGET)
 * is refused with ENOMEM and a message that says how many are needed, how
 * many are left and what to change; within the budget it works, up to
 * exactly the budget; famrt_munmap gives the pieces back; a file in one
 * run (mapped from the device mapping itself) costs nothing. Piece counts
 * are computed here from the map with the test's own model, not by the
 * library.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "rt_util.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define PAGE (4 * KiB)
#define FSIZE (256 * KiB)   /* 64 chunks of 4 KiB over 2 devices */

static struct rt_env E;
static uint8_t ref[FSIZE];

static int setup(void **state)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .chunk = PAGE, .ndevs = 2,
				    .devs = { 0, 1 } };
	struct famrt_file *f;

	(void)state;
	if (rt_env_start(&E, 2, 32 * MiB, NULL, 0))
		return -1;
	rt_fill(ref, FSIZE, 9);
	if (famrt_create(E.c, "/many", 0644, FSIZE, &lay, &f) ||
	    famrt_pwrite(f, ref, FSIZE, 0) != FSIZE || famrt_close(f))
		return -1;
	if (famrt_create(E.c, "/one", 0644, FSIZE, NULL, &f) ||
	    famrt_pwrite(f, ref, FSIZE, 0) != FSIZE || famrt_close(f))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rt_env_stop(&E);
	return 0;
}

/*
 * Kernel mappings famrt_mmap needs for [off, off+len): one per run of the
 * map from the page holding off, merging runs that continue each other on
 * the same device.
 */
static uint64_t pieces(const struct famrt_fmap *m, uint64_t off, uint64_t len)
{
	uint64_t x = off / PAGE * PAGE, end = off + len, n = 0;
	uint64_t prev_dev = UINT64_MAX, prev_end = 0;
	struct rt_place p;

	while (x < end && rt_model(m, x, &p)) {
		if (p.dev != prev_dev || p.off != prev_end)
			n++;
		prev_dev = p.dev;
		prev_end = p.off + p.run;
		x += p.run;
	}
	return n;
}

static void expect_refused(struct famrt *c, struct famrt_file *f,
			   uint64_t off, size_t len, uint64_t need,
			   uint64_t left, uint64_t budget)
{
	char want[64];
	void *p = &p;

	(void)c;
	assert_int_equal(famrt_mmap(f, off, len, PROT_READ, &p), -ENOMEM);
	assert_null(p);
	snprintf(want, sizeof(want), "needs %llu kernel mappings",
		 (unsigned long long)need);
	if (!strstr(famrt_errmsg(), want))
		fail_msg("'%s' lacks '%s'", famrt_errmsg(), want);
	snprintf(want, sizeof(want), "only %llu of the budget of %llu",
		 (unsigned long long)left, (unsigned long long)budget);
	if (!strstr(famrt_errmsg(), want))
		fail_msg("'%s' lacks '%s'", famrt_errmsg(), want);
	assert_non_null(strstr(famrt_errmsg(), "FAMRT_MAP_BUDGET"));
	assert_non_null(strstr(famrt_errmsg(), "chunk size"));
	assert_non_null(strstr(famrt_errmsg(), "/many"));
}

static void *map_ok(struct famrt *c, struct famrt_file *f, uint64_t off,
		    size_t len)
{
	void *p;
	int rc = famrt_mmap(f, off, len, PROT_READ, &p);

	(void)c;
	if (rc)
		fail_msg("mmap %zu at %llu: %d %s", len,
			 (unsigned long long)off, rc, famrt_errmsg());
	assert_memory_equal(p, ref + off, len ? len : FSIZE - off);
	return p;
}

/* Budget 20 from the options. */
static void budget_20(struct famrt *c)
{
	struct famrt_file *f, *one;
	const struct famrt_fmap *m;
	uint64_t all, ten;
	void *a, *b, *d, *o;

	assert_int_equal(famrt_open(c, "/many", O_RDONLY, &f), 0);
	m = famrt_file_fmap(f);
	all = pieces(m, 0, FSIZE);
	ten = pieces(m, 8 * PAGE, 10 * PAGE);
	/* The shape this test needs: one piece per 4 KiB chunk. */
	assert_int_equal(all, 64);
	assert_int_equal(ten, 10);

	expect_refused(c, f, 0, 0, all, 20, 20);
	a = map_ok(c, f, 8 * PAGE, 10 * PAGE);
	/* Unaligned: from the page holding the first byte. */
	assert_int_equal(pieces(m, 30 * PAGE + 5, 10 * PAGE - 10), 10);
	b = map_ok(c, f, 30 * PAGE + 5, 10 * PAGE - 10);
	/* Exactly used up: one more piece does not fit. */
	expect_refused(c, f, 50 * PAGE, 1, 1, 0, 20);
	/* A file in one run maps from the device mapping: no pieces. */
	assert_int_equal(famrt_open(c, "/one", O_RDONLY, &one), 0);
	o = map_ok(c, one, 0, 0);
	/* Giving pieces back makes room again. */
	assert_int_equal(famrt_munmap(c, a), 0);
	expect_refused(c, f, 0, 11 * PAGE, 11, 10, 20);
	d = map_ok(c, f, 0, 10 * PAGE);
	assert_memory_equal(b, ref + 30 * PAGE + 5, 10 * PAGE - 10);
	assert_int_equal(famrt_munmap(c, b), 0);
	assert_int_equal(famrt_munmap(c, d), 0);
	assert_int_equal(famrt_munmap(c, o), 0);
	/* Twice is an error, and gives nothing back. */
	assert_int_equal(famrt_munmap(c, d), -EINVAL);
	a = map_ok(c, f, 0, 20 * PAGE);
	expect_refused(c, f, 0, 1, 1, 0, 20);
	assert_int_equal(famrt_munmap(c, a), 0);
	assert_int_equal(famrt_close(one), 0);
	assert_int_equal(famrt_close(f), 0);
}

static void test_budget_option(void **state)
{
	struct famrt *c = rt_connect(E.d.socket, 20);

	(void)state;
	assert_non_null(c);
	budget_20(c);
	assert_int_equal(famrt_disconnect(c), 0);
}

static void test_budget_env(void **state)
{
	struct famrt *c;
	struct famrt_file *f;
	void *p;

	(void)state;
	setenv("FAMRT_MAP_BUDGET", "20", 1);
	c = rt_connect(E.d.socket, 0);
	assert_non_null(c);
	budget_20(c);
	assert_int_equal(famrt_disconnect(c), 0);
	/* The option wins over the environment. */
	c = rt_connect(E.d.socket, 64);
	assert_non_null(c);
	assert_int_equal(famrt_open(c, "/many", O_RDONLY, &f), 0);
	p = map_ok(c, f, 0, 0);
	expect_refused(c, f, 0, 1, 1, 0, 64);
	assert_int_equal(famrt_munmap(c, p), 0);
	assert_int_equal(famrt_close(f), 0);
	assert_int_equal(famrt_disconnect(c), 0);
	unsetenv("FAMRT_MAP_BUDGET");
	/* One less than needed. */
	c = rt_connect(E.d.socket, 63);
	assert_non_null(c);
	assert_int_equal(famrt_open(c, "/many", O_RDONLY, &f), 0);
	expect_refused(c, f, 0, 0, 64, 63, 63);
	assert_int_equal(famrt_close(f), 0);
	assert_int_equal(famrt_disconnect(c), 0);
}

/* A live mapping keeps the connection (famrt_disconnect is EBUSY). */
static void test_mapping_outlives_handle(void **state)
{
	struct famrt *c = rt_connect(E.d.socket, 0);
	struct famrt_file *f;
	void *p;

	(void)state;
	assert_non_null(c);
	assert_int_equal(famrt_open(c, "/many", O_RDONLY, &f), 0);
	p = map_ok(c, f, 100, 0);
	assert_int_equal(famrt_close(f), 0);
	assert_memory_equal(p, ref + 100, FSIZE - 100);
	assert_int_equal(famrt_disconnect(c), -EBUSY);
	assert_non_null(strstr(famrt_errmsg(), "mappings"));
	assert_int_equal(famrt_munmap(c, p), 0);
	assert_int_equal(famrt_disconnect(c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_budget_option),
		cmocka_unit_test(test_budget_env),
		cmocka_unit_test(test_mapping_outlives_handle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
