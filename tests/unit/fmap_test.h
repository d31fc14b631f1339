/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the fmap unit tests: the wire layout of
 * docs/fmap-wire-format.md restated here, little-endian loads and stores
 * written for the tests (not runtime/util/bytes.h, so that the tests do not
 * share code with what they test), and checks that report the caller's line.
 */
#ifndef FAMRT_TEST_FMAP_TEST_H
#define FAMRT_TEST_FMAP_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <famrt/fmap.h>

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* Sizes and field offsets, from the format document. */
enum {
	W_HDR = 32,
	W_SE = 24,
	W_IE = 24,
	H_FILE_TYPE = 0,
	H_RESERVED = 1,
	H_VERSION = 2,
	H_EXT_TYPE = 4,
	H_NEXTENTS = 8,
	H_RESERVED0 = 12,
	H_FILE_SIZE = 16,
	H_RESERVED1 = 24,
	S_DEVINDEX = 0,
	S_RESERVED = 4,
	S_OFFSET = 8,
	S_LEN = 16,
	I_NSTRIPS = 0,
	I_CHUNK = 4,
	I_NBYTES = 8,
	I_RESERVED = 16,
};

static inline void le_put(uint8_t *b, uint64_t v, unsigned nbytes)
{
	for (unsigned i = 0; i < nbytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le_get(const uint8_t *b, unsigned nbytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < nbytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static inline bool desc_ilv(const struct famrt_fmap_desc *d)
{
	return d->ext_type == FAMRT_FMAP_EXT_INTERLEAVE;
}

/* Message offset of extent i's record (simple extent or interleaved). */
static inline size_t w_ext_pos(const struct famrt_fmap_desc *d, uint32_t i)
{
	size_t p = W_HDR;

	for (uint32_t k = 0; k < i; k++)
		p += desc_ilv(d) ? W_IE + (size_t)d->extents[k].nstrips * W_SE :
				   W_SE;
	return p;
}

/* Message offset of the simple extent record of extent i, strip j. */
static inline size_t w_se_pos(const struct famrt_fmap_desc *d, uint32_t i,
			      uint32_t j)
{
	if (!desc_ilv(d))
		return w_ext_pos(d, i);
	return w_ext_pos(d, i) + W_IE + (size_t)j * W_SE;
}

static inline size_t w_size(const struct famrt_fmap_desc *d)
{
	return w_ext_pos(d, d->nextents);
}

static inline void desc_simple(struct famrt_fmap_desc *d, uint32_t i,
			       uint32_t dev, uint64_t off, uint64_t len)
{
	struct famrt_fmap_extent *e = &d->extents[i];

	e->nstrips = 1;
	e->chunk_size = 0;
	e->nbytes = len;
	e->strips[0].devindex = dev;
	e->strips[0].offset = off;
	e->strips[0].len = len;
}

static inline void desc_iext(struct famrt_fmap_desc *d, uint32_t i,
			     uint32_t nstrips, uint32_t chunk, uint64_t nbytes)
{
	struct famrt_fmap_extent *e = &d->extents[i];

	e->nstrips = nstrips;
	e->chunk_size = chunk;
	e->nbytes = nbytes;
}

static inline void desc_strip(struct famrt_fmap_desc *d, uint32_t i,
			      uint32_t j, uint32_t dev, uint64_t off,
			      uint64_t len)
{
	d->extents[i].strips[j].devindex = dev;
	d->extents[i].strips[j].offset = off;
	d->extents[i].strips[j].len = len;
}

/* Equality of two integers, reported at the caller's line. */
#define EQ(got, want, ...) eq_at((uint64_t)(got), (uint64_t)(want), \
				 __FILE__, __LINE__, __VA_ARGS__)

static inline void __attribute__((format(printf, 5, 6)))
eq_at(uint64_t got, uint64_t want, const char *file, int line,
      const char *fmt, ...)
{
	char what[256];
	va_list ap;

	if (got == want)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	print_error("%s: got %lld (0x%llx), expected %lld (0x%llx)\n", what,
		    (long long)got, (unsigned long long)got, (long long)want,
		    (unsigned long long)want);
	_fail(file, line);
}

#endif
