/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the space allocator (runtime/meta/alloc.c). Every state the
 * allocator reaches is compared with a model kept by the test: one byte per
 * allocation unit of every device. Every map it hands out must pass
 * famrt_fmap_build() with the file system's limits, and resolve onto exactly
 * the device ranges it was given.
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

#include <famrt/fmap.h>

#include "meta/alloc.h"

/*
 * realloc is wrapped (-Wl,--wrap=realloc): oom_countdown > 0 lets that many
 * calls through and then fails every call until it is reset to -1.
 */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);
static long oom_countdown = -1;
static bool oom_hit;

void *__wrap_realloc(void *p, size_t n)
{
	if (oom_countdown == 0) {
		oom_hit = true;
		return NULL;
	}
	if (oom_countdown > 0)
		oom_countdown--;
	return __real_realloc(p, n);
}

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define U2M (2 * MiB)

enum { M_FREE = 0, M_USED = 1, M_OUTSIDE = 2 };

/* An allocator and its model. */
struct fs {
	struct famrt_alloc *a;
	uint64_t unit;
	uint32_t ndevs;
	uint64_t start[FAMRT_MAX_DEVICES];
	uint64_t end[FAMRT_MAX_DEVICES];
	uint64_t align[FAMRT_MAX_DEVICES];
	uint64_t devsize[FAMRT_MAX_DEVICES]; /* region end + one unit */
	uint8_t *map[FAMRT_MAX_DEVICES];     /* per unit of the device */
};

/* A device range. */
struct place {
	uint32_t dev;
	uint64_t off, len;
};

static void fs_init(struct fs *f, uint64_t unit, uint32_t ndevs,
		    const uint64_t *start, const uint64_t *end,
		    const uint64_t *align)
{
	struct famrt_err err;

	memset(f, 0, sizeof(*f));
	f->unit = unit;
	f->ndevs = ndevs;
	assert_int_equal(famrt_alloc_create(&f->a, unit, &err), 0);
	for (uint32_t d = 0; d < ndevs; d++) {
		uint64_t n;

		f->start[d] = start[d];
		f->end[d] = end[d];
		f->align[d] = align ? align[d] : unit;
		f->devsize[d] = end[d] + unit;
		n = f->devsize[d] / unit;
		f->map[d] = malloc(n);
		assert_non_null(f->map[d]);
		for (uint64_t u = 0; u < n; u++)
			f->map[d][u] = (u * unit >= start[d] &&
					u * unit < end[d]) ?
					       M_FREE :
					       M_OUTSIDE;
		assert_int_equal(famrt_alloc_add_device(f->a, d, start[d],
							end[d], f->align[d],
							&err),
				 0);
	}
}

/* Equal devices: region [unit, unit + units * unit) on each. */
static void fs_init_equal(struct fs *f, uint64_t unit, uint32_t ndevs,
			  uint64_t units)
{
	uint64_t s[FAMRT_MAX_DEVICES], e[FAMRT_MAX_DEVICES];

	for (uint32_t d = 0; d < ndevs; d++) {
		s[d] = unit;
		e[d] = unit + units * unit;
	}
	fs_init(f, unit, ndevs, s, e, NULL);
}

static void fs_fini(struct fs *f)
{
	famrt_alloc_destroy(f->a);
	for (uint32_t d = 0; d < f->ndevs; d++)
		free(f->map[d]);
}

static void model_dev_stats(const struct fs *f, uint32_t d,
			    struct famrt_alloc_dev_stats *s)
{
	uint64_t run = 0;

	memset(s, 0, sizeof(*s));
	s->size = f->end[d] - f->start[d];
	for (uint64_t u = f->start[d] / f->unit; u <= f->end[d] / f->unit;
	     u++) {
		if (u < f->end[d] / f->unit && f->map[d][u] == M_FREE) {
			run += f->unit;
			s->free += f->unit;
			continue;
		}
		if (run) {
			s->free_runs++;
			if (run > s->largest_free)
				s->largest_free = run;
		}
		run = 0;
	}
}

/* The allocator's statistics must be the model's. */
static void check_stats(const struct fs *f)
{
	struct famrt_alloc_stats s;
	uint64_t size = 0, fr = 0, largest = 0, runs = 0;

	famrt_alloc_get_stats(f->a, &s);
	assert_int_equal(s.unit, f->unit);
	assert_int_equal(s.ndevs, f->ndevs);
	for (uint32_t d = 0; d < f->ndevs; d++) {
		struct famrt_alloc_dev_stats m;

		model_dev_stats(f, d, &m);
		assert_int_equal(s.dev[d].size, m.size);
		assert_int_equal(s.dev[d].free, m.free);
		assert_int_equal(s.dev[d].largest_free, m.largest_free);
		assert_int_equal(s.dev[d].free_runs, m.free_runs);
		size += m.size;
		fr += m.free;
		runs += m.free_runs;
		if (m.largest_free > largest)
			largest = m.largest_free;
	}
	assert_int_equal(s.size, size);
	assert_int_equal(s.free, fr);
	assert_int_equal(s.largest_free, largest);
	assert_int_equal(s.free_runs, runs);
}

/* Model: mark [off, off + len) used; every unit must be free. */
static void model_take(struct fs *f, uint32_t d, uint64_t off, uint64_t len)
{
	assert_true(d < f->ndevs);
	assert_int_equal(off % f->unit, 0);
	assert_int_equal(len % f->unit, 0);
	assert_true(len > 0);
	assert_true(off >= f->start[d]);
	assert_true(off + len <= f->end[d]);
	for (uint64_t u = off / f->unit; u < (off + len) / f->unit; u++) {
		assert_int_equal(f->map[d][u], M_FREE);
		f->map[d][u] = M_USED;
	}
}

static void model_give(struct fs *f, uint32_t d, uint64_t off, uint64_t len)
{
	for (uint64_t u = off / f->unit; u < (off + len) / f->unit; u++) {
		assert_int_equal(f->map[d][u], M_USED);
		f->map[d][u] = M_FREE;
	}
}

/* Is [off, off + len) of d all free in the model (and in the region)? */
static int model_state(const struct fs *f, uint32_t d, uint64_t off,
		       uint64_t len)
{
	int used = 0;

	if (off < f->start[d] || off + len > f->end[d])
		return M_OUTSIDE;
	for (uint64_t u = off / f->unit; u < (off + len) / f->unit; u++)
		if (f->map[d][u] != M_FREE)
			used = 1;
	return used ? M_USED : M_FREE;
}

/* Free runs of device d in the model, by offset. */
static uint32_t model_runs(const struct fs *f, uint32_t d, struct place *out,
			   uint32_t max)
{
	uint32_t n = 0;
	uint64_t u0 = f->start[d] / f->unit, ue = f->end[d] / f->unit;

	for (uint64_t u = u0; u < ue;) {
		uint64_t v = u;

		if (f->map[d][u] != M_FREE) {
			u++;
			continue;
		}
		while (v < ue && f->map[d][v] == M_FREE)
			v++;
		assert_true(n < max);
		out[n].dev = d;
		out[n].off = u * f->unit;
		out[n].len = (v - u) * f->unit;
		n++;
		u = v;
	}
	return n;
}

static uint64_t model_free(const struct fs *f, uint32_t d)
{
	struct famrt_alloc_dev_stats s;

	model_dev_stats(f, d, &s);
	return s.free;
}

static int place_cmp(const void *x, const void *y)
{
	const struct place *a = x, *b = y;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->off != b->off)
		return a->off < b->off ? -1 : 1;
	return 0;
}

static int u64_desc(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a > b ? -1 : a < b ? 1 : 0;
}

/* Sort and merge touching ranges; returns the new count. */
static size_t merge_places(struct place *p, size_t n)
{
	size_t k = 0;

	qsort(p, n, sizeof(*p), place_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && p[k - 1].dev == p[i].dev &&
		    p[k - 1].off + p[k - 1].len == p[i].off) {
			p[k - 1].len += p[i].len;
			continue;
		}
		/* Ranges never overlap. */
		if (k && p[k - 1].dev == p[i].dev)
			assert_true(p[k - 1].off + p[k - 1].len <= p[i].off);
		p[k++] = p[i];
	}
	return k;
}

static size_t desc_places(const struct famrt_fmap_desc *d, struct place *p)
{
	size_t n = 0;

	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *x = &d->extents[i];
		uint32_t ns = d->ext_type == FAMRT_FMAP_EXT_INTERLEAVE ?
				      x->nstrips :
				      1;

		for (uint32_t j = 0; j < ns; j++) {
			p[n].dev = x->strips[j].devindex;
			p[n].off = x->strips[j].offset;
			p[n].len = x->strips[j].len;
			n++;
		}
	}
	return n;
}

/* Limits of the file system: unit alignment (see alloc.h for chunks). */
static struct famrt_fmap *build_ok(const struct fs *f,
				   const struct famrt_fmap_desc *d)
{
	struct famrt_fmap_limits lim = { .size = sizeof(lim) };
	struct famrt_fmap_error ferr;
	struct famrt_fmap *m = NULL;
	int rc;

	lim.align = f->unit;
	if (d->ext_type == FAMRT_FMAP_EXT_INTERLEAVE)
		for (uint32_t i = 0; i < d->nextents; i++)
			if (d->extents[i].chunk_size % f->unit) {
				lim.align = f->align[0];
				for (uint32_t k = 1; k < f->ndevs; k++)
					if (f->align[k] < lim.align)
						lim.align = f->align[k];
			}
	lim.ndevices = f->ndevs;
	lim.dev_size = f->devsize;
	lim.dev_align = f->align;
	rc = famrt_fmap_build(d, &lim, &m, &ferr);
	if (rc)
		print_error("famrt_fmap_build: %s\n", ferr.message);
	assert_int_equal(rc, 0);
	return m;
}

/* The runs of [0, len) of m, in file order. */
static size_t map_runs(const struct famrt_fmap *m, uint64_t len,
		       struct place **out)
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run r;
	size_t n = 0, cap = 64;
	struct place *p = malloc(cap * sizeof(*p));
	uint64_t next = 0;

	assert_non_null(p);
	famrt_fmap_iter_init(&it, m, 0, len);
	while (famrt_fmap_iter_next(&it, &r)) {
		assert_int_equal(r.file_off, next);
		next += r.len;
		if (n == cap) {
			cap *= 2;
			p = realloc(p, cap * sizeof(*p));
			assert_non_null(p);
		}
		p[n].dev = r.dev;
		p[n].off = r.dev_off;
		p[n].len = r.len;
		n++;
	}
	assert_int_equal(next, len);
	*out = p;
	return n;
}

/*
 * What a layout means, resolved by the test itself: the allowed devices in
 * order, strips per extent, chunk and strip granule.
 */
struct want {
	uint32_t ndevs;
	uint32_t devs[FAMRT_MAX_DEVICES];
	uint32_t nstrips;
	uint64_t chunk;
	uint64_t granule; /* lcm(unit, chunk) */
};

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void want_of(const struct fs *f, const struct famrt_alloc_layout *lay,
		    struct want *w)
{
	memset(w, 0, sizeof(*w));
	if (!lay || lay->ndevs == 0) {
		w->ndevs = f->ndevs;
		for (uint32_t d = 0; d < f->ndevs; d++)
			w->devs[d] = d;
	} else {
		w->ndevs = lay->ndevs;
		memcpy(w->devs, lay->devs, lay->ndevs * sizeof(uint32_t));
	}
	if (lay && lay->kind == FAMRT_LAYOUT_INTERLEAVE) {
		w->nstrips = lay->nstrips ? lay->nstrips : w->ndevs;
		w->chunk = lay->chunk ? lay->chunk : f->unit;
		w->granule = w->chunk / gcd(w->chunk, f->unit) * f->unit;
	}
}

/*
 * Check everything a successful famrt_alloc_file must give: the shape the
 * layout asks for, a map that builds with the limits, resolution onto the
 * file's own ranges only, and (with the file size set to the capacity)
 * onto exactly all of them.
 */
static void check_desc(const struct fs *f, const struct famrt_fmap_desc *d,
		       uint64_t size, const struct famrt_alloc_layout *lay)
{
	struct place *pl = malloc(FAMRT_FMAP_MAX_EXTENTS *
				  FAMRT_FMAP_MAX_STRIPS * sizeof(*pl));
	struct famrt_fmap_desc *cd;
	struct famrt_fmap *m;
	struct place *runs;
	size_t np, nr;
	uint64_t cap = 0, foff = 0, bytes = size ? size : 1;
	struct want w;
	bool ilv = lay && lay->kind == FAMRT_LAYOUT_INTERLEAVE;

	assert_non_null(pl);
	want_of(f, lay, &w);
	assert_int_equal(d->file_type, FAMRT_FMAP_FILE_REG);
	assert_int_equal(d->file_size, size);
	assert_true(d->nextents >= 1 &&
		    d->nextents <= FAMRT_FMAP_MAX_EXTENTS);
	assert_int_equal(d->ext_type, ilv ? FAMRT_FMAP_EXT_INTERLEAVE :
					    FAMRT_FMAP_EXT_SIMPLE);
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *x = &d->extents[i];
		uint64_t held, xcap = x->strips[0].len * x->nstrips;

		if (ilv) {
			assert_int_equal(x->nstrips, w.nstrips);
			assert_int_equal(x->chunk_size, w.chunk);
			for (uint32_t j = 0; j < x->nstrips; j++) {
				assert_int_equal(x->strips[j].len,
						 x->strips[0].len);
				assert_int_equal(x->strips[j].devindex,
						 w.devs[j % w.ndevs]);
			}
			assert_int_equal(x->strips[0].len % w.granule, 0);
			/* Full, but the last holds exactly the rest. */
			if (i + 1 == d->nextents && size)
				assert_int_equal(x->nbytes, size - foff);
			else
				assert_int_equal(x->nbytes, xcap);
		} else {
			bool allowed = false;

			assert_int_equal(x->nbytes, x->strips[0].len);
			for (uint32_t k = 0; k < w.ndevs; k++)
				if (w.devs[k] == x->strips[0].devindex)
					allowed = true;
			assert_true(allowed);
		}
		assert_int_equal(x->file_offset, foff);
		held = foff < size ? (size - foff < x->nbytes ? size - foff :
								x->nbytes) :
				     0;
		assert_int_equal(x->file_bytes, held);
		foff += xcap;
		cap += xcap;
	}
	if (ilv) {
		/* Enough, and no more than one granule per strip to spare. */
		assert_true(cap >= bytes);
		assert_true(cap - bytes < w.nstrips * w.granule);
	} else {
		uint64_t need = (bytes + f->unit - 1) / f->unit * f->unit;

		assert_int_equal(cap, need);
	}
	np = desc_places(d, pl);
	for (size_t i = 0; i < np; i++) {
		assert_true(pl[i].dev < f->ndevs);
		assert_int_equal(pl[i].off % f->unit, 0);
		assert_int_equal(pl[i].len % f->unit, 0);
		assert_true(pl[i].off >= f->start[pl[i].dev]);
		assert_true(pl[i].len <= f->end[pl[i].dev] - pl[i].off);
	}
	np = merge_places(pl, np);

	/* The file's bytes land inside its places, each byte once. */
	m = build_ok(f, d);
	nr = map_runs(m, size, &runs);
	for (size_t i = 0; i < nr; i++) {
		bool inside = false;

		for (size_t k = 0; k < np; k++)
			if (runs[i].dev == pl[k].dev &&
			    runs[i].off >= pl[k].off &&
			    runs[i].off + runs[i].len <= pl[k].off + pl[k].len)
				inside = true;
		assert_true(inside);
	}
	merge_places(runs, nr);
	free(runs);
	famrt_fmap_free(m);

	/* With the size set to the capacity: exactly the places. */
	cd = malloc(sizeof(*cd));
	assert_non_null(cd);
	memcpy(cd, d, sizeof(*cd));
	cd->file_size = cap;
	for (uint32_t i = 0; ilv && i < cd->nextents; i++)
		cd->extents[i].nbytes = cd->extents[i].strips[0].len *
					cd->extents[i].nstrips;
	m = build_ok(f, cd);
	nr = map_runs(m, cap, &runs);
	nr = merge_places(runs, nr);
	assert_int_equal(nr, np);
	for (size_t i = 0; i < np; i++) {
		assert_int_equal(runs[i].dev, pl[i].dev);
		assert_int_equal(runs[i].off, pl[i].off);
		assert_int_equal(runs[i].len, pl[i].len);
	}
	free(runs);
	famrt_fmap_free(m);
	free(cd);
	free(pl);
}

static void model_take_desc(struct fs *f, const struct famrt_fmap_desc *d)
{
	struct place pl[FAMRT_FMAP_MAX_EXTENTS * FAMRT_FMAP_MAX_STRIPS];
	size_t n = desc_places(d, pl);

	for (size_t i = 0; i < n; i++)
		model_take(f, pl[i].dev, pl[i].off, pl[i].len);
}

static void model_give_desc(struct fs *f, const struct famrt_fmap_desc *d)
{
	struct place pl[FAMRT_FMAP_MAX_EXTENTS * FAMRT_FMAP_MAX_STRIPS];
	size_t n = desc_places(d, pl);

	for (size_t i = 0; i < n; i++)
		model_give(f, pl[i].dev, pl[i].off, pl[i].len);
}

static struct famrt_fmap_desc *alloc_ok(struct fs *f, uint64_t size,
					const struct famrt_alloc_layout *lay)
{
	struct famrt_fmap_desc *d = malloc(sizeof(*d));
	struct famrt_err err;
	int rc;

	assert_non_null(d);
	famrt_err_clear(&err);
	rc = famrt_alloc_file(f->a, size, lay, d, &err);
	if (rc)
		print_error("famrt_alloc_file(%llu): %s\n",
			    (unsigned long long)size, err.msg);
	assert_int_equal(rc, 0);
	check_desc(f, d, size, lay);
	model_take_desc(f, d);
	check_stats(f);
	return d;
}

/* A refusal: the given code, a message, nothing changed. */
static void alloc_fails(struct fs *f, uint64_t size,
			const struct famrt_alloc_layout *lay, int code,
			struct famrt_err *err)
{
	struct famrt_fmap_desc *d = malloc(sizeof(*d));

	assert_non_null(d);
	famrt_err_clear(err);
	assert_int_equal(famrt_alloc_file(f->a, size, lay, d, err), -code);
	assert_int_equal(err->code, code);
	assert_true(strlen(err->msg) > 10);
	assert_int_equal(d->nextents, 0);
	check_stats(f);
	free(d);
}

static void release_ok(struct fs *f, struct famrt_fmap_desc *d)
{
	assert_int_equal(famrt_alloc_release_desc(f->a, d), 0);
	model_give_desc(f, d);
	check_stats(f);
	free(d);
}

static void mark_ok(struct fs *f, uint32_t dev, uint64_t off, uint64_t len)
{
	struct famrt_err err;
	int rc = famrt_alloc_mark(f->a, dev, off, len, &err);

	if (rc)
		print_error("mark: %s\n", err.msg);
	assert_int_equal(rc, 0);
	model_take(f, dev, off, (len + f->unit - 1) / f->unit * f->unit);
	check_stats(f);
}

static struct famrt_alloc_layout simple_on(uint32_t n, const uint32_t *devs)
{
	struct famrt_alloc_layout l = { .kind = FAMRT_LAYOUT_SIMPLE, .ndevs = n };

	if (n)
		memcpy(l.devs, devs, n * sizeof(*devs));
	return l;
}

static struct famrt_alloc_layout ilv_on(uint32_t nstrips, uint64_t chunk,
				  uint32_t n, const uint32_t *devs)
{
	struct famrt_alloc_layout l = {
		.kind = FAMRT_LAYOUT_INTERLEAVE,
		.nstrips = nstrips,
		.chunk = chunk,
		.ndevs = n,
	};

	if (n)
		memcpy(l.devs, devs, n * sizeof(*devs));
	return l;
}

static char *hexr(char *buf, uint64_t a, uint64_t b)
{
	sprintf(buf, "[0x%llx, 0x%llx)", (unsigned long long)a,
		(unsigned long long)b);
	return buf;
}

/* ---- tests ---- */

static void test_create_and_devices(void **state)
{
	struct famrt_alloc *a;
	struct famrt_err err;

	(void)state;
	assert_int_equal(famrt_alloc_create(&a, 3 * MiB, &err), -EINVAL);
	assert_null(a);
	assert_int_equal(famrt_alloc_create(&a, 0, &err), -EINVAL);
	assert_int_equal(famrt_alloc_create(&a, U2M, &err), 0);
	/* Out of order, unaligned, reversed, bad alignment. */
	assert_int_equal(famrt_alloc_add_device(a, 1, 0, 8 * U2M, U2M, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_add_device(a, 0, 4096, 8 * U2M, 4096,
						&err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "device 0"));
	assert_int_equal(famrt_alloc_add_device(a, 0, 0, 8 * U2M + 4096, 4096,
						&err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_add_device(a, 0, 8 * U2M, 4 * U2M, 4096,
						&err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_add_device(a, 0, 0, 8 * U2M, 2 * U2M,
						&err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_add_device(a, 0, 0, 8 * U2M, 3 * 4096,
						&err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_add_device(a, 0, 0, 8 * U2M, 0, &err),
			 -EINVAL);
	for (uint32_t d = 0; d < FAMRT_MAX_DEVICES; d++)
		assert_int_equal(famrt_alloc_add_device(a, d, U2M, 9 * U2M,
							4096, &err),
				 0);
	assert_int_equal(famrt_alloc_add_device(a, 32, U2M, 9 * U2M, 4096,
						&err),
			 -EINVAL);
	famrt_alloc_destroy(a);
	famrt_alloc_destroy(NULL);
}

static void test_single_device_fill(void **state)
{
	static const uint64_t sizes[] = { 1, U2M, U2M + 1, 3 * U2M, 0,
					  5 * U2M - 7 };
	struct famrt_fmap_desc *files[64], *three = NULL, *again;
	struct famrt_err err;
	struct fs f;
	uint32_t nf = 0;
	uint64_t units = 64, fr, three_off = 0;
	char r[64];

	(void)state;
	fs_init_equal(&f, U2M, 1, units);
	check_stats(&f);
	/* More than the device holds: refused, nothing changes. */
	alloc_fails(&f, units * U2M + 1, NULL, ENOSPC, &err);
	assert_non_null(strstr(err.msg, "device 0"));
	assert_non_null(strstr(err.msg, "free 128MiB in total"));
	assert_non_null(strstr(err.msg, "largest free run 128MiB"));

	for (uint32_t i = 0;; i++) {
		uint64_t s = sizes[i % 6];
		uint64_t need = ((s ? s : 1) + U2M - 1) / U2M * U2M;

		if (need > model_free(&f, 0))
			break;
		files[nf] = alloc_ok(&f, s, NULL);
		assert_int_equal(files[nf]->nextents, 1);
		if (s == 3 * U2M && !three) {
			three = files[nf];
			three_off = three->extents[0].strips[0].offset;
		}
		nf++;
	}
	/* Fill the rest exactly, then nothing more fits. */
	fr = model_free(&f, 0);
	assert_true(fr > 0);
	files[nf++] = alloc_ok(&f, fr, NULL);
	assert_int_equal(model_free(&f, 0), 0);
	alloc_fails(&f, 0, NULL, ENOSPC, &err);
	assert_non_null(strstr(err.msg, "free 0B in total"));
	alloc_fails(&f, 1, NULL, ENOSPC, &err);
	alloc_fails(&f, U2M, NULL, ENOSPC, &err);
	{
		struct famrt_alloc_layout l = ilv_on(0, 0, 0, NULL);

		alloc_fails(&f, 1, &l, ENOSPC, &err);
		assert_non_null(strstr(err.msg, "device 0"));
	}
	/* Releasing one file makes exactly its space reusable. */
	assert_non_null(three);
	for (uint32_t i = 0; i < nf; i++)
		if (files[i] == three)
			files[i] = NULL;
	release_ok(&f, three);
	assert_int_equal(model_free(&f, 0), 3 * U2M);
	alloc_fails(&f, 3 * U2M + 1, NULL, ENOSPC, &err);
	assert_non_null(strstr(err.msg, "free 6MiB in total"));
	again = alloc_ok(&f, 2 * U2M + 1, NULL);
	assert_int_equal(again->extents[0].strips[0].offset, three_off);
	assert_int_equal(again->extents[0].strips[0].len, 3 * U2M);
	alloc_fails(&f, 0, NULL, ENOSPC, &err);
	/* Release of a file twice is refused and changes nothing. */
	{
		struct famrt_fmap_desc copy = *again;

		release_ok(&f, again);
		assert_int_equal(famrt_alloc_release_desc(f.a, &copy),
				 -EINVAL);
		check_stats(&f);
		assert_int_equal(famrt_alloc_release(f.a, 0, three_off,
						     U2M, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, hexr(r, three_off,
						     three_off + 3 * U2M)));
		check_stats(&f);
	}
	for (uint32_t i = 0; i < nf; i++)
		if (files[i])
			release_ok(&f, files[i]);
	assert_int_equal(model_free(&f, 0), units * U2M);
	fs_fini(&f);
}

/* Files that fit loosely everywhere spread over the devices. */
static void test_spread(void **state)
{
	struct famrt_fmap_desc *d[12];
	uint32_t per[3] = { 0 };
	struct fs f;

	(void)state;
	fs_init_equal(&f, U2M, 3, 1024);
	for (uint32_t i = 0; i < 12; i++) {
		d[i] = alloc_ok(&f, (1 + i % 5) * U2M, NULL);
		per[d[i]->extents[0].strips[0].devindex]++;
	}
	/* Each file went to the device with the most free space. */
	for (uint32_t k = 0; k < 3; k++)
		assert_true(per[k] >= 3);
	/* A hole that holds the file exactly wins over loose space. */
	{
		uint32_t hole_dev = d[4]->extents[0].strips[0].devindex;
		uint64_t hole_off = d[4]->extents[0].strips[0].offset;

		release_ok(&f, d[4]);
		d[4] = alloc_ok(&f, 5 * U2M, NULL);
		assert_int_equal(d[4]->extents[0].strips[0].devindex, hole_dev);
		assert_int_equal(d[4]->extents[0].strips[0].offset, hole_off);
	}
	for (uint32_t i = 0; i < 12; i++)
		release_ok(&f, d[i]);
	fs_fini(&f);
}

/* Runs within the same power of two of the need tie; tighter ones win. */
static void test_looseness(void **state)
{
	static const uint64_t s[] = { 0, 0 }, e[] = { 32 * U2M, 64 * U2M };
	struct famrt_fmap_desc *d;
	struct fs f;

	(void)state;
	fs_init(&f, U2M, 2, s, e, NULL);
	mark_ok(&f, 0, 6 * U2M, 26 * U2M); /* device 0: [0, 6) free */
	mark_ok(&f, 1, 7 * U2M, 13 * U2M); /* device 1: [0, 7) [20, 64) */
	/* 6 and 7 units both hold 4 within a factor of two: more free wins. */
	d = alloc_ok(&f, 4 * U2M, NULL);
	assert_int_equal(d->extents[0].strips[0].devindex, 1);
	assert_int_equal(d->extents[0].strips[0].offset, 0);
	release_ok(&f, d);
	/* 44 units are 8 times too many: the 6-unit run wins. */
	mark_ok(&f, 1, 0, 7 * U2M);
	d = alloc_ok(&f, 4 * U2M, NULL);
	assert_int_equal(d->extents[0].strips[0].devindex, 0);
	assert_int_equal(d->extents[0].strips[0].offset, 0);
	release_ok(&f, d);
	/* An exact fit beats a run within a factor of two. */
	mark_ok(&f, 1, 20 * U2M, 40 * U2M); /* device 1: [60, 64) */
	d = alloc_ok(&f, 4 * U2M, NULL);
	assert_int_equal(d->extents[0].strips[0].devindex, 1);
	assert_int_equal(d->extents[0].strips[0].offset, 60 * U2M);
	release_ok(&f, d);
	fs_fini(&f);
}

static void test_best_fit_and_ties(void **state)
{
	static const uint64_t s[] = { 0, 0 }, e[] = { 32 * U2M, 64 * U2M };
	struct famrt_fmap_desc *d1, *d2, *d3, *d4;
	struct fs f;

	(void)state;
	fs_init(&f, U2M, 2, s, e, NULL);
	/* Device 0: one free run [8, 12). Device 1: [10, 14) and [20, 40). */
	mark_ok(&f, 0, 0, 8 * U2M);
	mark_ok(&f, 0, 12 * U2M, 20 * U2M);
	mark_ok(&f, 1, 0, 10 * U2M);
	mark_ok(&f, 1, 14 * U2M, 6 * U2M);
	mark_ok(&f, 1, 40 * U2M, 24 * U2M);
	/* Equal best fits: the device with more free space wins. */
	d1 = alloc_ok(&f, 4 * U2M, NULL);
	assert_int_equal(d1->extents[0].strips[0].devindex, 1);
	assert_int_equal(d1->extents[0].strips[0].offset, 10 * U2M);
	d2 = alloc_ok(&f, 4 * U2M, NULL);
	assert_int_equal(d2->extents[0].strips[0].devindex, 0);
	assert_int_equal(d2->extents[0].strips[0].offset, 8 * U2M);
	d3 = alloc_ok(&f, 3 * U2M, NULL);
	assert_int_equal(d3->extents[0].strips[0].devindex, 1);
	assert_int_equal(d3->extents[0].strips[0].offset, 20 * U2M);
	/* Restricted to device 0, which is full now. */
	{
		uint32_t only0 = 0;
		struct famrt_alloc_layout l = simple_on(1, &only0);
		struct famrt_err err;

		alloc_fails(&f, 1, &l, ENOSPC, &err);
		assert_non_null(strstr(err.msg, "device 0: 0B in 0 runs"));
		assert_null(strstr(err.msg, "device 1"));
	}
	release_ok(&f, d1);
	release_ok(&f, d2);
	release_ok(&f, d3);

	/* Best fit among runs of 3, 5 and 4 units on one device. */
	mark_ok(&f, 0, 8 * U2M, 4 * U2M);   /* device 0 full */
	mark_ok(&f, 1, 20 * U2M, 20 * U2M); /* device 1: [10, 14) free */
	{
		struct famrt_err err;

		assert_int_equal(famrt_alloc_release(f.a, 1, 0, 10 * U2M,
						     &err),
				 0);
		model_give(&f, 1, 0, 10 * U2M);
		check_stats(&f);
		/* device 1 free: [0, 3) [4, 9) [10, 14) */
		mark_ok(&f, 1, 3 * U2M, U2M);
		mark_ok(&f, 1, 9 * U2M, U2M);
	}
	d4 = alloc_ok(&f, 4 * U2M, NULL);
	assert_int_equal(d4->extents[0].strips[0].devindex, 1);
	assert_int_equal(d4->extents[0].strips[0].offset, 10 * U2M);
	release_ok(&f, d4);
	d4 = alloc_ok(&f, 3 * U2M - 1, NULL);
	assert_int_equal(d4->extents[0].strips[0].offset, 0);
	release_ok(&f, d4);
	d4 = alloc_ok(&f, 5 * U2M, NULL);
	assert_int_equal(d4->extents[0].strips[0].offset, 4 * U2M);
	release_ok(&f, d4);
	fs_fini(&f);
}

/* Byte c * chunk + chunk / 2 of extent 0 is where the wire format says. */
static void check_interleave_formula(const struct fs *f,
				     const struct famrt_fmap_desc *d)
{
	const struct famrt_fmap_extent *x = &d->extents[0];
	uint64_t c = x->chunk_size, n = x->nstrips;
	uint64_t chunks = (x->nbytes + c - 1) / c;
	struct famrt_fmap *m = build_ok(f, d);

	for (uint64_t k = 0; k < chunks && k * c < d->file_size; k++) {
		struct famrt_fmap_run r;
		uint64_t off = k * c + c / 2;

		if (off >= d->file_size)
			off = k * c;
		assert_int_equal(famrt_fmap_resolve(m, off, &r), 0);
		assert_int_equal(r.dev, x->strips[k % n].devindex);
		assert_int_equal(r.dev_off, x->strips[k % n].offset +
						    (k / n) * c + off - k * c);
	}
	famrt_fmap_free(m);
}

static void interleave_case(uint32_t ndevs, uint64_t chunk)
{
	uint64_t sizes[] = { 1, 0, 10 * MiB + 1, 40 * U2M, 7 * chunk * ndevs,
			     7 * chunk * ndevs + 1 };
	struct famrt_fmap_desc *files[8];
	struct famrt_alloc_layout l = ilv_on(0, chunk, 0, NULL);
	struct fs f;

	fs_init_equal(&f, U2M, ndevs, 256);
	for (uint32_t i = 0; i < 6; i++) {
		uint64_t b = sizes[i] ? sizes[i] : 1;
		uint64_t per = (b + ndevs - 1) / ndevs;
		uint64_t g = chunk > U2M ? chunk : U2M;

		files[i] = alloc_ok(&f, sizes[i], &l);
		/* One extent: fresh devices have the runs. */
		assert_int_equal(files[i]->nextents, 1);
		assert_int_equal(files[i]->extents[0].nstrips, ndevs);
		assert_int_equal(files[i]->extents[0].strips[0].len,
				 (per + g - 1) / g * g);
		check_interleave_formula(&f, files[i]);
	}
	/* A chosen order of devices. */
	if (ndevs >= 3) {
		uint32_t order[] = { 2, 0, 1 };
		struct famrt_alloc_layout o = ilv_on(0, chunk, 3, order);

		files[6] = alloc_ok(&f, 9 * chunk + 5, &o);
		assert_int_equal(files[6]->extents[0].strips[0].devindex, 2);
		assert_int_equal(files[6]->extents[0].strips[1].devindex, 0);
		assert_int_equal(files[6]->extents[0].strips[2].devindex, 1);
		check_interleave_formula(&f, files[6]);
		release_ok(&f, files[6]);
	}
	for (uint32_t i = 0; i < 6; i++)
		release_ok(&f, files[i]);
	fs_fini(&f);
}

static void test_interleave_devices(void **state)
{
	(void)state;
	for (uint32_t n = 2; n <= 4; n++) {
		interleave_case(n, U2M);
		interleave_case(n, 4 * U2M);
	}
}

static void test_interleave_more_strips_than_devices(void **state)
{
	struct famrt_fmap_desc *d, *d2;
	struct famrt_alloc_layout l = ilv_on(5, 0, 0, NULL);
	uint32_t order[] = { 3, 1, 2, 0 };
	struct famrt_alloc_layout l3 = ilv_on(3, 2 * U2M, 4, order);
	struct famrt_err err;
	struct fs f;

	(void)state;
	fs_init_equal(&f, U2M, 2, 64);
	d = alloc_ok(&f, 23 * U2M, &l);
	assert_int_equal(d->nextents, 1);
	assert_int_equal(d->extents[0].nstrips, 5);
	/* 23 units over 5 strips: 5 units each. */
	assert_int_equal(d->extents[0].strips[0].len, 5 * U2M);
	for (uint32_t j = 0; j < 5; j++)
		assert_int_equal(d->extents[0].strips[j].devindex, j % 2);
	check_interleave_formula(&f, d);
	/* Device 0 hosts 3 strips, 49 units free: 3 x 17 do not fit. */
	alloc_fails(&f, 5 * 17 * U2M, &l, ENOSPC, &err);
	assert_non_null(strstr(err.msg, "its 3 strips need 102MiB"));
	assert_non_null(strstr(err.msg, "device 0"));
	release_ok(&f, d);
	/* More strips than the format allows. */
	l.nstrips = 33;
	alloc_fails(&f, U2M, &l, EINVAL, &err);
	fs_fini(&f);

	/* Three strips over four listed devices: the first three only. */
	fs_init_equal(&f, U2M, 4, 64);
	d2 = alloc_ok(&f, 12 * U2M, &l3);
	assert_int_equal(d2->extents[0].nstrips, 3);
	assert_int_equal(d2->extents[0].strips[0].devindex, 3);
	assert_int_equal(d2->extents[0].strips[1].devindex, 1);
	assert_int_equal(d2->extents[0].strips[2].devindex, 2);
	assert_int_equal(d2->extents[0].strips[0].len, 4 * U2M);
	assert_int_equal(model_free(&f, 0), 64 * U2M);
	check_interleave_formula(&f, d2);
	release_ok(&f, d2);
	fs_fini(&f);
}

/* Mark every `period`-th unit of each device used, starting at `first`. */
static void mark_pattern(struct fs *f, uint64_t first, uint64_t period)
{
	for (uint32_t d = 0; d < f->ndevs; d++)
		for (uint64_t u = f->start[d] / f->unit + first;
		     u < f->end[d] / f->unit; u += period)
			mark_ok(f, d, u * f->unit, f->unit);
}

static void test_interleave_fragmented(void **state)
{
	struct famrt_alloc_layout l = ilv_on(0, 0, 0, NULL);
	struct famrt_alloc_layout l4 = ilv_on(0, 4 * U2M, 0, NULL);
	struct famrt_fmap_desc *d;
	struct famrt_err err;
	struct fs f;

	(void)state;
	/* Free runs of 4 units: a file of 20 units a strip needs 5 extents. */
	fs_init_equal(&f, U2M, 2, 64);
	mark_pattern(&f, 4, 5);
	d = alloc_ok(&f, 40 * U2M, &l);
	assert_int_equal(d->nextents, 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(d->extents[i].strips[0].len, 4 * U2M);
	release_ok(&f, d);
	/* A size that does not fill the last extent. */
	d = alloc_ok(&f, 17 * U2M + 3, &l);
	assert_int_equal(d->nextents, 3);
	assert_int_equal(d->extents[2].strips[0].len, U2M);
	release_ok(&f, d);
	fs_fini(&f);

	/*
	 * Runs of 3 units: a strip of 4-unit chunks (8 MiB) fits nowhere,
	 * though plenty is free; 1-unit chunks fit in 2 extents of 3 units.
	 */
	fs_init_equal(&f, U2M, 2, 64);
	mark_pattern(&f, 3, 4);
	alloc_fails(&f, U2M, &l4, ENOSPC, &err);
	assert_non_null(strstr(err.msg, "device 0"));
	assert_non_null(strstr(err.msg, "8MiB"));
	d = alloc_ok(&f, 12 * U2M, &l);
	assert_int_equal(d->nextents, 2);
	release_ok(&f, d);
	fs_fini(&f);

	/* Runs of one unit: 32 extents at most. */
	fs_init_equal(&f, U2M, 2, 128);
	mark_pattern(&f, 1, 2);
	d = alloc_ok(&f, 64 * U2M, &l);
	assert_int_equal(d->nextents, 32);
	release_ok(&f, d);
	alloc_fails(&f, 64 * U2M + 1, &l, E2BIG, &err);
	assert_non_null(strstr(err.msg, "more than 32 extents"));
	assert_non_null(strstr(err.msg, "64 runs"));
	/* The same device twice is refused. */
	{
		uint32_t twice[] = { 1, 1 };
		struct famrt_alloc_layout t = ilv_on(0, 0, 2, twice);

		alloc_fails(&f, 1, &t, EINVAL, &err);
	}
	fs_fini(&f);

	/* Unequal devices: extents as long as the shorter runs allow. */
	{
		static const uint64_t s[] = { 0, 0 }, e[] = { 64 * U2M,
							      64 * U2M };
		fs_init(&f, U2M, 2, s, e, NULL);
		mark_ok(&f, 0, 6 * U2M, U2M);  /* dev 0: [0,6) [7,64) */
		mark_ok(&f, 1, 10 * U2M, U2M); /* dev 1: [0,10) [11,64) */
		mark_ok(&f, 1, 20 * U2M, 44 * U2M); /* dev 1: [0,10) [11,20) */
		d = alloc_ok(&f, 36 * U2M, &l);
		/* 18 units a strip: 10 + 8 on device 1. */
		assert_int_equal(d->nextents, 2);
		assert_int_equal(d->extents[0].strips[0].len, 10 * U2M);
		assert_int_equal(d->extents[1].strips[0].len, 8 * U2M);
		release_ok(&f, d);
		fs_fini(&f);
	}
}

static void test_simple_fragmented(void **state)
{
	struct famrt_fmap_desc *d, *d10;
	struct famrt_err err;
	struct fs f;

	(void)state;
	fs_init_equal(&f, U2M, 1, 128);
	mark_pattern(&f, 1, 2); /* 64 runs of one unit */
	d10 = alloc_ok(&f, 10 * U2M, NULL);
	assert_int_equal(d10->nextents, 10);
	alloc_fails(&f, 33 * U2M, NULL, E2BIG, &err);
	assert_non_null(strstr(err.msg, "more than 32 extents"));
	assert_non_null(strstr(err.msg, "54 runs"));
	assert_non_null(strstr(err.msg, "hold only 64MiB"));
	alloc_fails(&f, 55 * U2M, NULL, ENOSPC, &err);
	d = alloc_ok(&f, 32 * U2M, NULL);
	assert_int_equal(d->nextents, 32);
	release_ok(&f, d);
	release_ok(&f, d10);
	fs_fini(&f);

	/* Largest runs first, the rest a best fit. */
	fs_init_equal(&f, U2M, 1, 64);
	/* free runs: [0,5) [6,9) [10,18) [19,21) */
	mark_ok(&f, 0, f.start[0] + 5 * U2M, U2M);
	mark_ok(&f, 0, f.start[0] + 9 * U2M, U2M);
	mark_ok(&f, 0, f.start[0] + 18 * U2M, U2M);
	mark_ok(&f, 0, f.start[0] + 21 * U2M, 43 * U2M);
	d = alloc_ok(&f, 14 * U2M, NULL);
	assert_int_equal(d->nextents, 3);
	assert_int_equal(d->extents[0].strips[0].offset, f.start[0] + 10 * U2M);
	assert_int_equal(d->extents[0].strips[0].len, 8 * U2M);
	assert_int_equal(d->extents[1].strips[0].offset, f.start[0]);
	assert_int_equal(d->extents[1].strips[0].len, 5 * U2M);
	assert_int_equal(d->extents[2].strips[0].offset, f.start[0] + 19 * U2M);
	assert_int_equal(d->extents[2].strips[0].len, U2M);
	release_ok(&f, d);
	fs_fini(&f);
}

static void test_mark_overlap(void **state)
{
	struct famrt_fmap_desc *md = calloc(1, sizeof(*md));
	struct famrt_fmap_limits lim = { .size = sizeof(lim) };
	struct famrt_fmap_error ferr;
	struct famrt_fmap *m;
	struct famrt_err err;
	struct fs f;
	char r1[64], r2[64];

	(void)state;
	assert_non_null(md);
	fs_init_equal(&f, U2M, 2, 64);
	mark_ok(&f, 0, 10 * U2M, 4 * U2M);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 12 * U2M, 4 * U2M, &err),
			 -EEXIST);
	assert_int_equal(err.code, EEXIST);
	assert_non_null(strstr(err.msg, "device 0"));
	assert_non_null(strstr(err.msg, hexr(r1, 12 * U2M, 16 * U2M)));
	assert_non_null(strstr(err.msg, hexr(r2, 10 * U2M, 14 * U2M)));
	assert_int_equal(famrt_alloc_mark(f.a, 0, 8 * U2M, 3 * U2M, &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, hexr(r1, 8 * U2M, 11 * U2M)));
	assert_non_null(strstr(err.msg, hexr(r2, 10 * U2M, 14 * U2M)));
	/* A range that swallows the used one. */
	assert_int_equal(famrt_alloc_mark(f.a, 0, 2 * U2M, 30 * U2M, &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, hexr(r2, 10 * U2M, 14 * U2M)));
	check_stats(&f);
	/* Touching is not overlapping; the used span then grows. */
	mark_ok(&f, 0, 14 * U2M, 1);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 14 * U2M, U2M, &err),
			 -EEXIST);
	assert_non_null(strstr(err.msg, hexr(r2, 10 * U2M, 15 * U2M)));
	/* The other device is separate. */
	mark_ok(&f, 1, 10 * U2M, 4 * U2M);

	/* A map whose third extent overlaps: nothing of it stays marked. */
	md->file_type = FAMRT_FMAP_FILE_REG;
	md->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	md->nextents = 3;
	md->file_size = 6 * U2M;
	md->extents[0].strips[0] = (struct famrt_fmap_strip){ 1, 20 * U2M,
							      2 * U2M };
	md->extents[1].strips[0] = (struct famrt_fmap_strip){ 0, 30 * U2M,
							      2 * U2M };
	md->extents[2].strips[0] = (struct famrt_fmap_strip){ 1, 13 * U2M,
							      2 * U2M };
	lim.align = U2M;
	assert_int_equal(famrt_fmap_build(md, &lim, &m, &ferr), 0);
	assert_int_equal(famrt_alloc_mark_fmap(f.a, m, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "extent 2"));
	assert_non_null(strstr(err.msg, "device 1"));
	assert_non_null(strstr(err.msg, hexr(r1, 13 * U2M, 15 * U2M)));
	assert_non_null(strstr(err.msg, hexr(r2, 10 * U2M, 14 * U2M)));
	check_stats(&f);
	famrt_fmap_free(m);
	/* Fixed, it marks all three. */
	md->extents[2].strips[0].offset = 40 * U2M;
	assert_int_equal(famrt_fmap_build(md, &lim, &m, &ferr), 0);
	assert_int_equal(famrt_alloc_mark_fmap(f.a, m, &err), 0);
	model_take_desc(&f, md);
	check_stats(&f);
	/* Marking it again: EEXIST at its first extent, nothing changes. */
	assert_int_equal(famrt_alloc_mark_fmap(f.a, m, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "extent 0"));
	check_stats(&f);
	famrt_fmap_free(m);
	assert_int_equal(famrt_alloc_release_desc(f.a, md), 0);
	model_give_desc(&f, md);
	check_stats(&f);

	/* Interleaved map whose last strip is on an unknown device. */
	memset(md, 0, sizeof(*md));
	md->file_type = FAMRT_FMAP_FILE_REG;
	md->ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	md->nextents = 2;
	md->file_size = 8 * U2M;
	for (uint32_t i = 0; i < 2; i++) {
		md->extents[i].nstrips = 2;
		md->extents[i].chunk_size = U2M;
		md->extents[i].nbytes = 4 * U2M;
		for (uint32_t j = 0; j < 2; j++)
			md->extents[i].strips[j] = (struct famrt_fmap_strip){
				j, (40 + 2 * i) * U2M, 2 * U2M
			};
	}
	md->extents[1].strips[1].devindex = 2;
	assert_int_equal(famrt_fmap_build(md, &lim, &m, &ferr), 0);
	assert_int_equal(famrt_alloc_mark_fmap(f.a, m, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "extent 1 strip 1"));
	check_stats(&f);
	famrt_fmap_free(m);
	/* And a release_desc that fails half way releases nothing. */
	md->extents[1].strips[1].devindex = 1;
	assert_int_equal(famrt_fmap_build(md, &lim, &m, &ferr), 0);
	assert_int_equal(famrt_alloc_mark_fmap(f.a, m, &err), 0);
	famrt_fmap_free(m);
	model_take_desc(&f, md);
	md->extents[1].strips[1].offset = 50 * U2M; /* never marked */
	assert_int_equal(famrt_alloc_release_desc(f.a, md), -EINVAL);
	check_stats(&f);
	md->extents[1].strips[1].offset = 42 * U2M;
	assert_int_equal(famrt_alloc_release_desc(f.a, md), 0);
	model_give_desc(&f, md);
	check_stats(&f);
	free(md);
	fs_fini(&f);
}

static void test_bounds(void **state)
{
	static const uint64_t s[] = { 4 * U2M }, e[] = { 20 * U2M };
	static const uint64_t al[] = { U2M };
	struct famrt_err err;
	struct fs f;

	(void)state;
	fs_init(&f, U2M, 1, s, e, al);
	/* Below the region, across either end, past it, unaligned, empty. */
	assert_int_equal(famrt_alloc_mark(f.a, 0, 2 * U2M, U2M, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "outside the data region"));
	assert_int_equal(famrt_alloc_mark(f.a, 0, 3 * U2M, 2 * U2M, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 19 * U2M, 2 * U2M, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 20 * U2M, U2M, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 19 * U2M, U2M + 1, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 5 * U2M + 4096, U2M, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not a multiple of the unit"));
	assert_int_equal(famrt_alloc_mark(f.a, 0, 5 * U2M, 0, &err), -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 0, UINT64_MAX - U2M + 1, U2M,
					  &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 0, 6 * U2M, UINT64_MAX, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_mark(f.a, 1, 6 * U2M, U2M, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "device 1 does not exist"));
	check_stats(&f);
	/* The edges themselves are fine; a partial unit rounds up. */
	mark_ok(&f, 0, 4 * U2M, 1);
	mark_ok(&f, 0, 19 * U2M, U2M);
	/* Release: bounds, and only what is in use. */
	assert_int_equal(famrt_alloc_release(f.a, 0, 2 * U2M, U2M, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_release(f.a, 0, 10 * U2M, U2M, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not all in use"));
	assert_int_equal(famrt_alloc_release(f.a, 0, 18 * U2M, 2 * U2M, &err),
			 -EINVAL);
	assert_int_equal(famrt_alloc_release(f.a, 0, 4 * U2M, 2 * U2M, &err),
			 -EINVAL);
	check_stats(&f);
	assert_int_equal(famrt_alloc_release(f.a, 0, 4 * U2M, 7, &err), 0);
	model_give(&f, 0, 4 * U2M, U2M);
	check_stats(&f);

	/* Layouts the format cannot express. */
	{
		struct famrt_alloc_layout l = ilv_on(0, 3 * MiB, 0, NULL);
		uint32_t bad = 1;

		alloc_fails(&f, 1, &l, EINVAL, &err);
		assert_non_null(strstr(err.msg, "alignment"));
		l.chunk = 1ull << 32;
		alloc_fails(&f, 1, &l, EINVAL, &err);
		l = ilv_on(0, 0, 1, &bad);
		alloc_fails(&f, 1, &l, EINVAL, &err);
		assert_non_null(strstr(err.msg, "device 1"));
		l = simple_on(1, &bad);
		alloc_fails(&f, 1, &l, EINVAL, &err);
		l.ndevs = 33;
		alloc_fails(&f, 1, &l, EINVAL, &err);
		l = simple_on(0, NULL);
		l.kind = (enum famrt_layout_kind)7;
		alloc_fails(&f, 1, &l, EINVAL, &err);
	}
	/* Every allocation stays inside the region. */
	{
		struct famrt_fmap_desc *d = alloc_ok(&f, 15 * U2M, NULL);

		assert_int_equal(d->extents[0].strips[0].offset, 4 * U2M);
		alloc_fails(&f, 1, NULL, ENOSPC, &err);
		release_ok(&f, d);
	}
	fs_fini(&f);

	/* An empty region is a device with no space. */
	{
		static const uint64_t s2[] = { 8 * U2M, 0 };
		static const uint64_t e2[] = { 8 * U2M, 4 * U2M };

		fs_init(&f, U2M, 2, s2, e2, NULL);
		check_stats(&f);
		struct famrt_fmap_desc *d = alloc_ok(&f, 4 * U2M, NULL);
		assert_int_equal(d->extents[0].strips[0].devindex, 1);
		release_ok(&f, d);
		struct famrt_alloc_layout l = ilv_on(0, 0, 0, NULL);
		alloc_fails(&f, 1, &l, ENOSPC, &err);
		assert_int_equal(famrt_alloc_mark(f.a, 0, 8 * U2M, U2M, &err),
				 -EINVAL);
		fs_fini(&f);
	}
}

/* Chunks smaller than the unit, when the devices' alignment allows. */
static void test_sub_unit_chunk(void **state)
{
	static const uint64_t s[] = { 0, 0, 0 };
	static const uint64_t e[] = { 64 * U2M, 64 * U2M, 64 * U2M };
	static const uint64_t al[] = { 4096, 64 * KiB, 4096 };
	struct famrt_alloc_layout l = ilv_on(0, MiB, 0, NULL);
	struct famrt_fmap_desc *d;
	struct famrt_err err;
	struct fs f;

	(void)state;
	fs_init(&f, U2M, 3, s, e, al);
	d = alloc_ok(&f, 5 * MiB + 1, &l);
	assert_int_equal(d->extents[0].strips[0].len, U2M);
	check_interleave_formula(&f, d);
	release_ok(&f, d);
	l.chunk = 3 * MiB; /* strips in steps of 6 MiB */
	d = alloc_ok(&f, 20 * MiB, &l);
	assert_int_equal(d->extents[0].strips[0].len, 12 * MiB);
	check_interleave_formula(&f, d);
	release_ok(&f, d);
	l.chunk = 32 * KiB; /* not a multiple of device 1's 64 KiB */
	alloc_fails(&f, 1, &l, EINVAL, &err);
	assert_non_null(strstr(err.msg, "device 1"));
	fs_fini(&f);
}

/* Fail allocation N for N = 0, 1, 2... until the operation succeeds. */
static void test_out_of_memory(void **state)
{
	struct famrt_fmap_desc *md = calloc(1, sizeof(*md));
	struct famrt_fmap_limits lim = { .size = sizeof(lim), .align = U2M };
	struct famrt_fmap_error ferr;
	struct famrt_alloc_stats s1, s2;
	struct famrt_fmap *m;
	struct famrt_err err;
	bool done = false;
	long fails = 0;
	struct fs f;

	(void)state;
	assert_non_null(md);
	/* 32 extents, each strictly inside free space: every mark splits. */
	md->file_type = FAMRT_FMAP_FILE_REG;
	md->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	md->nextents = 32;
	md->file_size = 32 * U2M;
	for (uint32_t i = 0; i < 32; i++)
		md->extents[i].strips[0] = (struct famrt_fmap_strip){
			i % 2, (4 + 4 * i) * U2M, U2M
		};
	assert_int_equal(famrt_fmap_build(md, &lim, &m, &ferr), 0);

	for (long n = 0; !done; n++) {
		fs_init_equal(&f, U2M, 2, 256);
		famrt_alloc_get_stats(f.a, &s1);
		oom_hit = false;
		oom_countdown = n;
		int rc = famrt_alloc_mark_fmap(f.a, m, &err);
		oom_countdown = -1;
		if (rc) {
			/* Refused as a whole. */
			assert_int_equal(rc, -ENOMEM);
			assert_true(oom_hit);
			assert_non_null(strstr(err.msg, "out of memory"));
			famrt_alloc_get_stats(f.a, &s2);
			assert_memory_equal(&s1, &s2, sizeof(s1));
			check_stats(&f);
			fs_fini(&f);
			fails++;
			continue;
		}
		assert_false(oom_hit);
		model_take_desc(&f, md);
		check_stats(&f);
		done = true;
		fs_fini(&f);
	}

	/* The runs grew past the first capacity: some calls did fail. */
	assert_true(fails >= 2);

	/* Releasing 32 ranges amid used space makes 32 new runs. */
	done = false;
	fails = 0;
	for (long n = 0; !done; n++) {
		fs_init_equal(&f, U2M, 2, 256);
		mark_ok(&f, 0, U2M, 256 * U2M);
		mark_ok(&f, 1, U2M, 256 * U2M);
		famrt_alloc_get_stats(f.a, &s1);
		oom_hit = false;
		oom_countdown = n;
		int rc = famrt_alloc_release_desc(f.a, md);
		oom_countdown = -1;
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			assert_true(oom_hit);
			famrt_alloc_get_stats(f.a, &s2);
			assert_memory_equal(&s1, &s2, sizeof(s1));
			fs_fini(&f);
			fails++;
			continue;
		}
		assert_false(oom_hit);
		model_give_desc(&f, md);
		check_stats(&f);
		done = true;
		fs_fini(&f);
	}
	assert_true(fails >= 2);

	/* famrt_alloc_file, and its undo right after, need no memory. */
	fs_init_equal(&f, U2M, 3, 256);
	mark_pattern(&f, 2, 3);
	oom_countdown = 0;
	for (uint32_t i = 0; i < 200; i++) {
		struct famrt_alloc_layout l = i % 2 ? ilv_on(0, 0, 0, NULL) :
						simple_on(0, NULL);
		struct famrt_fmap_desc *d = malloc(sizeof(*d));
		uint64_t size = (1 + i % 40) * U2M - i;

		assert_non_null(d);
		assert_int_equal(famrt_alloc_file(f.a, size, &l, d, &err), 0);
		check_desc(&f, d, size, &l);
		model_take_desc(&f, d);
		check_stats(&f);
		assert_int_equal(famrt_alloc_release_desc(f.a, d), 0);
		model_give_desc(&f, d);
		check_stats(&f);
		free(d);
	}
	oom_countdown = -1;
	assert_false(oom_hit);
	fs_fini(&f);

	/* A device that cannot get its first memory is not added. */
	{
		struct famrt_alloc *a;

		assert_int_equal(famrt_alloc_create(&a, U2M, &err), 0);
		oom_countdown = 0;
		assert_int_equal(famrt_alloc_add_device(a, 0, 0, 8 * U2M,
							U2M, &err),
				 -ENOMEM);
		oom_countdown = -1;
		assert_int_equal(famrt_alloc_add_device(a, 0, 0, 8 * U2M,
							U2M, &err),
				 0);
		famrt_alloc_destroy(a);
	}
	famrt_fmap_free(m);
	free(md);
}

/* ---- randomized model test ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct rawmark {
	uint32_t dev;
	uint64_t off, len;
};

static int looseness(uint64_t len, uint64_t need)
{
	int k = 0;

	if (len == need)
		return -1;
	while (len / need >= 2ull << k)
		k++;
	return k;
}

/*
 * What the simple layout must do, computed from the model: the code, the
 * number of extents and, for one extent, the device's free space and the
 * length of the run it must come from (each device's smallest run that
 * fits; the tightest in powers of two wins, then the most free space).
 */
static void simple_oracle(const struct fs *f, const struct want *w,
			  uint64_t size, int *expect, uint32_t *nextents,
			  uint64_t *best_len, uint64_t *best_devfree)
{
	static struct place runs[1024];
	static uint64_t lens[FAMRT_MAX_DEVICES * 1024];
	uint64_t total = 0, sum = 0;
	uint64_t need = ((size ? size : 1) + f->unit - 1) / f->unit * f->unit;
	int best_fit = 1000;
	uint32_t n = 0;

	*best_len = 0;
	*best_devfree = 0;
	for (uint32_t k = 0; k < w->ndevs; k++) {
		uint32_t c = model_runs(f, w->devs[k], runs, 1024);
		uint64_t dev_best = 0, fr = model_free(f, w->devs[k]);

		for (uint32_t i = 0; i < c; i++) {
			lens[n++] = runs[i].len;
			total += runs[i].len;
			if (runs[i].len >= need &&
			    (!dev_best || runs[i].len < dev_best))
				dev_best = runs[i].len;
		}
		if (dev_best &&
		    (looseness(dev_best, need) < best_fit ||
		     (looseness(dev_best, need) == best_fit &&
		      fr > *best_devfree))) {
			best_fit = looseness(dev_best, need);
			*best_len = dev_best;
			*best_devfree = fr;
		}
	}
	if (size > total || need > total) {
		*expect = ENOSPC;
		return;
	}
	qsort(lens, n, sizeof(*lens), u64_desc);
	for (uint32_t i = 0; i < n && i < FAMRT_FMAP_MAX_EXTENTS; i++) {
		sum += lens[i];
		if (sum >= need) {
			*expect = 0;
			*nextents = i + 1;
			return;
		}
	}
	*expect = E2BIG;
}

/*
 * What the interleave layout must do: ENOSPC when a device cannot hold its
 * share at all, one extent of the ideal strip length when every device has
 * the runs for it; otherwise -1 (any of success, ENOSPC, E2BIG).
 */
static int ilv_oracle(const struct fs *f, const struct want *w, uint64_t size,
		      uint64_t *strip_len)
{
	static struct place runs[1024];
	uint64_t b = size ? size : 1;
	uint64_t per = (b + w->nstrips - 1) / w->nstrips;
	uint64_t l1 = (per + w->granule - 1) / w->granule * w->granule;
	uint32_t used = w->nstrips < w->ndevs ? w->nstrips : w->ndevs;
	bool one = true;

	*strip_len = l1;
	for (uint32_t i = 0; i < used; i++) {
		uint32_t dv = w->devs[i];
		uint32_t k = w->nstrips / w->ndevs + (i < w->nstrips % w->ndevs);
		uint32_t n = model_runs(f, dv, runs, 1024);
		uint64_t fits = 0;

		if (model_free(f, dv) < k * l1)
			return ENOSPC;
		for (uint32_t r = 0; r < n; r++)
			fits += runs[r].len / l1;
		if (fits < k)
			one = false;
	}
	return one ? 0 : -1;
}

static void random_layout(const struct fs *f, struct famrt_alloc_layout *l)
{
	memset(l, 0, sizeof(*l));
	if (rnd_below(3)) {
		/* a random subset in random order, or all */
		if (rnd_below(2)) {
			uint32_t perm[FAMRT_MAX_DEVICES];

			for (uint32_t d = 0; d < f->ndevs; d++)
				perm[d] = d;
			for (uint32_t d = f->ndevs; d > 1; d--) {
				uint32_t j = (uint32_t)rnd_below(d);
				uint32_t t = perm[d - 1];

				perm[d - 1] = perm[j];
				perm[j] = t;
			}
			l->ndevs = 1 + (uint32_t)rnd_below(f->ndevs);
			memcpy(l->devs, perm, l->ndevs * sizeof(uint32_t));
		}
	}
	if (rnd_below(2)) {
		uint64_t minal = f->align[0];

		l->kind = FAMRT_LAYOUT_INTERLEAVE;
		l->nstrips = (uint32_t)rnd_below(7);
		for (uint32_t d = 1; d < f->ndevs; d++)
			if (f->align[d] > minal)
				minal = f->align[d];
		switch (rnd_below(5)) {
		case 0:
			l->chunk = 0;
			break;
		case 1:
			l->chunk = f->unit;
			break;
		case 2:
			l->chunk = 2 * f->unit;
			break;
		case 3:
			l->chunk = 3 * f->unit;
			break;
		default:
			/* a multiple of every device's alignment */
			l->chunk = minal * (1 + rnd_below(f->unit / minal * 2));
			break;
		}
	}
}

static void random_config(uint64_t seed, uint32_t nops, bool frag)
{
	static const uint64_t units[] = { 4096, U2M, 64 * KiB };
	struct famrt_fmap_desc **live;
	struct rawmark raw[64];
	uint32_t nlive = 0, nraw = 0;
	uint64_t s[4], e[4], al[4];
	uint32_t ndevs;
	uint64_t unit;
	struct famrt_err err;
	struct fs f;
	uint32_t counts[8] = { 0 };

	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	unit = units[rnd_below(3)];
	ndevs = 1 + (uint32_t)rnd_below(4);
	for (uint32_t d = 0; d < ndevs; d++) {
		s[d] = rnd_below(4) * unit;
		e[d] = s[d] + (16 + rnd_below(frag ? 600 : 200)) * unit;
		al[d] = unit >> rnd_below(3);
		if (al[d] < 4096)
			al[d] = 4096;
	}
	fs_init(&f, unit, ndevs, s, e, al);
	live = calloc(nops + 4 * 1024, sizeof(*live));
	assert_non_null(live);
	if (frag) {
		/* Fill with one-unit files, then free about half of them. */
		struct famrt_alloc_layout one = simple_on(0, NULL);
		uint64_t total = 0;

		for (uint32_t d = 0; d < ndevs; d++)
			total += e[d] - s[d];
		for (uint64_t k = 0; k < total / unit; k++)
			live[nlive++] = alloc_ok(&f, 1 + rnd_below(unit), &one);
		alloc_fails(&f, 1, &one, ENOSPC, &err);
		for (uint32_t i = 0; i < nlive;) {
			if (rnd_below(2)) {
				release_ok(&f, live[i]);
				live[i] = live[--nlive];
			} else {
				i++;
			}
		}
	}

	for (uint32_t op = 0; op < nops; op++) {
		uint64_t r = rnd_below(100), fr = 0, sz = 0;

		/* Hover around half full so free space stays fragmented. */
		for (uint32_t d = 0; d < ndevs; d++) {
			fr += model_free(&f, d);
			sz += e[d] - s[d];
		}
		if (fr < sz / 2 && r < 55 && rnd_below(2))
			r += 35;
		if (r < 55) {
			struct famrt_alloc_layout l;
			struct famrt_fmap_desc *d = malloc(sizeof(*d));
			struct want w;
			uint64_t size, total = 0;
			int rc, expect = -1;
			uint32_t nx = 0;
			uint64_t best_len = 0, best_free = 0, sl = 0;

			assert_non_null(d);
			random_layout(&f, &l);
			want_of(&f, &l, &w);
			for (uint32_t k = 0; k < w.ndevs; k++)
				total += model_free(&f, w.devs[k]);
			switch (frag && rnd_below(3) ? 6 : rnd_below(6)) {
			case 6:
				/* fragmenting configs: many small files */
				size = rnd_below(unit) + 1;
				break;
			case 0:
				size = rnd_below(4 * unit);
				break;
			case 1:
				size = (1 + rnd_below(8)) * unit;
				break;
			case 2:
				size = rnd_below(40 * unit) + 1;
				break;
			case 3:
				size = total ? rnd_below(total) + 1 : 0;
				break;
			case 4:
				/* near all of it: E2BIG when fragmented */
				size = total + rnd_below(3 * unit);
				if (frag)
					size -= rnd_below(total / 3 + 1);
				break;
			default:
				size = rnd_below(12 * unit);
				break;
			}
			if (l.kind == FAMRT_LAYOUT_SIMPLE)
				simple_oracle(&f, &w, size, &expect, &nx,
					      &best_len, &best_free);
			else
				expect = ilv_oracle(&f, &w, size, &sl);
			famrt_err_clear(&err);
			rc = famrt_alloc_file(f.a, size, &l, d, &err);
			if (expect >= 0 && rc != -expect)
				print_error("op %u size %llu kind %d: rc %d "
					    "expected %d: %s\n",
					    op, (unsigned long long)size,
					    (int)l.kind, rc, -expect, err.msg);
			if (expect >= 0)
				assert_int_equal(rc, -expect);
			if (rc) {
				assert_true(rc == -ENOSPC || rc == -E2BIG);
				assert_int_equal(err.code, -rc);
				assert_int_equal(d->nextents, 0);
				counts[rc == -ENOSPC ? 1 : 2]++;
				check_stats(&f);
				free(d);
				continue;
			}
			check_desc(&f, d, size, &l);
			if (l.kind == FAMRT_LAYOUT_SIMPLE) {
				uint32_t dv = d->extents[0].strips[0].devindex;
				uint64_t o = d->extents[0].strips[0].offset;

				assert_int_equal(d->nextents, nx);
				if (nx == 1) {
					/* the run it came from is a best fit */
					struct place pr[1024];
					uint32_t n = model_runs(&f, dv, pr,
								1024);
					bool found = false;

					for (uint32_t k = 0; k < n; k++)
						if (pr[k].off == o) {
							assert_int_equal(
								pr[k].len,
								best_len);
							found = true;
						}
					assert_true(found);
					assert_int_equal(model_free(&f, dv),
							 best_free);
				}
			} else if (expect == 0) {
				assert_int_equal(d->nextents, 1);
				assert_int_equal(d->extents[0].strips[0].len,
						 sl);
			}
			counts[d->nextents > 1 ? 4 : 3]++;
			if (l.kind == FAMRT_LAYOUT_INTERLEAVE)
				counts[d->nextents > 1 ? 6 : 5]++;
			model_take_desc(&f, d);
			check_stats(&f);
			/* fragmenting configs keep only small files */
			if (frag && size > 8 * unit)
				release_ok(&f, d);
			else
				live[nlive++] = d;
		} else if (r < 90) {
			uint32_t i;

			if (!nlive)
				continue;
			i = (uint32_t)rnd_below(nlive);
			release_ok(&f, live[i]);
			live[i] = live[--nlive];
		} else if (r < 96) {
			/* a raw mark: any outcome, as the model says */
			uint32_t dv = (uint32_t)rnd_below(ndevs);
			uint64_t off = (rnd_below(e[dv] / unit + 2)) * unit;
			uint64_t len = (1 + rnd_below(6)) * unit;
			int st, rc;

			if (rnd_below(8) == 0)
				len -= rnd_below(unit);
			st = off + len > f.end[dv] ?
				     M_OUTSIDE :
				     model_state(&f, dv, off,
						 (len + unit - 1) / unit * unit);
			rc = famrt_alloc_mark(f.a, dv, off, len, &err);
			if (st == M_FREE && nraw < 64) {
				assert_int_equal(rc, 0);
				model_take(&f, dv, off,
					   (len + unit - 1) / unit * unit);
				raw[nraw++] = (struct rawmark){ dv, off, len };
			} else if (st == M_FREE) {
				assert_int_equal(rc, 0);
				assert_int_equal(famrt_alloc_release(f.a, dv,
								     off, len,
								     &err),
						 0);
			} else {
				assert_int_equal(rc, st == M_USED ? -EEXIST :
								    -EINVAL);
			}
			check_stats(&f);
		} else if (nraw) {
			uint32_t i = (uint32_t)rnd_below(nraw);

			assert_int_equal(famrt_alloc_release(f.a, raw[i].dev,
							     raw[i].off,
							     raw[i].len, &err),
					 0);
			model_give(&f, raw[i].dev, raw[i].off,
				   (raw[i].len + unit - 1) / unit * unit);
			raw[i] = raw[--nraw];
			check_stats(&f);
		}
	}

	/* Replay: marking every live map in a new allocator gives the same. */
	{
		struct fs g;
		struct famrt_alloc_stats s1, s2;

		fs_init(&g, unit, ndevs, s, e, al);
		for (uint32_t i = 0; i < nlive; i++) {
			struct famrt_fmap *m = build_ok(&f, live[i]);

			assert_int_equal(famrt_alloc_mark_fmap(g.a, m, &err),
					 0);
			famrt_fmap_free(m);
		}
		for (uint32_t i = 0; i < nraw; i++)
			assert_int_equal(famrt_alloc_mark(g.a, raw[i].dev,
							  raw[i].off,
							  raw[i].len, &err),
					 0);
		famrt_alloc_get_stats(f.a, &s1);
		famrt_alloc_get_stats(g.a, &s2);
		assert_memory_equal(&s1, &s2, sizeof(s1));
		/* and every live file overlaps itself */
		for (uint32_t i = 0; i < nlive; i++) {
			struct famrt_fmap *m = build_ok(&f, live[i]);

			assert_int_equal(famrt_alloc_mark_fmap(g.a, m, &err),
					 -EEXIST);
			famrt_fmap_free(m);
		}
		famrt_alloc_get_stats(g.a, &s2);
		assert_memory_equal(&s1, &s2, sizeof(s1));
		fs_fini(&g);
	}
	while (nlive)
		release_ok(&f, live[--nlive]);
	while (nraw) {
		nraw--;
		assert_int_equal(famrt_alloc_release(f.a, raw[nraw].dev,
						     raw[nraw].off,
						     raw[nraw].len, &err),
				 0);
		model_give(&f, raw[nraw].dev, raw[nraw].off,
			   (raw[nraw].len + unit - 1) / unit * unit);
	}
	check_stats(&f);
	for (uint32_t d = 0; d < ndevs; d++)
		assert_int_equal(model_free(&f, d), e[d] - s[d]);
	free(live);
	fs_fini(&f);
	print_message("seed %llu%s: unit %llu, %u devices: %u ok single, %u "
		      "ok multi (interleave %u/%u), %u ENOSPC, %u E2BIG\n",
		      (unsigned long long)seed, frag ? " (fragmenting)" : "",
		      (unsigned long long)unit, ndevs, counts[3], counts[4],
		      counts[5], counts[6], counts[1], counts[2]);
}

static void test_random_model(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 24; seed++)
		random_config(seed, 3000, seed % 2 == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_devices),
		cmocka_unit_test(test_single_device_fill),
		cmocka_unit_test(test_best_fit_and_ties),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_looseness),
		cmocka_unit_test(test_interleave_devices),
		cmocka_unit_test(test_interleave_more_strips_than_devices),
		cmocka_unit_test(test_interleave_fragmented),
		cmocka_unit_test(test_simple_fragmented),
		cmocka_unit_test(test_mark_overlap),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_sub_unit_chunk),
		cmocka_unit_test(test_out_of_memory),
		cmocka_unit_test(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
