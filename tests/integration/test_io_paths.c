/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt_pread and famrt_pwrite take a short path for a range in one run
 * (the whole file, or one piece of its map) with small copies done inline,
 * and the general path (the fmap iterator) for everything else. These
 * tests drive both, at every small length and around every kind of
 * boundary, against a real famrtd, and check the bytes against a pattern
 * computed here and against a famrt_mmap view of the file (the kernel's
 * mapping, not the copy code under test).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "famrtd_harness.h"
#include "rt_util.h"

#define KiB 1024u
#define MiB (1024u * 1024)
#define GUARD 64


/* Devices, a file system, famrtd and a connection (rt_util.c). */
static int setup(void **state)
{
	*state = rt_env_new(2, 64u << 20);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rt_env_free(*state);
	return 0;
}


/* The byte at file offset off of pattern `seed`. */
static uint8_t pat(uint64_t seed, uint64_t off)
{
	uint64_t z = off * 0x9e3779b97f4a7c15ull + seed;

	z ^= z >> 29;
	z *= 0xbf58476d1ce4e5b9ull;
	return (uint8_t)(z >> 56);
}

static void pat_fill(uint8_t *b, uint64_t off, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(seed, off + i);
}

/* Fill the whole file with pattern seed, in large writes. */
static void file_fill(struct famrt_file *f, uint64_t seed)
{
	uint64_t size = famrt_file_size(f);
	size_t chunk = 3 * MiB + 5; /* odd: crosses runs mid-way */
	uint8_t *b = malloc(chunk);

	assert_non_null(b);
	for (uint64_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? (size_t)(size - off) : chunk;

		pat_fill(b, off, n, seed);
		assert_int_equal(famrt_pwrite(f, b, n, off), (ssize_t)n);
	}
	free(b);
}

/* Lengths to try: every one up to 300, then around powers of two. */
static size_t lens[512];
static unsigned nlens;

static void make_lens(void)
{
	static const size_t big[] = {
		511,   512,   513,   1023,   1024,   4095,   4096,
		4097,  65535, 65536, 65537,  131089, 300000, 2 * MiB + 7,
	};

	nlens = 0;
	for (size_t n = 0; n <= 300; n++)
		lens[nlens++] = n;
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		lens[nlens++] = big[i];
}

/*
 * Offsets to try for a read of n bytes: around each boundary b (a run
 * edge), so that the range starts before, at and after it and ends at,
 * before and after it; and near the start and the end of the file.
 */
static unsigned offsets(uint64_t size, const uint64_t *bounds, unsigned nb,
			size_t n, uint64_t *out)
{
	static const int64_t d[] = { -17, -16, -15, -8, -1, 0, 1, 7, 63, 64 };
	unsigned k = 0;

	for (unsigned i = 0; i < nb; i++) {
		for (unsigned j = 0; j < sizeof(d) / sizeof(d[0]); j++) {
			int64_t o = (int64_t)bounds[i] + d[j];

			if (o >= 0 && (uint64_t)o < size)
				out[k++] = (uint64_t)o;
			o = (int64_t)bounds[i] - (int64_t)n + d[j];
			if (o >= 0 && (uint64_t)o < size)
				out[k++] = (uint64_t)o;
		}
	}
	out[k++] = 0;
	out[k++] = 1;
	out[k++] = size - 1;
	if (size > n)
		out[k++] = size - n;
	return k;
}

/* Every length at every offset: pread returns the right bytes, no more. */
static void check_reads(struct famrt_file *f, uint64_t seed,
			const uint64_t *bounds, unsigned nb)
{
	uint64_t size = famrt_file_size(f);
	size_t max = 2 * MiB + 7;
	/* Room for the guards and a destination up to 12 bytes off. */
	uint8_t *buf = malloc(max + 2 * GUARD + 16), *want = malloc(max);
	uint64_t offs[256];

	assert_non_null(buf);
	assert_non_null(want);
	for (unsigned li = 0; li < nlens; li++) {
		size_t n = lens[li];
		unsigned no = offsets(size, bounds, nb, n, offs);

		for (unsigned oi = 0; oi < no; oi++) {
			uint64_t off = offs[oi];
			size_t got = n < size - off ? n : (size_t)(size - off);
			/* Misaligned destinations too. */
			uint8_t *dst = buf + GUARD + (oi % 13);

			uint8_t *end = dst + n + GUARD;

			memset(buf, 0xa5, (size_t)(end - buf));
			assert_int_equal(famrt_pread(f, dst, n, off),
					 (ssize_t)got);
			pat_fill(want, off, got, seed);
			if (memcmp(dst, want, got)) {
				fprintf(stderr, "pread %zu at %llu: wrong "
						"bytes\n",
					n, (unsigned long long)off);
				fail();
			}
			for (uint8_t *p = buf; p < dst; p++)
				assert_int_equal(*p, 0xa5);
			for (uint8_t *p = dst + got; p < end; p++) {
				if (*p != 0xa5)
					fprintf(stderr,
						"pread %zu at %llu (got %zu): "
						"byte %td past the end "
						"written\n",
						n, (unsigned long long)off, got,
						p - (dst + got));
				assert_int_equal(*p, 0xa5);
			}
		}
	}
	free(buf);
	free(want);
}

/*
 * Writes of every length around every boundary, each checked through a
 * mapping of the file (the kernel's view), including the bytes around it.
 */
static void check_writes(struct rt_env *v, struct famrt_file *f, uint64_t seed,
			 const uint64_t *bounds, unsigned nb)
{
	uint64_t size = famrt_file_size(f), ws = seed + 1000;
	size_t max = 2 * MiB + 7;
	uint8_t *srcbuf = malloc(max + 16), *src, *m;
	uint64_t offs[256];
	void *map;

	assert_non_null(srcbuf);
	assert_int_equal(famrt_mmap(f, 0, 0, PROT_READ, &map), 0);
	m = map;
	for (unsigned li = 0; li < nlens; li += 3) {
		size_t n = lens[li];
		unsigned no = offsets(size, bounds, nb, n, offs);

		for (unsigned oi = 0; oi < no; oi++) {
			uint64_t off = offs[oi];
			size_t put = n < size - off ? n : (size_t)(size - off);
			uint64_t lo = off >= GUARD ? off - GUARD : 0;
			uint64_t hi = off + put + GUARD < size ?
					      off + put + GUARD :
					      size;

			/* Source bytes: the new pattern, misaligned too. */
			src = srcbuf + oi % 11;
			pat_fill(src, off, put, ws);
			if (!n) {
				assert_int_equal(famrt_pwrite(f, src, 0, off),
						 0);
				continue;
			}
			assert_int_equal(famrt_pwrite(f, src, n, off),
					 (ssize_t)put);
			for (uint64_t i = lo; i < hi; i++) {
				uint8_t w = i >= off && i < off + put ?
						    pat(ws, i) :
						    pat(seed, i);

				if (m[i] != w) {
					fprintf(stderr,
						"pwrite %zu at %llu: byte %llu "
						"is 0x%02x, want 0x%02x\n",
						n, (unsigned long long)off,
						(unsigned long long)i, m[i], w);
					fail();
				}
			}
			/* Put the old bytes back for the next case. */
			pat_fill(src, off, put, seed);
			assert_int_equal(famrt_pwrite(f, src, put, off),
					 (ssize_t)put);
		}
	}
	assert_int_equal(famrt_munmap(v->c, map), 0);
	free(srcbuf);
}

/* The run edges of f: where one piece of its map ends and the next starts. */
static unsigned run_bounds(struct famrt_file *f, uint64_t *out, unsigned max)
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	struct famrt_fmap_extent x;
	const struct famrt_fmap *m = famrt_file_fmap(f);
	unsigned n = 0;

	/* Chunk edges even where the iterator merges runs. */
	assert_int_equal(famrt_fmap_get_extent(m, 0, &x), 0);
	if (x.chunk_size)
		for (uint64_t o = x.chunk_size;
		     o < famrt_file_size(f) && n < max; o += x.chunk_size)
			out[n++] = o;
	famrt_fmap_iter_init(&it, m, 0, UINT64_MAX);
	while (famrt_fmap_iter_next(&it, &r) && n < max)
		if (r.file_off)
			out[n++] = r.file_off;
	if (!n) {
		/* One run: page and larger edges inside it still matter. */
		out[n++] = 4096;
		out[n++] = 65536;
		out[n++] = 1 * MiB;
	}
	return n;
}

static void paths_on(void **state, const char *path,
		     const struct famrt_layout *lay, uint64_t size)
{
	struct rt_env *v = *state;
	struct famrt_file *f;
	uint64_t bounds[8];
	unsigned nb;

	make_lens();
	assert_int_equal(famrt_create(v->c, path, 0644, size, lay, &f), 0);
	nb = run_bounds(f, bounds, 6);
	if (lay && lay->interleave)
		assert_true(nb >= 3); /* the case is about boundaries */
	file_fill(f, 7);
	check_reads(f, 7, bounds, nb);
	check_writes(v, f, 7, bounds, nb);
	/* After all the writes, the file is the first pattern again. */
	check_reads(f, 7, bounds, nb);
	assert_int_equal(famrt_close(f), 0);
}

/* One run: the whole file at one place (the direct path). */
static void test_simple(void **state)
{
	paths_on(state, "/simple", NULL, 5 * MiB + 4096);
}

/* Interleaved over two devices in 64 KiB chunks: a run edge every 64 KiB. */
static void test_interleaved(void **state)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .nstrips = 2, .chunk = 64 * KiB };

	paths_on(state, "/ilv", &lay, 6 * MiB);
}

/* Interleaved, three strips (not a power of two: the division path). */
static void test_interleaved3(void **state)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .nstrips = 3, .chunk = 64 * KiB,
				    .ndevs = 2, .devs = { 0, 1 } };
	struct rt_env *v = *state;
	struct famrt_file *f;
	int rc = famrt_create(v->c, "/probe3", 0644, 6 * MiB, &lay, &f);

	if (rc) {
		/* Three strips on two devices may be refused: say so. */
		fprintf(stderr, "3 strips on 2 devices: %s\n", famrt_errmsg());
		skip();
	}
	famrt_close(f);
	paths_on(state, "/ilv3", &lay, 6 * MiB);
}

/* The errors and edge results, the same on both paths. */
static void test_edges(void **state)
{
	struct rt_env *v = *state;
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .nstrips = 2, .chunk = 64 * KiB };
	const struct famrt_layout *lays[2] = { NULL, &lay };
	const char *paths[2] = { "/e-simple", "/e-ilv" };
	uint8_t b[64];

	for (int i = 0; i < 2; i++) {
		struct famrt_file *f, *ro;
		uint64_t size = 1 * MiB;

		assert_int_equal(famrt_create(v->c, paths[i], 0644, size,
					      lays[i], &f),
				 0);
		assert_int_equal(famrt_pread(f, b, 0, 0), 0);
		assert_int_equal(famrt_pread(f, NULL, 0, 0), 0);
		assert_int_equal(famrt_pread(f, b, 10, size), 0);
		assert_int_equal(famrt_pread(f, b, 10, size + 1), 0);
		assert_int_equal(famrt_pread(f, b, 10, UINT64_MAX), 0);
		assert_int_equal(famrt_pread(f, b, 64, size - 3), 3);
		assert_int_equal(famrt_pread(f, NULL, 1, 0), -EFAULT);
		assert_int_equal(famrt_pread(NULL, b, 1, 0), -EBADF);
		assert_int_equal(famrt_pread(f, b, (size_t)SSIZE_MAX + 1, 0),
				 -EINVAL);
		assert_int_equal(famrt_pwrite(f, b, 0, 0), 0);
		assert_int_equal(famrt_pwrite(f, b, 0, size + 5), 0);
		assert_int_equal(famrt_pwrite(f, b, 10, size), -EFBIG);
		assert_int_equal(famrt_pwrite(f, b, 64, size - 3), 3);
		assert_int_equal(famrt_pwrite(f, NULL, 1, 0), -EFAULT);
		assert_int_equal(famrt_pwrite(NULL, b, 1, 0), -EBADF);
		assert_int_equal(famrt_pwrite(f, b, (size_t)SSIZE_MAX + 1, 0),
				 -EINVAL);
		assert_int_equal(famrt_open(v->c, paths[i], O_RDONLY, &ro), 0);
		assert_int_equal(famrt_pwrite(ro, b, 1, 0), -EBADF);
		assert_int_equal(famrt_pwrite(ro, b, 0, 0), -EBADF);
		assert_int_equal(famrt_pread(ro, b, 3, size - 3), 3);
		assert_int_equal(famrt_close(ro), 0);
		assert_int_equal(famrt_close(f), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleaved, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_interleaved3, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_edges, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
