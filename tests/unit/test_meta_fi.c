/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation failures in the metadata writer, SQLite style: make
 * allocation N fail (once, or N and every one after it) for N = 1, 2, ...
 * during famrt_fs_create, famrt_fs_mkdir and famrt_fs_open until the call
 * succeeds. Every failure must return -ENOMEM with a message, leave the log
 * unchanged or the entry whole (a fresh open and fsck agree, nothing
 * skipped), leave the same famrt_fs usable (a follow brings it to what a
 * fresh open sees, and the call then succeeds), and leak nothing.
 *
 * malloc, calloc, realloc and free are wrapped (-Wl,--wrap) in this
 * program and in the library it links statically.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "meta_test.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static long fi_left = -1;  /* allocations that succeed before one fails */
static bool fi_persistent; /* then every later one fails too */
static unsigned fi_failures;
static long fi_live;       /* blocks handed out and not yet freed */

static bool fi_fail(void)
{
	if (fi_left < 0)
		return false;
	if (fi_left == 0) {
		fi_failures++;
		if (!fi_persistent)
			fi_left = -1;
		return true;
	}
	fi_left--;
	return false;
}

void *__wrap_malloc(size_t n)
{
	void *p = fi_fail() ? NULL : __real_malloc(n);

	fi_live += p != NULL;
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *p = fi_fail() ? NULL : __real_calloc(n, size);

	fi_live += p != NULL;
	return p;
}

void *__wrap_realloc(void *p, size_t n)
{
	void *q = fi_fail() ? NULL : __real_realloc(p, n);

	fi_live += q && !p;
	return q;
}

void __wrap_free(void *p)
{
	fi_live -= p != NULL;
	__real_free(p);
}

static void fi_arm(long n, bool persistent)
{
	fi_failures = 0;
	fi_persistent = persistent;
	fi_left = n;
}

static void fi_disarm(void)
{
	fi_left = -1;
}

enum op { OP_CREATE, OP_CREATE_ILV, OP_MKDIR, OP_OPEN };

static const char *op_name(enum op op)
{
	static const char *const names[] = { "create", "create interleaved",
					     "mkdir", "open" };
	return names[op];
}

static int do_op(struct famrt_fs *fs, enum op op, struct famrt_err *e)
{
	struct famrt_alloc_layout l = { .kind = FAMRT_LAYOUT_INTERLEAVE };

	switch (op) {
	case OP_CREATE:
		return famrt_fs_create(fs, "/d/new", 0644, 7, 8, 5 * MT_UNIT + 3,
				       NULL, NULL, e);
	case OP_CREATE_ILV:
		return famrt_fs_create(fs, "/d/new", 0644, 7, 8, 5 * MT_UNIT + 3,
				       &l, NULL, e);
	case OP_MKDIR:
		return famrt_fs_mkdir(fs, "/d/new", 0755, 7, 8, NULL, e);
	default:
		return -EINVAL;
	}
}

/*
 * A file system whose allocator has several free runs and whose
 * namespace is past its first hash-table size, so that growing paths are
 * taken too.
 */
static void setup_fs(struct mt_fs *f)
{
	struct famrt_fs *fs;
	struct famrt_err e;

	mt_make(f, 3, 16 * MT_MiB);
	fs = mt_open(f);
	assert_int_equal(famrt_fs_mkdir(fs, "/d", 0755, 0, 0, NULL, &e), 0);
	for (int i = 0; i < 1023; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/d/%d", i);
		if (i % 100 == 0)
			assert_int_equal(famrt_fs_create(fs, p, 0644, 0, 0,
							 (uint64_t)i * 1000,
							 NULL, NULL, &e),
					 0);
		else
			assert_int_equal(famrt_fs_mkdir(fs, p, 0755, 0, 0,
							NULL, &e),
					 0);
	}
	famrt_fs_close(fs);
}

/* The fresh view: nothing skipped or damaged; returns its dump. */
static char *fresh_checked(const struct mt_fs *f)
{
	struct famrt_fs *fs = mt_open(f);
	char *d;

	assert_int_equal(fs->nskipped, 0);
	assert_int_equal(fs->damage, 0);
	d = mt_dump(fs);
	famrt_fs_close(fs);
	return d;
}

static void fi_loop(enum op op, bool persistent)
{
	struct mt_fs f;
	struct mt_fsck r;
	size_t meta_len = 8192 + MT_LOG;
	uint8_t *meta = malloc(meta_len);
	char *before, *after = NULL;
	long n;
	unsigned failed_runs = 0, whole_runs = 0;

	assert_non_null(meta);
	mt_dump_no_time = true;
	setup_fs(&f);
	mt_pread(f.paths[0], 0, meta, meta_len);
	before = fresh_checked(&f);
	for (n = 0;; n++) {
		struct famrt_fs *fs = NULL;
		struct famrt_err e;
		long base = fi_live;
		char *fresh, *mine;
		int rc;

		famrt_err_clear(&e);
		if (op == OP_OPEN) {
			struct famrt_fs_opts o = { .host_id = MT_MASTER };

			fi_arm(n, persistent);
			rc = famrt_fs_open(&fs, f.paths, f.n, &o, &e);
			fi_disarm();
			if (rc) {
				assert_null(fs);
				assert_int_equal(rc, -ENOMEM);
				assert_true(fi_failures > 0);
				assert_true(e.msg[0] != '\0');
				/* Nothing left allocated. */
				assert_int_equal(fi_live, base);
				failed_runs++;
				continue;
			}
			assert_int_equal(fi_failures, 0);
			mine = mt_dump(fs);
			mt_same(mine, before);
			free(mine);
			famrt_fs_close(fs);
			assert_int_equal(fi_live, base);
			break;
		}
		fs = mt_open(&f);
		fi_arm(n, persistent);
		rc = do_op(fs, op, &e);
		fi_disarm();
		if (rc == 0) {
			/* No failure may be swallowed. */
			assert_int_equal(fi_failures, 0);
		} else {
			if (rc != -ENOMEM)
				print_error("%s, allocation %ld: %d %s\n",
					    op_name(op), n, rc, e.msg);
			assert_int_equal(rc, -ENOMEM);
			assert_true(fi_failures > 0);
			assert_non_null(strstr(e.msg, "memory"));
			failed_runs++;
		}
		/* The log is unchanged, or holds the whole entry. */
		fresh = fresh_checked(&f);
		if (strcmp(fresh, before)) {
			assert_non_null(strstr(fresh, " /d/new"));
			if (rc)
				whole_runs++;
			if (!after)
				after = strdup(fresh);
			mt_same(fresh, after);
		} else {
			assert_int_not_equal(rc, 0);
		}
		/* This famrt_fs catches up with exactly that. */
		assert_int_equal(famrt_fs_follow(fs, NULL, &e), 0);
		assert_int_equal(fs->nskipped, 0);
		assert_int_equal(fs->damage, 0);
		mine = mt_dump(fs);
		mt_same(mine, fresh);
		free(mine);
		/* ... and can still do it, if it was not done. */
		if (!strcmp(fresh, before)) {
			assert_int_equal(do_op(fs, op, &e), 0);
			mine = mt_dump(fs);
			if (!after)
				after = strdup(mine);
			mt_same(mine, after);
			free(mine);
		}
		famrt_fs_close(fs);
		free(fresh);
		assert_int_equal(fi_live, base);
		mt_fsck_clean(&f, &r);
		/* Back to the state before, for the next n. */
		mt_pwrite(f.paths[0], 0, meta, meta_len);
		if (rc == 0)
			break;
	}
	print_message("%s (%s): %ld allocations, %u failed calls, %u of "
		      "them with the entry logged\n",
		      op_name(op), persistent ? "persistent" : "transient", n,
		      failed_runs, whole_runs);
	assert_true(n >= 3);
	assert_int_equal(failed_runs, (unsigned)n);
	if (op != OP_OPEN)
		assert_true(whole_runs > 0);
	free(before);
	free(after);
	free(meta);
}

static void test_create_transient(void **state)
{
	(void)state;
	fi_loop(OP_CREATE, false);
}

static void test_create_persistent(void **state)
{
	(void)state;
	fi_loop(OP_CREATE, true);
}

static void test_create_interleaved(void **state)
{
	(void)state;
	fi_loop(OP_CREATE_ILV, false);
	fi_loop(OP_CREATE_ILV, true);
}

static void test_mkdir(void **state)
{
	(void)state;
	fi_loop(OP_MKDIR, false);
	fi_loop(OP_MKDIR, true);
}

static void test_open(void **state)
{
	(void)state;
	fi_loop(OP_OPEN, false);
	fi_loop(OP_OPEN, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_transient),
		cmocka_unit_test(test_create_persistent),
		cmocka_unit_test(test_create_interleaved),
		cmocka_unit_test(test_mkdir),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
