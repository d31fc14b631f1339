/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt heaps under threads (labels integration;threads, run under TSan):
 * 8 threads allocating and freeing at once, blocks handed to other threads
 * and freed there, threads that exit holding blocks, with and without
 * per-thread caches; a heap destroyed while the threads that used it live
 * on and use another. Every block carries a pattern derived from its
 * address, checked by whichever thread frees it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>
#include <famrt/heap.h>

#include "famrtd_harness.h"
#include "rt_util.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define NTHREADS 8

#include "tsan_options.h"


/* Devices, a file system, famrtd and a connection (rt_util.c). */
static int setup(void **state)
{
	*state = rt_env_new(2, 160 * MiB);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rt_env_free(*state);
	return 0;
}


static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static void pat_fill(void *p, size_t n)
{
	uint64_t seed = (uintptr_t)p * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = mix64(seed + i / 8);

		memcpy((uint8_t *)p + i, &w, n - i < 8 ? n - i : 8);
	}
}

/* The pattern of a block that was at address `at` (it may have moved). */
static bool pat_ok_at(const void *p, size_t n, uintptr_t at)
{
	uint64_t seed = at * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = mix64(seed + i / 8);

		if (memcmp((const uint8_t *)p + i, &w, n - i < 8 ? n - i : 8))
			return false;
	}
	return true;
}

static bool pat_ok(const void *p, size_t n)
{
	return pat_ok_at(p, n, (uintptr_t)p);
}

/* A mailbox per thread: blocks other threads send it to free. */
struct box {
	pthread_mutex_t lock;
	void **p;
	size_t *n;
	size_t len, cap;
};

struct shared {
	struct famrt_heap *h;
	struct box box[NTHREADS];
	atomic_int errors;
	atomic_int running;
	unsigned ops;
	size_t max_size;
};

struct targ {
	struct shared *s;
	int id;
};

static void box_put(struct box *b, void *p, size_t n)
{
	pthread_mutex_lock(&b->lock);
	if (b->len == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 256;

		b->p = realloc(b->p, cap * sizeof(*b->p));
		b->n = realloc(b->n, cap * sizeof(*b->n));
		if (!b->p || !b->n)
			abort();
		b->cap = cap;
	}
	b->p[b->len] = p;
	b->n[b->len++] = n;
	pthread_mutex_unlock(&b->lock);
}

/* Free what others sent; check each block first. */
static void box_drain(struct shared *s, struct box *b)
{
	pthread_mutex_lock(&b->lock);
	while (b->len) {
		void *p = b->p[--b->len];
		size_t n = b->n[b->len];

		if (!famrt_heap_contains(s->h, p) || !pat_ok(p, n) ||
		    famrt_heap_usable_size(s->h, p) < n)
			atomic_fetch_add(&s->errors, 1);
		famrt_heap_free(s->h, p);
	}
	pthread_mutex_unlock(&b->lock);
}

static size_t rand_size(uint64_t *r, size_t max)
{
	unsigned bits;

	*r = mix64(*r);
	bits = (unsigned)(*r % 64);
	if (bits > 20)
		bits %= 12; /* mostly small */
	return 1 + (size_t)((*r >> 16) & (((uint64_t)1 << bits) - 1)) % max;
}

static void *worker(void *arg)
{
	struct targ *t = arg;
	struct shared *s = t->s;
	enum { KEEP = 256 };
	void *mine[KEEP] = { 0 };
	size_t mine_n[KEEP] = { 0 };
	uint64_t r = 1000 + (uint64_t)t->id;

	for (unsigned op = 0; op < s->ops; op++) {
		unsigned slot;
		size_t n = rand_size(&r, s->max_size);
		void *p;

		r = mix64(r);
		slot = (unsigned)(r % KEEP);
		if (mine[slot]) {
			if (!pat_ok(mine[slot], mine_n[slot]))
				atomic_fetch_add(&s->errors, 1);
			if ((r >> 20) % 3 == 0) {
				/* Someone else frees it. */
				box_put(&s->box[(t->id + 1 + (r >> 30) %
						 (NTHREADS - 1)) %
						NTHREADS],
					mine[slot], mine_n[slot]);
			} else if ((r >> 20) % 3 == 1) {
				uintptr_t old = (uintptr_t)mine[slot];
				size_t keep = n < mine_n[slot] ? n :
								 mine_n[slot];
				void *q = famrt_heap_realloc(s->h, mine[slot],
							     n);

				if (!q) {
					atomic_fetch_add(&s->errors, 1);
					continue;
				}
				/* The old pattern moved with the bytes. */
				if (!pat_ok_at(q, keep, old))
					atomic_fetch_add(&s->errors, 1);
				mine[slot] = q;
				mine_n[slot] = n;
				pat_fill(q, n);
				continue;
			} else {
				famrt_heap_free(s->h, mine[slot]);
			}
			mine[slot] = NULL;
		}
		p = (r >> 40) % 4 ? famrt_heap_malloc(s->h, n) :
				    famrt_heap_calloc(s->h, 1, n);
		if (!p || !famrt_heap_contains(s->h, p) ||
		    famrt_heap_usable_size(s->h, p) < n) {
			atomic_fetch_add(&s->errors, 1);
			continue;
		}
		pat_fill(p, n);
		mine[slot] = p;
		mine_n[slot] = n;
		if (op % 64 == 0)
			box_drain(s, &s->box[t->id]);
	}
	/* Odd threads exit holding blocks: others free them later. */
	for (unsigned i = 0; i < KEEP; i++) {
		if (!mine[i])
			continue;
		if (t->id % 2)
			box_put(&s->box[(t->id + 1) % NTHREADS], mine[i],
				mine_n[i]);
		else
			famrt_heap_free(s->h, mine[i]);
	}
	atomic_fetch_sub(&s->running, 1);
	/* Keep draining until everyone is done sending. */
	while (atomic_load(&s->running) > 0) {
		box_drain(s, &s->box[t->id]);
		usleep(1000);
	}
	box_drain(s, &s->box[t->id]);
	return NULL;
}

static void run_threads(struct rt_env *v, const char *path, unsigned flags)
{
	struct famrt_heap_stats st = { .size = sizeof(st) };
	struct shared s = { .ops = 20000, .max_size = 256 * KiB };
	struct targ ta[NTHREADS];
	pthread_t th[NTHREADS];

	assert_int_equal(famrt_heap_create(v->c, path, 96 * MiB, NULL, flags,
					   &s.h),
			 0);
	atomic_init(&s.running, NTHREADS);
	for (int i = 0; i < NTHREADS; i++)
		pthread_mutex_init(&s.box[i].lock, NULL);
	for (int i = 0; i < NTHREADS; i++) {
		ta[i].s = &s;
		ta[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker, &ta[i]),
				 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* The last blocks sent to exited threads: freed here. */
	for (int i = 0; i < NTHREADS; i++)
		box_drain(&s, &s.box[i]);
	assert_int_equal(atomic_load(&s.errors), 0);
	assert_int_equal(famrt_heap_stats(s.h, &st), 0);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.nfailed, 0);
	assert_true(st.nmalloc >= NTHREADS * 10000ull);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_mutex_destroy(&s.box[i].lock);
		free(s.box[i].p);
		free(s.box[i].n);
	}
	assert_int_equal(famrt_heap_destroy(s.h), 0);
}

static void test_threads_tcache(void **state)
{
	run_threads(*state, "/t-cache", 0);
}

static void test_threads_no_tcache(void **state)
{
	run_threads(*state, "/t-nocache", FAMRT_HEAP_NO_TCACHE);
}

/*
 * Space freed is there for whoever asks next, however requests interleave.
 * jemalloc keeps freed pages in a cache that large requests do not draw
 * from until it is purged, and a heap cannot grow: so a request that does
 * not fit purges that cache (reclaim()) and tries again. When two threads
 * do so at once, jemalloc lets only one purge run and the other returns at
 * once, while the pages are still on their way; that thread must wait for
 * the purge, not fail. Here the heap is filled with small blocks and they
 * are all freed (thousands of pages in the cache: a long purge), then
 * threads ask for big blocks together, half of the heap between them.
 */
#define RACE_THREADS 2
#define RACE_HEAP (32 * MiB)
#define RACE_ROUNDS 12

struct race {
	struct famrt_heap *h;
	pthread_barrier_t bar;
	void *got[RACE_THREADS];
};

struct race_arg {
	struct race *r;
	int id;
};

static void *race_worker(void *arg)
{
	struct race_arg *a = arg;

	pthread_barrier_wait(&a->r->bar);
	a->r->got[a->id] = famrt_heap_malloc(a->r->h,
					     RACE_HEAP / 2 / RACE_THREADS);
	return NULL;
}

/*
 * Hand out three quarters of the heap in 64-byte blocks, then free them
 * all (thousands of slabs' pages in jemalloc's cache), and empty this
 * thread's cache so that it pins nothing.
 */
static void fill_small_and_free(struct famrt_heap *h)
{
	struct famrt_heap_stats st = { .size = sizeof(st) };
	size_t n = 0, cap = RACE_HEAP / 64 * 3 / 4;
	void **small = malloc(cap * sizeof(*small));

	assert_non_null(small);
	while (n < cap && (small[n] = famrt_heap_malloc(h, 64)))
		n++;
	assert_int_equal(n, cap);
	for (size_t i = 0; i < n; i++)
		famrt_heap_free(h, small[i]);
	free(small);
	assert_int_equal(famrt_heap_stats(h, &st), 0);
}

static void run_race(struct rt_env *v, const char *path, unsigned flags)
{
	struct race r = { 0 };
	struct race_arg args[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	struct famrt_heap_stats st = { .size = sizeof(st) };
	int lost = 0;

	assert_int_equal(famrt_heap_create(v->c, path, RACE_HEAP, NULL, flags,
					   &r.h),
			 0);
	pthread_barrier_init(&r.bar, NULL, RACE_THREADS);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		fill_small_and_free(r.h);
		for (int i = 0; i < RACE_THREADS; i++) {
			args[i] = (struct race_arg){ .r = &r, .id = i };
			assert_int_equal(pthread_create(&th[i], NULL,
							race_worker, &args[i]),
					 0);
		}
		for (int i = 0; i < RACE_THREADS; i++)
			assert_int_equal(pthread_join(th[i], NULL), 0);
		for (int i = 0; i < RACE_THREADS; i++) {
			if (!r.got[i]) {
				fprintf(stderr, "%s: round %d, thread %d: no "
						"%zu bytes in an empty heap of "
						"%zu\n",
					path, round, i,
					RACE_HEAP / 2 / RACE_THREADS,
					(size_t)RACE_HEAP);
				lost++;
			}
			famrt_heap_free(r.h, r.got[i]);
			r.got[i] = NULL;
		}
	}
	pthread_barrier_destroy(&r.bar);
	assert_int_equal(lost, 0);
	assert_int_equal(famrt_heap_stats(r.h, &st), 0);
	assert_int_equal(st.nfailed, 0);
	assert_int_equal(st.live, 0);
	assert_int_equal(famrt_heap_destroy(r.h), 0);
}

static void test_reclaim_race_no_tcache(void **state)
{
	run_race(*state, "/race-nc", FAMRT_HEAP_NO_TCACHE);
}

static void test_reclaim_race_tcache(void **state)
{
	run_race(*state, "/race", 0);
}

/* Threads that outlive a heap they used, then use a new one. */
struct phase {
	pthread_barrier_t bar;
	struct famrt_heap *h[2];
	atomic_int errors;
};

static void *phase_worker(void *arg)
{
	struct phase *ph = arg;

	for (int k = 0; k < 2; k++) {
		void *p[64];

		pthread_barrier_wait(&ph->bar); /* heap k exists */
		for (int i = 0; i < 64; i++) {
			p[i] = famrt_heap_malloc(ph->h[k], 100 + (size_t)i * 999);
			if (!p[i]) {
				atomic_fetch_add(&ph->errors, 1);
				continue;
			}
			pat_fill(p[i], 100 + (size_t)i * 999);
		}
		for (int i = 0; i < 64; i++) {
			if (!p[i])
				continue;
			if (!pat_ok(p[i], 100 + (size_t)i * 999))
				atomic_fetch_add(&ph->errors, 1);
			famrt_heap_free(ph->h[k], p[i]);
		}
		pthread_barrier_wait(&ph->bar); /* done with heap k */
		pthread_barrier_wait(&ph->bar); /* heap k destroyed */
	}
	return NULL;
}

static void test_heap_outlived(void **state)
{
	struct rt_env *v = *state;
	struct phase ph = { 0 };
	pthread_t th[4];
	struct famrt_heap_stats st = { .size = sizeof(st) };

	pthread_barrier_init(&ph.bar, NULL, 5);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, phase_worker,
						&ph),
				 0);
	for (int k = 0; k < 2; k++) {
		char path[32];

		snprintf(path, sizeof(path), "/phase%d", k);
		assert_int_equal(famrt_heap_create(v->c, path, 16 * MiB, NULL,
						   0, &ph.h[k]),
				 0);
		pthread_barrier_wait(&ph.bar);
		pthread_barrier_wait(&ph.bar);
		assert_int_equal(famrt_heap_stats(ph.h[k], &st), 0);
		assert_int_equal(st.live, 0);
		assert_int_equal(st.nmalloc, 4 * 64);
		/* Destroyed while the threads that cached its blocks live. */
		assert_int_equal(famrt_heap_destroy(ph.h[k]), 0);
		pthread_barrier_wait(&ph.bar);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&ph.bar);
	assert_int_equal(atomic_load(&ph.errors), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_threads_tcache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_threads_no_tcache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_heap_outlived, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_race_no_tcache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_race_tcache, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
