/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-memory map and the resolver's two steps (which extent holds an
 * offset; where in it the byte lies), as inline functions: fmap.c builds
 * its resolver and iterator from them, and the data path (client/io.c)
 * resolves a read that fits in one piece without setting up an iterator.
 * Internal to famrt: the layout below is not ABI, and only code inside
 * the library may include this header.
 */
#ifndef FAMRT_FMAP_RESOLVE_H
#define FAMRT_FMAP_RESOLVE_H

#include <stdint.h>

#include <famrt/fmap.h>

#include "fmap_internal.h"

struct fm_strip {
	uint64_t off;
	uint64_t len;
	uint32_t dev;
	uint32_t pad_;
};

struct fm_ext {
	uint64_t nbytes;  /* wire value: se_len or ie_nbytes */
	uint32_t chunk;   /* 0 for a simple extent */
	uint32_t nstrips; /* 1 for a simple extent */
	uint32_t first;   /* index of its first strip in map->strips */
	uint8_t cshift;   /* log2(chunk), when pow2 */
	uint8_t nshift;   /* log2(nstrips), when pow2 */
	uint8_t pow2;     /* chunk and nstrips are both powers of two */
	uint8_t pad_;
};

struct famrt_fmap {
	uint64_t file_size;
	uint32_t nextents;
	uint32_t nstrips_total;
	uint32_t max_dev;
	uint8_t file_type;
	uint8_t ext_type;
	uint8_t find;  /* enum famrt_fmap_find */
	uint8_t shift; /* FIND_SHIFT: log2 of the common extent length */
	/*
	 * start[i]: file offset where extent i begins; start[nextents] is the
	 * end of the last one; unused entries are UINT64_MAX so the
	 * fixed-depth binary search never picks them.
	 */
	uint64_t start[FAMRT_FMAP_MAX_EXTENTS + 1];
	struct fm_ext ext[FAMRT_FMAP_MAX_EXTENTS];
	struct fm_strip strips[];
};

/* The extent holding off (off < file size). */
static inline uint32_t famrt_fmap_find_ext(const struct famrt_fmap *m,
					   uint64_t off)
{
	uint32_t i = 0;

	switch (m->find) {
	case FAMRT_FMAP_FIND_ONE:
		return 0;
	case FAMRT_FMAP_FIND_SHIFT:
		return (uint32_t)(off >> m->shift);
	default:
		/* Fixed depth: start[] has 33 entries, padded with ~0. */
		for (uint32_t step = FAMRT_FMAP_MAX_EXTENTS / 2; step;
		     step >>= 1)
			i += (m->start[i + step] <= off) ? step : 0;
		return i;
	}
}

/* The piece of extent i that holds off (off < file size). */
static inline void famrt_fmap_piece(const struct famrt_fmap *m, uint32_t i,
				    uint64_t off, struct famrt_fmap_run *r)
{
	const struct fm_ext *e = &m->ext[i];
	uint64_t l = off - m->start[i];
	uint64_t end = m->start[i + 1] < m->file_size ? m->start[i + 1] :
							m->file_size;
	uint64_t len = end - off;

	r->file_off = off;
	if (e->chunk == 0) {
		const struct fm_strip *s = &m->strips[e->first];

		r->dev = s->dev;
		r->dev_off = s->off + l;
	} else {
		uint64_t chunk, coff, stripe, strip;
		const struct fm_strip *s;

		if (e->pow2) {
			chunk = l >> e->cshift;
			coff = l & ((uint64_t)e->chunk - 1);
			stripe = chunk >> e->nshift;
			strip = chunk & ((uint64_t)e->nstrips - 1);
		} else {
			chunk = l / e->chunk;
			coff = l - chunk * e->chunk;
			stripe = chunk / e->nstrips;
			strip = chunk - stripe * e->nstrips;
		}
		s = &m->strips[e->first + strip];
		r->dev = s->dev;
		r->dev_off = s->off + stripe * e->chunk + coff;
		if (e->chunk - coff < len)
			len = e->chunk - coff;
	}
	r->len = len;
}

/*
 * famrt_fmap_resolve() without the range check: the piece holding off,
 * which must be below the file size.
 */
static inline void famrt_fmap_resolve_in(const struct famrt_fmap *m,
					 uint64_t off, struct famrt_fmap_run *r)
{
	famrt_fmap_piece(m, famrt_fmap_find_ext(m, off), off, r);
}

#endif
