/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt heaps against a real famrtd: sizes from 1 B to 64 MiB, exhaustion
 * (NULL and ENOMEM, nothing corrupted, usable again after frees), realloc,
 * alignment, zeroing of reused memory, placement on the file's devices,
 * statistics, fork, and the errors at the edges.
 *
 * Every block is filled with a pattern derived from its own address (so
 * two blocks that overlapped would spoil each other's) and checked before
 * it is freed; every block must lie inside the heap's mapping, and its
 * bytes must be the file's bytes at the same offset.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jemalloc/jemalloc.h>

#include <famrt/famrt.h>
#include <famrt/heap.h>

#include "famrtd_harness.h"
#include "rt_util.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)

#include "tsan_options.h"


/* Devices, a file system, famrtd and a connection (rt_util.c). */
static int setup(void **state)
{
	*state = rt_env_new(3, 192 * MiB);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct rt_env *v = *state;

	if (v) {
		assert_int_equal(famrt_disconnect(v->c), 0);
		v->c = NULL;
	}
	rt_env_free(v);
	return 0;
}


/* ---- patterns ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Byte i of a block at p: a function of p and i. */
static void pat_fill_seed(void *p, size_t n, uint64_t seed)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = mix64(seed + i / 8);
		size_t k = n - i < 8 ? n - i : 8;

		memcpy(b + i, &w, k);
	}
}

/* The offset of the first wrong byte, or SIZE_MAX. */
static size_t pat_bad_seed(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i += 8) {
		uint64_t w = mix64(seed + i / 8);
		size_t k = n - i < 8 ? n - i : 8;

		if (memcmp(b + i, &w, k))
			for (size_t j = 0; j < k; j++)
				if (b[i + j] != (uint8_t)(w >> (8 * j)))
					return i + j;
	}
	return SIZE_MAX;
}

static void pat_fill(void *p, size_t n)
{
	pat_fill_seed(p, n, (uintptr_t)p * 0x9e3779b97f4a7c15ull);
}

static void pat_check(const void *p, size_t n)
{
	size_t bad = pat_bad_seed(p, n, (uintptr_t)p * 0x9e3779b97f4a7c15ull);

	if (bad != SIZE_MAX)
		fail_msg("block %p (%zu bytes) corrupted at byte %zu", p, n,
			 bad);
}

/* p .. p+n lies inside the heap's mapping, by the heap and by arithmetic. */
static void check_inside(struct famrt_heap *h, const void *p, size_t n)
{
	size_t len;
	uintptr_t base = (uintptr_t)famrt_heap_base(h, &len);

	assert_true(famrt_heap_contains(h, p));
	assert_true(famrt_heap_contains(h, (const uint8_t *)p + n - 1));
	assert_true((uintptr_t)p >= base);
	assert_true((uintptr_t)p + n <= base + len);
}

/* The block's bytes are the file's bytes at the same offset. */
static void check_file_bytes(struct famrt_heap *h, const void *p, size_t n)
{
	uint8_t *buf = malloc(n);
	uintptr_t base = (uintptr_t)famrt_heap_base(h, NULL);

	assert_non_null(buf);
	assert_int_equal(famrt_pread(famrt_heap_file(h), buf, n,
				     (uintptr_t)p - base),
			 (ssize_t)n);
	assert_memory_equal(buf, p, n);
	free(buf);
}

static struct famrt_heap *make_heap(struct rt_env *v, const char *path,
				    uint64_t size, unsigned flags)
{
	struct famrt_heap *h;
	int rc = famrt_heap_create(v->c, path, size, NULL, flags, &h);

	if (rc)
		fail_msg("famrt_heap_create %s: %d %s", path, rc,
			 famrt_errmsg());
	return h;
}

static void stats_of(struct famrt_heap *h, struct famrt_heap_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	assert_int_equal(famrt_heap_stats(h, st), 0);
}

/* ---- sizes ---- */

struct blk {
	uint8_t *p;
	size_t n;
};

static int blk_cmp(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

/* No two live blocks overlap (also by address, not only by pattern). */
static void check_disjoint(struct blk *b, size_t n)
{
	struct blk *s = malloc(n * sizeof(*s));

	assert_non_null(s);
	memcpy(s, b, n * sizeof(*s));
	qsort(s, n, sizeof(*s), blk_cmp);
	for (size_t i = 1; i < n; i++)
		if (s[i - 1].p + s[i - 1].n > s[i].p)
			fail_msg("blocks %p (%zu) and %p overlap", s[i - 1].p,
				 s[i - 1].n, s[i].p);
	free(s);
}

static void take(struct famrt_heap *h, struct blk *b, size_t n)
{
	b->p = famrt_heap_malloc(h, n);
	if (!b->p)
		fail_msg("malloc %zu: %s", n, strerror(errno));
	b->n = n;
	assert_true(famrt_heap_usable_size(h, b->p) >= n);
	assert_int_equal((uintptr_t)b->p % 16 * (n >= 16), 0);
	check_inside(h, b->p, n);
	pat_fill(b->p, n);
}

static void give(struct famrt_heap *h, struct blk *b)
{
	pat_check(b->p, b->n);
	famrt_heap_free(h, b->p);
	b->p = NULL;
}

static void test_sizes(void **state)
{
	struct rt_env *v = *state;
	struct famrt_heap *h = make_heap(v, "/sizes", 384 * MiB, 0);
	struct famrt_heap_stats st;
	enum { NLIVE = 4096 };
	struct blk *live = calloc(NLIVE, sizeof(*live));
	size_t nlive = 0, live_bytes = 0;
	uint64_t rnd = 12345;

	assert_non_null(live);
	/* Every size from 1 to 4096, all live at once. */
	for (size_t n = 1; n <= 4096; n++)
		take(h, &live[nlive++], n);
	check_disjoint(live, nlive);
	for (size_t i = 0; i < nlive; i += 97)
		check_file_bytes(h, live[i].p, live[i].n);
	/* Around every power of two up to 64 MiB, one at a time. */
	for (int k = 1; k <= 26; k++) {
		for (int d = -1; d <= 1; d++) {
			struct blk b;
			size_t n = ((size_t)1 << k) + (size_t)(ssize_t)d;

			take(h, &b, n);
			if (k == 26 && d == 0)
				check_file_bytes(h, b.p, b.n);
			give(h, &b);
		}
	}
	for (size_t i = 0; i < nlive; i++)
		give(h, &live[i]);
	nlive = 0;
	/*
	 * Random sizes, log-uniform from 1 B to 2 MiB (20000 operations),
	 * then to 64 MiB (300 operations), allocated and freed in random
	 * order with at most 96 MiB live.
	 */
	for (int op = 0; op < 20300; op++) {
		rnd = mix64(rnd);
		if (nlive && (rnd % 3 == 0 || nlive == NLIVE)) {
			size_t i = (rnd >> 8) % nlive;

			live_bytes -= live[i].n;
			give(h, &live[i]);
			live[i] = live[--nlive];
		} else {
			unsigned bits = (unsigned)((rnd >> 20) %
						   (op < 20000 ? 22 : 27));
			size_t n = 1 + (size_t)((rnd >> 32) &
						(((uint64_t)1 << bits) - 1));

			while (live_bytes + n > 96 * MiB && nlive) {
				live_bytes -= live[nlive - 1].n;
				give(h, &live[--nlive]);
			}
			take(h, &live[nlive], n);
			live_bytes += n;
			nlive++;
		}
		if (op % 5000 == 4999)
			check_disjoint(live, nlive);
	}
	check_disjoint(live, nlive);
	for (size_t i = 0; i < nlive; i += 7)
		check_file_bytes(h, live[i].p, live[i].n);
	stats_of(h, &st);
	assert_int_equal(st.live, nlive);
	while (nlive)
		give(h, &live[--nlive]);
	stats_of(h, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.nfailed, 0);
	assert_true(st.reserved <= st.mapped);
	free(live);
	assert_int_equal(famrt_heap_destroy(h), 0);
}

/* ---- exhaustion ---- */

/* Allocate n-byte blocks until refused; returns how many (b filled). */
static size_t fill_up(struct famrt_heap *h, struct blk *b, size_t cap,
		      size_t n)
{
	size_t k = 0;

	for (;;) {
		void *p;

		errno = 0;
		p = famrt_heap_malloc(h, n);
		if (!p) {
			assert_int_equal(errno, ENOMEM);
			return k;
		}
		if (k == cap)
			fail_msg("more than %zu blocks of %zu bytes fit", cap,
				 n);
		b[k].p = p;
		b[k].n = n;
		check_inside(h, p, n);
		pat_fill(p, n);
		k++;
	}
}

static void test_exhaustion(void **state)
{
	struct rt_env *v = *state;
	const size_t heap = 32 * MiB, cap = 1u << 20;
	struct famrt_heap *h = make_heap(v, "/full", heap, 0);
	struct blk *b = calloc(cap, sizeof(*b));
	struct famrt_heap_stats st;
	size_t n, again, i;
	void *big, *p;

	assert_non_null(b);
	/* Small blocks until the heap is full. */
	n = fill_up(h, b, cap, 200);
	assert_true(n * 200 > heap / 2);
	stats_of(h, &st);
	assert_true(st.nfailed >= 1);
	assert_true(st.reserved <= st.mapped);
	assert_int_equal(st.live, n);
	/* Every size is refused now, and nothing was spoiled. */
	errno = 0;
	assert_null(famrt_heap_malloc(h, 5 * MiB));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(famrt_heap_calloc(h, 1, 1 * MiB));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(famrt_heap_aligned_alloc(h, 1 * MiB, 1 * MiB));
	assert_int_equal(errno, ENOMEM);
	/* A realloc that cannot grow leaves the block as it was. */
	errno = 0;
	assert_null(famrt_heap_realloc(h, b[0].p, 8 * MiB));
	assert_int_equal(errno, ENOMEM);
	for (i = 0; i < n; i++)
		pat_check(b[i].p, b[i].n);
	check_disjoint(b, n);
	/* Free every other block: the same size fits again. */
	for (i = 0; i < n; i += 2)
		give(h, &b[i]);
	again = 0;
	for (i = 0; i < n; i += 2) {
		b[i].p = famrt_heap_malloc(h, 200);
		if (!b[i].p)
			break;
		b[i].n = 200;
		pat_fill(b[i].p, 200);
		again++;
	}
	assert_int_equal(again, (n + 1) / 2);
	for (i = 0; i < n && b[i].p; i++)
		give(h, &b[i]);
	/* All free: one block of half the heap fits. */
	big = famrt_heap_malloc(h, heap / 2);
	assert_non_null(big);
	check_inside(h, big, heap / 2);
	pat_fill(big, heap / 2);
	pat_check(big, heap / 2);
	famrt_heap_free(h, big);

	/* Large blocks until full, then the space goes to small ones. */
	n = fill_up(h, b, cap, 1 * MiB + 1);
	assert_true(n >= 8);
	for (i = 0; i < n; i++)
		give(h, &b[i]);
	n = fill_up(h, b, cap, 64 * KiB);
	assert_true(n * 64 * KiB > heap / 2);
	for (i = 0; i < n; i++)
		give(h, &b[i]);
	/* And calloc of reused, dirtied memory is zero. */
	p = famrt_heap_calloc(h, 1, heap / 2);
	assert_non_null(p);
	for (i = 0; i < heap / 2; i++)
		if (((uint8_t *)p)[i])
			fail_msg("calloc'd byte %zu is 0x%02x", i,
				 ((uint8_t *)p)[i]);
	famrt_heap_free(h, p);
	stats_of(h, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.allocated, 0);
	free(b);
	assert_int_equal(famrt_heap_destroy(h), 0);
}

/* ---- realloc ---- */

static void test_resize(void **state)
{
	struct rt_env *v = *state;
	struct famrt_heap *h = make_heap(v, "/realloc", 256 * MiB, 0);
	size_t sizes[] = { 1, 7, 16, 100, 4096, 5000, 65536, 70000,
			   1 * MiB, 3 * MiB + 5, 16 * MiB, 64 * MiB };
	size_t ns = sizeof(sizes) / sizeof(sizes[0]), cur = 0;
	uint8_t *p = NULL, *other;
	struct famrt_heap_stats st;

	/* A neighbour block, so growing in place is not always possible. */
	other = famrt_heap_malloc(h, 3000);
	assert_non_null(other);
	pat_fill(other, 3000);
	/* Grow through every size, then shrink back; contents kept. */
	for (size_t k = 0; k < 2 * ns; k++) {
		size_t n = k < ns ? sizes[k] : sizes[2 * ns - 1 - k];
		size_t keep = n < cur ? n : cur;
		uint8_t *q = famrt_heap_realloc(h, p, n);

		assert_non_null(q);
		check_inside(h, q, n);
		assert_true(famrt_heap_usable_size(h, q) >= n);
		assert_int_equal(pat_bad_seed(q, keep, 99), SIZE_MAX);
		pat_fill_seed(q, n, 99);
		p = q;
		cur = n;
	}
	pat_check(other, 3000);
	/* size 0 frees; a foreign pointer is refused and left alone. */
	assert_null(famrt_heap_realloc(h, p, 0));
	errno = 0;
	assert_null(famrt_heap_realloc(h, &cur, 10));
	assert_int_equal(errno, EINVAL);
	famrt_heap_free(h, other);
	stats_of(h, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(famrt_heap_destroy(h), 0);
}

/* ---- alignment, calloc, odd arguments ---- */

static void test_aligned(void **state)
{
	struct rt_env *v = *state;
	struct famrt_heap *h = make_heap(v, "/aligned", 128 * MiB, 0);
	uint64_t rnd = 777;
	char purge_all[48];

	snprintf(purge_all, sizeof(purge_all), "arena.%u.purge",
		 (unsigned)MALLCTL_ARENAS_ALL);

	for (size_t a = 1; a <= 16 * MiB; a <<= 1) {
		for (int i = 0; i < 4; i++) {
			size_t n;
			uint8_t *p;

			rnd = mix64(rnd);
			n = 1 + rnd % (a < 64 * KiB ? 3 * a : 256 * KiB);
			p = famrt_heap_aligned_alloc(h, a, n);
			if (!p)
				fail_msg("aligned_alloc(%zu, %zu): %s", a, n,
					 strerror(errno));
			assert_int_equal((uintptr_t)p % a, 0);
			assert_true(famrt_heap_usable_size(h, p) >= n);
			check_inside(h, p, n);
			pat_fill(p, n);
			pat_check(p, n);
			famrt_heap_free(h, p);
		}
	}
	errno = 0;
	assert_null(famrt_heap_aligned_alloc(h, 3, 10));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(famrt_heap_aligned_alloc(h, 0, 10));
	assert_int_equal(errno, EINVAL);
	/* calloc: zeroed even where the memory was used before. */
	for (size_t n = 8; n <= 4 * MiB; n *= 4) {
		uint8_t *p = famrt_heap_malloc(h, n), *z;

		assert_non_null(p);
		memset(p, 0xa5, n);
		famrt_heap_free(h, p);
		/* Push freed extents through jemalloc's purge path. */
		assert_int_equal(mallctl(purge_all, NULL, NULL, NULL, 0), 0);
		z = famrt_heap_calloc(h, n / 8, 8);
		assert_non_null(z);
		for (size_t i = 0; i < n; i++)
			if (z[i])
				fail_msg("calloc(%zu): byte %zu is 0x%02x", n, i,
					 z[i]);
		famrt_heap_free(h, z);
	}
	errno = 0;
	assert_null(famrt_heap_calloc(h, SIZE_MAX / 2, 3));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(famrt_heap_malloc(h, SIZE_MAX - 100));
	assert_int_equal(errno, ENOMEM);
	/* malloc(0) gives distinct blocks. */
	{
		void *a = famrt_heap_malloc(h, 0), *b = famrt_heap_malloc(h, 0);

		assert_non_null(a);
		assert_non_null(b);
		assert_ptr_not_equal(a, b);
		famrt_heap_free(h, a);
		famrt_heap_free(h, b);
	}
	/* Foreign pointers: not contained, ignored by free, size 0. */
	{
		int local;
		void *m = malloc(100);

		assert_false(famrt_heap_contains(h, &local));
		assert_false(famrt_heap_contains(h, m));
		assert_false(famrt_heap_contains(h, NULL));
		assert_int_equal(famrt_heap_usable_size(h, m), 0);
		famrt_heap_free(h, m);
		famrt_heap_free(h, NULL);
		free(m);
	}
	assert_int_equal(famrt_heap_destroy(h), 0);
}

/* ---- placement ---- */

static void test_placement(void **state)
{
	struct rt_env *v = *state;
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true };
	struct famrt_heap *h;
	const struct famrt_fmap *map;
	size_t n = 24 * MiB, seen[4] = { 0 };
	uintptr_t base;
	uint8_t *p, buf[4096];
	int fds[3];

	assert_int_equal(famrt_heap_create(v->c, "/ilv", 96 * MiB, &lay, 0,
					   &h),
			 0);
	base = (uintptr_t)famrt_heap_base(h, NULL);
	map = famrt_file_fmap(famrt_heap_file(h));
	assert_non_null(map);
	p = famrt_heap_malloc(h, n);
	assert_non_null(p);
	pat_fill(p, n);
	for (int i = 0; i < 3; i++) {
		fds[i] = open(v->fs.dev[i], O_RDONLY);
		assert_true(fds[i] >= 0);
	}
	/* Each 64 KiB of the block is where the file's map says it is. */
	for (size_t off = 0; off < n; off += 64 * KiB) {
		struct famrt_fmap_run r;
		uint64_t foff = (uintptr_t)p + off - base;
		size_t k = sizeof(buf);

		assert_int_equal(famrt_fmap_resolve(map, foff, &r), 0);
		assert_true(r.dev < 3);
		if (k > r.len)
			k = r.len;
		assert_int_equal(pread(fds[r.dev], buf, k, (off_t)r.dev_off),
				 (ssize_t)k);
		assert_memory_equal(buf, p + off, k);
		seen[r.dev]++;
	}
	for (int i = 0; i < 3; i++) {
		assert_true(seen[i] > 0); /* spread over every device */
		close(fds[i]);
	}
	/* No NUMA node for emulated devices, same as the file says. */
	assert_int_equal(famrt_heap_numa_node(h), -ENOENT);
	assert_int_equal(famrt_numa_node(famrt_heap_file(h), 0, 0), -ENOENT);
	pat_check(p, n);
	famrt_heap_free(h, p);
	assert_int_equal(famrt_heap_destroy(h), 0);
}

/* ---- statistics ---- */

static void test_stats(void **state)
{
	struct rt_env *v = *state;
	struct famrt_heap *h = make_heap(v, "/stats", 16 * MiB, 0);
	struct famrt_heap_stats st;
	size_t sizes[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	void *p[7];
	uint64_t sum = 0, asked = 0;

	stats_of(h, &st);
	assert_int_equal(st.mapped, 16 * MiB);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.nmalloc, 0);
	for (int i = 0; i < 7; i++) {
		p[i] = famrt_heap_malloc(h, sizes[i]);
		assert_non_null(p[i]);
		sum += famrt_heap_usable_size(h, p[i]);
		asked += sizes[i];
	}
	stats_of(h, &st);
	assert_int_equal(st.live, 7);
	assert_int_equal(st.nmalloc, 7);
	assert_int_equal(st.allocated, sum);
	assert_int_equal(st.total_bytes, asked);
	assert_true(st.reserved >= sum && st.reserved <= st.mapped);
	{
		uintptr_t base = (uintptr_t)famrt_heap_base(h, NULL);
		uint64_t top = 0;

		for (int i = 0; i < 7; i++) {
			uint64_t e = (uintptr_t)p[i] - base +
				     famrt_heap_usable_size(h, p[i]);

			top = e > top ? e : top;
		}
		assert_int_equal(st.highwater, top);
	}
	for (int i = 0; i < 7; i++)
		famrt_heap_free(h, p[i]);
	stats_of(h, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.nmalloc, 7);
	assert_int_equal(st.total_bytes, asked);
	/* A struct from a larger, future header is filled as far as known. */
	{
		struct {
			struct famrt_heap_stats s;
			uint64_t more;
		} big;

		memset(&big, 0xee, sizeof(big));
		big.s.size = sizeof(big);
		assert_int_equal(famrt_heap_stats(h, &big.s), 0);
		assert_int_equal(big.s.size, sizeof(big.s));
		assert_int_equal(big.more, 0xeeeeeeeeeeeeeeeeull);
		big.s.size = 8;
		assert_int_equal(famrt_heap_stats(h, &big.s), -EINVAL);
	}
	assert_int_equal(famrt_heap_destroy(h), 0);
}

/* ---- two heaps in one thread ---- */

/*
 * Blocks freed to one heap never come out of the other (jemalloc's
 * automatic per-thread cache is shared by all arenas: a heap must not use
 * it), nor out of jemalloc's own default arenas.
 */
static void test_two_heaps(void **state)
{
	struct rt_env *v = *state;
	struct famrt_heap *a = make_heap(v, "/a", 16 * MiB, 0);
	struct famrt_heap *b = make_heap(v, "/b", 16 * MiB, 0);
	const size_t sizes[] = { 8, 48, 200, 1000, 4000, 20000, 100000 };

	for (int round = 0; round < 50; round++) {
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			void *pa[8], *pb[8], *pj[8];

			for (int i = 0; i < 8; i++) {
				pa[i] = famrt_heap_malloc(a, sizes[k]);
				pb[i] = famrt_heap_malloc(b, sizes[k]);
				pj[i] = mallocx(sizes[k], 0);
				assert_non_null(pa[i]);
				assert_non_null(pb[i]);
				assert_non_null(pj[i]);
				assert_true(famrt_heap_contains(a, pa[i]));
				assert_false(famrt_heap_contains(b, pa[i]));
				assert_true(famrt_heap_contains(b, pb[i]));
				assert_false(famrt_heap_contains(a, pb[i]));
				assert_false(famrt_heap_contains(a, pj[i]));
				assert_false(famrt_heap_contains(b, pj[i]));
			}
			for (int i = 0; i < 8; i++) {
				famrt_heap_free(a, pa[i]);
				famrt_heap_free(b, pb[i]);
				dallocx(pj[i], 0);
			}
		}
	}
	assert_int_equal(famrt_heap_destroy(a), 0);
	assert_int_equal(famrt_heap_destroy(b), 0);
}

/* ---- create, open, errors ---- */

static void test_create_open(void **state)
{
	struct rt_env *v = *state;
	struct famrt_layout lay = { .size = sizeof(lay) };
	struct famrt_heap *h, *g;
	struct famrt_stat fst;
	void *p;

	assert_int_equal(famrt_heap_create(v->c, "/small", 1 * MiB, NULL, 0,
					   &h),
			 -EINVAL);
	assert_non_null(strstr(famrt_errmsg(), "too small"));
	assert_int_equal(famrt_heap_create(v->c, "/x", 4 * MiB, NULL, 0x100,
					   &h),
			 -EINVAL);
	assert_int_equal(famrt_heap_create(NULL, "/x", 4 * MiB, NULL, 0, &h),
			 -EINVAL);
	assert_int_equal(famrt_heap_create(v->c, "/nope", 0, NULL,
					   FAMRT_HEAP_OPEN, &h),
			 -ENOENT);
	assert_non_null(strstr(famrt_errmsg(), "/nope"));

	h = make_heap(v, "/h", 8 * MiB, 0);
	p = famrt_heap_malloc(h, 1000);
	assert_non_null(p);
	memset(p, 'x', 1000);
	assert_int_equal(famrt_stat(v->c, "/h", &fst), 0);
	assert_int_equal(fst.size, 8 * MiB);
	assert_int_equal(fst.mode & 07777, 0600);
	/* The file is taken: no second heap may create it. */
	assert_int_equal(famrt_heap_create(v->c, "/h", 8 * MiB, NULL, 0, &g),
			 -EEXIST);
	assert_int_equal(famrt_heap_destroy(h), 0);
	assert_int_equal(famrt_heap_destroy(NULL), 0);
	/* Reopened as a heap: sizes must agree, no layout. */
	assert_int_equal(famrt_heap_create(v->c, "/h", 4 * MiB, NULL,
					   FAMRT_HEAP_OPEN, &g),
			 -EINVAL);
	assert_int_equal(famrt_heap_create(v->c, "/h", 0, &lay,
					   FAMRT_HEAP_OPEN, &g),
			 -EINVAL);
	assert_int_equal(famrt_heap_create(v->c, "/h", 8 * MiB, NULL,
					   FAMRT_HEAP_OPEN, &g),
			 0);
	p = famrt_heap_malloc(g, 5 * MiB);
	assert_non_null(p);
	pat_fill(p, 5 * MiB);
	pat_check(p, 5 * MiB);
	famrt_heap_free(g, p);
	assert_int_equal(famrt_heap_destroy(g), 0);
	/* Many heaps in turn: arenas and caches are given back. */
	for (int i = 0; i < 40; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/many%d", i);
		h = make_heap(v, path, 2 * MiB, i % 2 ? FAMRT_HEAP_NO_TCACHE : 0);
		p = famrt_heap_malloc(h, 100);
		assert_non_null(p);
		famrt_heap_free(h, p);
		assert_int_equal(famrt_heap_destroy(h), 0);
	}
}

/* ---- fork ---- */

static void fork_case(struct rt_env *v, const char *path, unsigned flags,
		      char parent_sees)
{
	struct famrt_heap *h = make_heap(v, path, 16 * MiB, flags);
	size_t n = 1 * MiB;
	uint8_t *a = famrt_heap_malloc(h, n);
	int st;
	pid_t pid;

	assert_non_null(a);
	memset(a, 'P', n);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *b;

		for (size_t i = 0; i < n; i++)
			if (a[i] != 'P')
				_exit(1);
		if (flags & FAMRT_HEAP_FORK_PRIVATE) {
			/* The child's heap is its own: use it freely. */
			b = famrt_heap_malloc(h, 2 * MiB);
			if (!b)
				_exit(2);
			memset(b, 'B', 2 * MiB);
			famrt_heap_free(h, b);
		}
		memset(a, 'C', n);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (size_t i = 0; i < n; i++)
		if (a[i] != parent_sees)
			fail_msg("%s: byte %zu is '%c', not '%c'", path, i, a[i],
				 parent_sees);
	/* The parent's heap goes on working. */
	{
		uint8_t *b = famrt_heap_malloc(h, 3 * MiB);

		assert_non_null(b);
		pat_fill(b, 3 * MiB);
		pat_check(b, 3 * MiB);
		famrt_heap_free(h, b);
	}
	famrt_heap_free(h, a);
	assert_int_equal(famrt_heap_destroy(h), 0);
}

static void test_fork(void **state)
{
	/* Private: the child's writes stay in the child. */
	fork_case(*state, "/fork-private", FAMRT_HEAP_FORK_PRIVATE, 'P');
	/* Default: the mapping is shared, the parent sees the child's. */
	fork_case(*state, "/fork-shared", 0, 'C');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_placement, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_heaps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_open, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
