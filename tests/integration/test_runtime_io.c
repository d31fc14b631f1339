/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt reads, writes and mappings at every alignment class, on
 * emulated devices with a real famrtd: one byte, across chunk, strip,
 * stripe, extent and device boundaries, at and past the end of the file,
 * zero length; through famrt_pread/pwrite, preadv/pwritev with many small
 * vectors, and famrt_mmap ranges (whole file, unaligned, mid-chunk,
 * written through PROT_WRITE and read back with famrt_pread).
 *
 * Every read is compared with a reference copy kept in memory, and every
 * byte is checked at the place on the devices that an independent model of
 * the fmap arithmetic (rt_model, from docs/fmap-format.md) gives, through
 * the test's own mapping of the device files: a resolver that put bytes in
 * the wrong place consistently would pass a write-then-read test, not this.
 *
 * Layouts: simple (one extent, served from the device mapping directly;
 * several extents on several devices, from a file larger than any
 * device's free space; several extents on one device, from a file created
 * by writing), and interleaved over 2 and 3 devices with chunk = unit and
 * chunk = 4 x unit, nstrips = ndevs and nstrips > ndevs, and a 4 KiB
 * chunk. famrtd's allocator never fragments free space (there is no delete
 * yet), so it never makes several interleaved extents: those, simple
 * extents out of device order, interleaved extents of different shapes
 * (one holding less than its strips could) and extents ending at a
 * device's last byte are served by a stand-in service (fake_famrtd) over
 * real device files.
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
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "fake_famrtd.h"
#include "rt_util.h"

#define MiB (1ull << 20)
#define KiB (1ull << 10)
#define UNIT (2 * MiB)

/* ---- checks shared by every layout ---- */

struct subject {
	struct famrt *c;
	struct famrt_file *f;
	uint8_t *ref;            /* what the file holds */
	uint64_t size;
	uint8_t *const *dev;     /* the test's device mappings */
	uint64_t seed;
	uint64_t b[4096];        /* model boundaries */
	size_t nb;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	assert_non_null(p);
	return p;
}

/* Read [off, off+len) and compare; the buffer past the count stays put. */
static void expect_read(struct subject *s, uint64_t off, size_t len)
{
	size_t want = off >= s->size ? 0 :
		      (len < s->size - off ? len : (size_t)(s->size - off));
	uint8_t *got = xmalloc(len + 64);
	ssize_t n;

	memset(got, 0xa5, len + 64);
	n = famrt_pread(s->f, got, len, off);
	if (n != (ssize_t)want)
		fail_msg("pread(%zu at %llu) of a %llu-byte file gave %zd, "
			 "expected %zu (%s)",
			 len, (unsigned long long)off,
			 (unsigned long long)s->size, n, want, famrt_errmsg());
	if (want && memcmp(got, s->ref + off, want))
		fail_msg("pread(%zu at %llu): wrong bytes", len,
			 (unsigned long long)off);
	for (size_t k = want; k < len + 64; k++)
		if (got[k] != 0xa5)
			fail_msg("pread(%zu at %llu) returned %zu but wrote "
				 "byte %zu of the buffer",
				 len, (unsigned long long)off, want, k);
	free(got);
}

/* Write fresh bytes over [off, off+len) (clipped) and record them. */
static void do_write(struct subject *s, uint64_t off, size_t len)
{
	size_t want = off >= s->size ? 0 :
		      (len < s->size - off ? len : (size_t)(s->size - off));
	uint8_t *src = xmalloc(len);
	ssize_t n;

	rt_fill(src, len, ++s->seed);
	n = famrt_pwrite(s->f, src, len, off);
	if (n != (ssize_t)want)
		fail_msg("pwrite(%zu at %llu) gave %zd, expected %zu (%s)",
			 len, (unsigned long long)off, n, want,
			 famrt_errmsg());
	memcpy(s->ref + off, src, want);
	free(src);
}

static void clip(const struct subject *s, int64_t a, int64_t b, uint64_t *off,
		 size_t *len)
{
	if (a < 0)
		a = 0;
	if ((uint64_t)b > s->size)
		b = (int64_t)s->size;
	*off = (uint64_t)a;
	*len = b > a ? (size_t)(b - a) : 0;
}

static void write_all(struct subject *s)
{
	uint64_t off;

	rt_fill(s->ref, s->size, s->seed);
	/* Odd-sized pieces, so every boundary falls inside some write. */
	for (off = 0; off < s->size;) {
		size_t len = (size_t)(off % 7919 + 1) * 131;
		ssize_t n;

		if (len > s->size - off)
			len = s->size - off;
		n = famrt_pwrite(s->f, s->ref + off, len, off);
		assert_int_equal(n, (ssize_t)len);
		off += len;
	}
}

static void check_all(struct subject *s)
{
	uint8_t *got = xmalloc(s->size);

	assert_int_equal(famrt_pread(s->f, got, s->size, 0), (ssize_t)s->size);
	assert_memory_equal(got, s->ref, s->size);
	free(got);
	assert_int_equal(rt_check_placement(famrt_file_fmap(s->f), s->dev,
					    s->ref, s->size),
			 0);
}

/* Which boundaries to test: all of few, else both ends and a sample. */
static size_t pick(const struct subject *s, uint64_t *out, size_t max)
{
	size_t n = 0;
	uint64_t r = s->seed;

	if (s->nb <= max) {
		memcpy(out, s->b, s->nb * sizeof(*out));
		return s->nb;
	}
	for (size_t i = 0; i < max / 4; i++)
		out[n++] = s->b[i];
	for (size_t i = 0; i < max / 4; i++)
		out[n++] = s->b[s->nb - 1 - i];
	while (n < max)
		out[n++] = s->b[rt_rand(&r) % s->nb];
	return n;
}

static void boundary_classes(struct subject *s)
{
	uint64_t sel[48], off;
	size_t n = pick(s, sel, 48), len;

	for (size_t i = 0; i < n; i++) {
		int64_t b = (int64_t)sel[i];

		/* Single bytes on each side. */
		expect_read(s, (uint64_t)b - 1, 1);
		expect_read(s, (uint64_t)b, 1);
		/* Two bytes straddling it, and wider, unaligned ranges. */
		expect_read(s, (uint64_t)b - 1, 2);
		clip(s, b - 4099, b + 4101, &off, &len);
		expect_read(s, off, len);
		clip(s, b - 100003, b + 70001, &off, &len);
		expect_read(s, off, len);
		/* Write across it, then read it back with a margin. */
		clip(s, b - 33, b + 65, &off, &len);
		do_write(s, off, len);
		clip(s, b - 200, b + 300, &off, &len);
		expect_read(s, off, len);
		do_write(s, (uint64_t)b - 1, 2);
		expect_read(s, (uint64_t)b - 2, 4);
	}
	/* One read and one write over many boundaries at once. */
	if (s->nb >= 2) {
		clip(s, (int64_t)s->b[0] - 7, (int64_t)s->b[s->nb - 1] + 9,
		     &off, &len);
		do_write(s, off, len / 3);
		expect_read(s, off, len);
	}
}

static void edge_classes(struct subject *s)
{
	int64_t z = (int64_t)s->size;
	uint64_t off;
	size_t len;
	uint8_t buf[256] = { 0 };

	/* At the end of file. */
	expect_read(s, (uint64_t)z - 1, 1);
	clip(s, z - 5, z, &off, &len);
	expect_read(s, off, 100);
	clip(s, z - 4096 - 7, z, &off, &len);
	expect_read(s, off, 8192);
	clip(s, z - 3, z, &off, &len);
	do_write(s, off, 10); /* short: at most 3 bytes */
	clip(s, z - 10, z, &off, &len);
	expect_read(s, off, 10);
	/* Past it. */
	expect_read(s, (uint64_t)z, 1);
	expect_read(s, (uint64_t)z + 1, 100);
	expect_read(s, UINT64_MAX, 100);
	expect_read(s, UINT64_MAX - 10, 100);
	assert_int_equal(famrt_pwrite(s->f, buf, 1, (uint64_t)z), -EFBIG);
	assert_non_null(strstr(famrt_errmsg(), "grow"));
	assert_int_equal(famrt_pwrite(s->f, buf, 10, (uint64_t)z + 4096),
			 -EFBIG);
	assert_int_equal(famrt_pwrite(s->f, buf, 10, UINT64_MAX), -EFBIG);
	/* Zero length, anywhere. */
	expect_read(s, 0, 0);
	expect_read(s, (uint64_t)z / 2, 0);
	expect_read(s, (uint64_t)z, 0);
	assert_int_equal(famrt_pread(s->f, NULL, 0, 0), 0);
	assert_int_equal(famrt_pwrite(s->f, buf, 0, (uint64_t)z / 2), 0);
	assert_int_equal(famrt_pwrite(s->f, NULL, 0, 0), 0);
	assert_int_equal(famrt_pread(s->f, NULL, 1, 0), -EFAULT);
	assert_int_equal(famrt_pwrite(s->f, NULL, 1, 0), -EFAULT);
	/* The first and last bytes, alone. */
	do_write(s, 0, 1);
	do_write(s, (uint64_t)z - 1, 1);
	expect_read(s, 0, 2);
	clip(s, z - 2, z, &off, &len);
	expect_read(s, off, len);
}

/* ---- mappings ---- */

static void expect_map(struct subject *s, uint64_t off, size_t len)
{
	size_t want = len ? len : (size_t)(s->size - off);
	void *p;
	int rc = famrt_mmap(s->f, off, len, PROT_READ, &p);

	if (rc)
		fail_msg("famrt_mmap(%llu, %zu): %d %s",
			 (unsigned long long)off, len, rc, famrt_errmsg());
	if (memcmp(p, s->ref + off, want))
		fail_msg("mapping of %zu bytes at %llu shows wrong bytes",
			 want, (unsigned long long)off);
	assert_int_equal(famrt_munmap(s->c, p), 0);
}

static void map_classes(struct subject *s, bool writable)
{
	uint64_t sel[16], off;
	size_t n = pick(s, sel, 16), len;
	uint8_t *p;

	/* Whole file, then the tail and unaligned pieces. */
	expect_map(s, 0, 0);
	expect_map(s, s->size - 1, 0);
	expect_map(s, s->size - 1, 1);
	if (s->size > 10) {
		expect_map(s, s->size - 10, 10);
		expect_map(s, 1, 1);
	}
	for (size_t i = 0; i < n; i++) {
		int64_t b = (int64_t)sel[i];

		clip(s, b - 1, b + 1, &off, &len);
		expect_map(s, off, len);
		clip(s, b - 4096 * 3 - 77, b + 5 * 4096 + 13, &off, &len);
		expect_map(s, off, len);
		clip(s, b - 123, (int64_t)s->size, &off, &len);
		expect_map(s, off, 0);
	}
	/* Starting in the middle of the first piece. */
	if (s->nb) {
		off = s->b[0] / 2 + 123;
		expect_map(s, off, 0);
		expect_map(s, off, (size_t)(s->b[0] - off) + 1);
	}
	/* Errors. */
	assert_int_equal(famrt_mmap(s->f, s->size + 1, 1, PROT_READ,
				    (void **)&p),
			 -EINVAL);
	assert_null(p);
	assert_int_equal(famrt_mmap(s->f, s->size, 0, PROT_READ, (void **)&p),
			 -EINVAL);
	assert_int_equal(famrt_mmap(s->f, s->size - 1, 2, PROT_READ,
				    (void **)&p),
			 -EINVAL);
	assert_non_null(strstr(famrt_errmsg(), "past the end"));
	assert_int_equal(famrt_mmap(s->f, 0, 0, PROT_READ | PROT_EXEC,
				    (void **)&p),
			 -EINVAL);
	assert_int_equal(famrt_munmap(s->c, s->ref), -EINVAL);
	if (!writable)
		return;

	/* Writes through a mapping, read back with famrt_pread. */
	for (size_t i = 0; i < n; i++) {
		int64_t b = (int64_t)sel[i];
		uint8_t *src;

		clip(s, b - 5000, b + 7000, &off, &len);
		if (len < 8)
			continue;
		assert_int_equal(famrt_mmap(s->f, off, len,
					    PROT_READ | PROT_WRITE,
					    (void **)&p),
				 0);
		src = xmalloc(len);
		rt_fill(src, len, ++s->seed);
		memcpy(p, src, len);
		memcpy(s->ref + off, src, len);
		/* A pwrite shows through the live mapping, too. */
		do_write(s, off + len / 2 - 3, 7);
		assert_memory_equal(p + len / 2 - 3, s->ref + off + len / 2 - 3,
				    7);
		assert_int_equal(famrt_munmap(s->c, p), 0);
		free(src);
		clip(s, b - 6000, b + 8000, &off, &len);
		expect_read(s, off, len);
	}
	/* Whole file writable: last byte and first byte. */
	assert_int_equal(famrt_mmap(s->f, 0, 0, PROT_READ | PROT_WRITE,
				    (void **)&p),
			 0);
	p[0] ^= 0xff;
	s->ref[0] ^= 0xff;
	p[s->size - 1] ^= 0x5a;
	s->ref[s->size - 1] ^= 0x5a;
	assert_int_equal(famrt_munmap(s->c, p), 0);
	expect_read(s, 0, 1);
	expect_read(s, s->size - 1, 1);
}

/* ---- vectors ---- */

static void vector_classes(struct subject *s)
{
	enum { NV = 700 };
	struct iovec iov[NV];
	uint8_t *buf = xmalloc(NV * 97 + 64), *src = xmalloc(NV * 97);
	uint64_t r = s->seed, sel[8], off;
	size_t n = pick(s, sel, 8), total;
	ssize_t got;

	for (size_t i = 0; i <= n; i++) {
		/* Around each boundary, and once ending past the file end. */
		bool tail = i == n;
		size_t pos = 0;

		for (int k = 0; k < NV; k++) {
			size_t l = (size_t)(rt_rand(&r) % 97);

			iov[k].iov_base = buf + pos;
			iov[k].iov_len = l;
			pos += l;
		}
		total = pos;
		if (tail)
			off = s->size > 1000 ? s->size - 1000 : 0;
		else
			off = sel[i] > total / 2 ? sel[i] - total / 2 : 0;
		{
			size_t want = off + total <= s->size ?
					      total :
					      (size_t)(s->size - off);

			memset(buf, 0x5c, NV * 97 + 64);
			got = famrt_preadv(s->f, iov, NV, off);
			assert_int_equal(got, (ssize_t)want);
			assert_memory_equal(buf, s->ref + off, want);
			for (size_t k = want; k < NV * 97 + 64; k++)
				assert_int_equal(buf[k], 0x5c);
			/* The same shape, written. */
			rt_fill(src, total, ++s->seed);
			memcpy(buf, src, total);
			got = famrt_pwritev(s->f, iov, NV, off);
			assert_int_equal(got, (ssize_t)want);
			memcpy(s->ref + off, src, want);
			expect_read(s, off > 10 ? off - 10 : 0, want + 20);
		}
	}
	assert_int_equal(famrt_preadv(s->f, iov, 0, 0), 0);
	assert_int_equal(famrt_preadv(s->f, iov, -1, 0), -EINVAL);
	assert_int_equal(famrt_preadv(s->f, iov, IOV_MAX + 1, 0), -EINVAL);
	assert_int_equal(famrt_pwritev(s->f, iov, IOV_MAX + 1, 0), -EINVAL);
	assert_int_equal(famrt_pwritev(s->f, iov, 1, s->size), -EFBIG);
	assert_int_equal(famrt_preadv(s->f, iov, NV, s->size), 0);
	free(buf);
	free(src);
}

/* Everything, on one open file. */
static void exercise(struct subject *s, bool writable)
{
	s->nb = rt_boundaries(famrt_file_fmap(s->f), s->b,
			      sizeof(s->b) / sizeof(s->b[0]));
	if (s->nb > sizeof(s->b) / sizeof(s->b[0]))
		s->nb = sizeof(s->b) / sizeof(s->b[0]);
	write_all(s);
	check_all(s);
	boundary_classes(s);
	check_all(s);
	edge_classes(s);
	check_all(s);
	map_classes(s, writable);
	check_all(s);
	vector_classes(s);
	check_all(s);
}

/* ---- layouts from famrtd ---- */

static void run_file(struct rt_env *v, const char *path, uint64_t size,
		     const struct famrt_layout *lay,
		     void (*shape)(const struct famrt_fmap *, const void *),
		     const void *arg)
{
	struct subject *s = xmalloc(sizeof(*s));
	struct famrt_file *ro;

	memset(s, 0, sizeof(*s));
	s->c = v->c;
	s->size = size;
	s->dev = v->dev;
	s->seed = size;
	s->ref = xmalloc(size);
	if (famrt_create(v->c, path, 0644, size, lay, &s->f))
		fail_msg("create %s: %s", path, famrt_errmsg());
	assert_int_equal(famrt_file_size(s->f), size);
	shape(famrt_file_fmap(s->f), arg);
	exercise(s, true);
	/* A second, read-only handle sees the same and maps read-only. */
	assert_int_equal(famrt_open(v->c, path, O_RDONLY, &ro), 0);
	{
		struct famrt_file *rw = s->f;
		void *p;

		s->f = ro;
		check_all(s);
		expect_map(s, 0, 0);
		assert_int_equal(famrt_mmap(ro, 0, 0, PROT_READ | PROT_WRITE,
					    &p),
				 -EACCES);
		assert_int_equal(famrt_pwrite(ro, s->ref, 1, 0), -EBADF);
		s->f = rw;
	}
	assert_int_equal(famrt_close(ro), 0);
	assert_int_equal(famrt_close(s->f), 0);
	free(s->ref);
	free(s);
}

static int env_up(void **state, uint32_t ndevs, uint64_t devsize)
{
	struct rt_env *v = calloc(1, sizeof(*v));

	*state = v;
	if (!v || rt_env_start(v, ndevs, devsize, NULL, 0))
		return -1;
	return 0;
}

static int env_down(void **state)
{
	struct rt_env *v = *state;

	if (v) {
		rt_env_stop(v);
		free(v);
	}
	return 0;
}

static int setup_3x16(void **state)
{
	return env_up(state, 3, 16 * MiB);
}

static int setup_3x96(void **state)
{
	return env_up(state, 3, 96 * MiB);
}

static void shape_one_extent(const struct famrt_fmap *m, const void *arg)
{
	(void)arg;
	assert_int_equal(famrt_fmap_ext_type(m), FAMRT_FMAP_EXT_SIMPLE);
	assert_int_equal(famrt_fmap_nextents(m), 1);
}

static void shape_multi_extent(const struct famrt_fmap *m, const void *arg)
{
	struct famrt_fmap_extent x;
	uint32_t seen = 0, ne = famrt_fmap_nextents(m);

	(void)arg;
	assert_int_equal(famrt_fmap_ext_type(m), FAMRT_FMAP_EXT_SIMPLE);
	assert_true(ne >= 3);
	for (uint32_t i = 0; i < ne; i++) {
		assert_int_equal(famrt_fmap_get_extent(m, i, &x), 0);
		seen |= 1u << x.strips[0].devindex;
	}
	/* Extent boundaries here are device boundaries. */
	assert_int_equal(__builtin_popcount(seen), 3);
}

/* One extent: the direct path (the whole file in one device run). */
static void test_simple_one_extent(void **state)
{
	run_file(*state, "/one", 5 * MiB + 333, NULL, shape_one_extent, NULL);
	run_file(*state, "/tiny", 1, NULL, shape_one_extent, NULL);
}

/*
 * A file larger than any device's free space: several extents, one per
 * device, so reads cross extents and devices.
 */
static void test_simple_multi_extent(void **state)
{
	run_file(*state, "/multi", 36 * MiB + 777, NULL, shape_multi_extent,
		 NULL);
}

struct ilv_want {
	uint32_t nstrips, ndevs;
	uint64_t chunk;
	const uint32_t *devs;
	bool wraps; /* the file spans more than one stripe */
};

static void shape_ilv(const struct famrt_fmap *m, const void *arg)
{
	const struct ilv_want *w = arg;
	struct famrt_fmap_extent x;

	assert_int_equal(famrt_fmap_ext_type(m), FAMRT_FMAP_EXT_INTERLEAVE);
	assert_int_equal(famrt_fmap_nextents(m), 1);
	assert_int_equal(famrt_fmap_get_extent(m, 0, &x), 0);
	assert_int_equal(x.nstrips, w->nstrips);
	assert_int_equal(x.chunk_size, w->chunk);
	for (uint32_t j = 0; j < x.nstrips; j++)
		assert_int_equal(x.strips[j].devindex, w->devs[j % w->ndevs]);
	if (w->wraps)
		assert_true(famrt_fmap_file_size(m) >
			    (uint64_t)x.nstrips * x.chunk_size);
}

static void ilv_case(struct rt_env *v, const char *path, uint32_t ndevs,
		     const uint32_t *devs, uint32_t nstrips, uint64_t chunk,
		     uint64_t size, bool wraps)
{
	struct famrt_layout lay = { .size = sizeof(lay), .interleave = true,
				    .nstrips = nstrips, .chunk = chunk,
				    .ndevs = ndevs };
	struct ilv_want w = { .nstrips = nstrips, .ndevs = ndevs,
			      .chunk = chunk, .devs = devs, .wraps = wraps };

	memcpy(lay.devs, devs, ndevs * sizeof(*devs));
	run_file(v, path, size, &lay, shape_ilv, &w);
}

/* Two devices: chunk = unit and 4 x unit, nstrips = 2 and 3. */
static void test_interleave_2dev(void **state)
{
	static const uint32_t d2[] = { 2, 0 };

	ilv_case(*state, "/i2u", 2, d2, 2, UNIT, 13 * MiB + 4097, true);
	ilv_case(*state, "/i2u3", 2, d2, 3, UNIT, 11 * MiB + 1, true);
	ilv_case(*state, "/i2q3", 2, d2, 3, 4 * UNIT, 30 * MiB + 123, true);
}

/* Three devices: chunk = unit and 4 x unit, nstrips = 3 and 5. */
static void test_interleave_3dev(void **state)
{
	static const uint32_t d3[] = { 0, 1, 2 };

	ilv_case(*state, "/i3u5", 3, d3, 5, UNIT, 23 * MiB + 5, true);
	ilv_case(*state, "/i3q", 3, d3, 3, 4 * UNIT, 50 * MiB + 999, true);
}

/* A 4 KiB chunk (the emulated devices' alignment): thousands of runs. */
static void test_interleave_small_chunk(void **state)
{
	static const uint32_t d3[] = { 1, 2, 0 };

	ilv_case(*state, "/i3k", 3, d3, 4, 4 * KiB, 3 * MiB + 17, true);
}

static void shape_grown(const struct famrt_fmap *m, const void *arg)
{
	struct famrt_fmap_extent x;
	uint32_t ne = famrt_fmap_nextents(m), per_dev[3] = { 0 };
	bool shared = false;

	(void)arg;
	assert_int_equal(famrt_fmap_ext_type(m), FAMRT_FMAP_EXT_SIMPLE);
	assert_true(ne >= 3);
	for (uint32_t i = 0; i < ne; i++) {
		assert_int_equal(famrt_fmap_get_extent(m, i, &x), 0);
		assert_true(x.strips[0].devindex < 3);
		if (per_dev[x.strips[0].devindex]++)
			shared = true;
	}
	/* Several extents on one device: boundaries inside a device. */
	assert_true(shared);
}

/*
 * A file created by writing (famrt_create_growing): space comes in
 * extents that grow as the file does, so its committed map has several
 * extents, some on the same device.
 */
static void test_grown_file(void **state)
{
	struct rt_env *v = *state;
	struct subject *s = xmalloc(sizeof(*s));
	struct famrt_file *w;
	uint64_t off;

	memset(s, 0, sizeof(*s));
	s->c = v->c;
	s->size = 21 * MiB + 4321;
	s->dev = v->dev;
	s->seed = 4321;
	s->ref = xmalloc(s->size);
	rt_fill(s->ref, s->size, 99);
	if (famrt_create_growing(v->c, "/grown", 0644, &w))
		fail_msg("create_growing: %s", famrt_errmsg());
	for (off = 0; off < s->size;) {
		size_t len = 300 * KiB + 17;

		if (len > s->size - off)
			len = (size_t)(s->size - off);
		assert_int_equal(famrt_pwrite(w, s->ref + off, len, off),
				 (ssize_t)len);
		off += len;
	}
	assert_int_equal(famrt_close(w), 0);
	assert_int_equal(famrt_open(v->c, "/grown", O_RDWR, &s->f), 0);
	assert_int_equal(famrt_file_size(s->f), s->size);
	shape_grown(famrt_file_fmap(s->f), NULL);
	check_all(s);
	exercise(s, true);
	assert_int_equal(famrt_close(s->f), 0);
	free(s->ref);
	free(s);
}

/* ---- shapes famrtd cannot make yet, from a stand-in service ---- */

struct fake_env {
	struct fake svc;
	struct fake_cfg *cfg;
	struct famrt *c;
	char dev[2][96];
	uint8_t *map[2];
	size_t len;
};

static void place(struct famrt_fmap_extent *x, uint32_t j, uint32_t dev,
		  uint64_t off, uint64_t len)
{
	x->strips[j].devindex = dev;
	x->strips[j].offset = off;
	x->strips[j].len = len;
}

static struct fake_env fe;

/* Whatever the test got to, undone (it may have failed half way). */
static int fake_down(void **state)
{
	(void)state;
	if (fe.c)
		famrt_disconnect(fe.c);
	fake_stop(&fe.svc);
	for (int i = 0; i < 2; i++) {
		if (fe.map[i] && fe.map[i] != MAP_FAILED)
			munmap(fe.map[i], fe.len);
		if (fe.dev[i][0])
			unlink(fe.dev[i]);
	}
	free(fe.cfg);
	memset(&fe, 0, sizeof(fe));
	return 0;
}

static void test_fake_shapes(void **state)
{
	struct famrt_fmap_desc *d = xmalloc(sizeof(*d));
	const char *names[] = { "/simple4", "/ilv3", "/edge" };
	uint64_t sizes[3];

	(void)state;
	memset(&fe, 0, sizeof(fe));
	fe.cfg = calloc(1, sizeof(*fe.cfg));
	assert_non_null(fe.cfg);
	fe.len = 8 * MiB;
	for (int i = 0; i < 2; i++) {
		int fd;

		snprintf(fe.dev[i], sizeof(fe.dev[i]),
			 "/dev/shm/famrt-test-shapes-%d-%d", (int)getpid(), i);
		fd = open(fe.dev[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, (off_t)fe.len), 0);
		fe.map[i] = mmap(NULL, fe.len, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
		close(fd);
		assert_true(fe.map[i] != MAP_FAILED);
		/* Every byte different, so a misplaced read shows. */
		rt_fill(fe.map[i], fe.len, 1000 + (uint64_t)i);
		snprintf(fe.cfg->dev[i], sizeof(fe.cfg->dev[i]), "%s",
			 fe.dev[i]);
		fe.cfg->access[i] = FAMRT_DEV_ACCESS_RW;
	}
	fe.cfg->ndevs = 2;

	/* Four simple extents, two per device, out of device order. */
	memset(d, 0, sizeof(*d));
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->nextents = 4;
	place(&d->extents[0], 0, 0, 4 * MiB, 64 * KiB);
	place(&d->extents[1], 0, 1, 1 * MiB, 128 * KiB);
	place(&d->extents[2], 0, 0, 1 * MiB, 8 * KiB);
	place(&d->extents[3], 0, 1, 0, 4 * KiB);
	for (int i = 0; i < 4; i++) {
		d->extents[i].nstrips = 1;
		d->extents[i].nbytes = d->extents[i].strips[0].len;
	}
	d->file_size = sizes[0] = (64 + 128 + 8 + 4) * KiB - 1234;
	assert_non_null(fake_add_desc(fe.cfg, names[0], d, UINT64_MAX));

	/*
	 * Three interleaved extents of different shapes; the middle one
	 * holds less than its strips could (ie_nbytes < capacity).
	 */
	memset(d, 0, sizeof(*d));
	d->ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	d->nextents = 3;
	d->extents[0].nstrips = 2;
	d->extents[0].chunk_size = 4 * KiB;
	d->extents[0].nbytes = 32 * KiB;
	place(&d->extents[0], 0, 0, 2 * MiB, 16 * KiB);
	place(&d->extents[0], 1, 1, 2 * MiB, 16 * KiB);
	d->extents[1].nstrips = 3;
	d->extents[1].chunk_size = 8 * KiB;
	d->extents[1].nbytes = 40 * KiB;
	place(&d->extents[1], 0, 1, 3 * MiB, 16 * KiB);
	place(&d->extents[1], 1, 0, 3 * MiB + 64 * KiB, 16 * KiB);
	place(&d->extents[1], 2, 1, 5 * MiB, 16 * KiB);
	d->extents[2].nstrips = 1;
	d->extents[2].chunk_size = 4 * KiB;
	d->extents[2].nbytes = 12 * KiB;
	place(&d->extents[2], 0, 0, 6 * MiB, 12 * KiB);
	d->file_size = sizes[1] = (32 + 40 + 12) * KiB - 100;
	assert_non_null(fake_add_desc(fe.cfg, names[1], d, UINT64_MAX));

	/* The last bytes of each device. */
	memset(d, 0, sizeof(*d));
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->nextents = 2;
	place(&d->extents[0], 0, 1, fe.len - 16 * KiB, 16 * KiB);
	place(&d->extents[1], 0, 0, fe.len - 8 * KiB, 8 * KiB);
	for (int i = 0; i < 2; i++) {
		d->extents[i].nstrips = 1;
		d->extents[i].nbytes = d->extents[i].strips[0].len;
	}
	d->file_size = sizes[2] = 24 * KiB;
	assert_non_null(fake_add_desc(fe.cfg, names[2], d, UINT64_MAX));

	assert_int_equal(fake_start(&fe.svc, fe.cfg), 0);
	fe.c = rt_connect(fe.svc.socket, 0);
	assert_non_null(fe.c);
	for (int i = 0; i < 3; i++) {
		struct subject *s = xmalloc(sizeof(*s));
		const struct famrt_fmap *m;
		struct rt_place p;

		memset(s, 0, sizeof(*s));
		s->c = fe.c;
		s->size = sizes[i];
		s->dev = fe.map;
		s->seed = 77 + (uint64_t)i;
		s->ref = xmalloc(s->size);
		if (famrt_open(fe.c, names[i], O_RDWR, &s->f))
			fail_msg("open %s: %s", names[i], famrt_errmsg());
		m = famrt_file_fmap(s->f);
		/* What is there now, by the model: reads must see it. */
		for (uint64_t x = 0; x < s->size; x += p.run) {
			assert_true(rt_model(m, x, &p));
			if (p.run > s->size - x)
				p.run = s->size - x;
			memcpy(s->ref + x, fe.map[p.dev] + p.off, p.run);
		}
		expect_read(s, 0, s->size);
		expect_map(s, 0, 0);
		exercise(s, true);
		assert_int_equal(famrt_close(s->f), 0);
		free(s->ref);
		free(s);
	}
	assert_int_equal(famrt_disconnect(fe.c), 0);
	fe.c = NULL;
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_one_extent,
						setup_3x16, env_down),
		cmocka_unit_test_setup_teardown(test_simple_multi_extent,
						setup_3x16, env_down),
		cmocka_unit_test_setup_teardown(test_interleave_2dev,
						setup_3x96, env_down),
		cmocka_unit_test_setup_teardown(test_interleave_3dev,
						setup_3x96, env_down),
		cmocka_unit_test_setup_teardown(test_interleave_small_chunk,
						setup_3x16, env_down),
		cmocka_unit_test_setup_teardown(test_grown_file, setup_3x16,
						env_down),
		cmocka_unit_test_setup_teardown(test_fake_shapes, NULL,
						fake_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
