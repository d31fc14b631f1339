/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmap codec, validation and resolution. See docs/fmap-format.md.
 *
 * Decoding validates and builds in one pass over the message; the map is
 * published only when every rule holds. The resolver has three ways to find
 * the extent holding an offset (one extent; equal power-of-two extents by a
 * shift; binary search of prefix sums) and two ways to split an interleaved
 * extent (shifts and masks when the chunk size and strip count are powers of
 * two; division otherwise). All give the same answers; the unit tests force
 * the general path and compare.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/fmap.h>

#include "fmap_internal.h"
#include "fmap_resolve.h"
#include "util/bytes.h"

_Static_assert(sizeof(struct famrt_fmap_wire_header) == 32, "header size");
_Static_assert(offsetof(struct famrt_fmap_wire_header, file_type) == 0, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, reserved) == 1, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, fmap_version) == 2, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, ext_type) == 4, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, nextents) == 8, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, reserved0) == 12, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, file_size) == 16, "");
_Static_assert(offsetof(struct famrt_fmap_wire_header, reserved1) == 24, "");
_Static_assert(sizeof(struct famrt_fmap_wire_simple_ext) == 24, "se size");
_Static_assert(offsetof(struct famrt_fmap_wire_simple_ext, se_devindex) == 0, "");
_Static_assert(offsetof(struct famrt_fmap_wire_simple_ext, reserved) == 4, "");
_Static_assert(offsetof(struct famrt_fmap_wire_simple_ext, se_offset) == 8, "");
_Static_assert(offsetof(struct famrt_fmap_wire_simple_ext, se_len) == 16, "");
_Static_assert(sizeof(struct famrt_fmap_wire_iext) == 24, "iext size");
_Static_assert(offsetof(struct famrt_fmap_wire_iext, ie_nstrips) == 0, "");
_Static_assert(offsetof(struct famrt_fmap_wire_iext, ie_chunk_size) == 4, "");
_Static_assert(offsetof(struct famrt_fmap_wire_iext, ie_nbytes) == 8, "");
_Static_assert(offsetof(struct famrt_fmap_wire_iext, reserved) == 16, "");
_Static_assert(FAMRT_FMAP_HEADER_SIZE == sizeof(struct famrt_fmap_wire_header),
	       "");
_Static_assert(FAMRT_FMAP_MSG_MIN == 56, "smallest message");
/* The largest message that can be built is well under the limit. */
_Static_assert(FAMRT_FMAP_HEADER_SIZE +
			       FAMRT_FMAP_MAX_EXTENTS *
				       (FAMRT_FMAP_IEXT_SIZE +
					FAMRT_FMAP_MAX_STRIPS *
						FAMRT_FMAP_SIMPLE_EXT_SIZE) ==
		       25376,
	       "largest message");

/* Wire offsets inside each structure. */
enum {
	HDR_FILE_TYPE = 0,
	HDR_RESERVED = 1,
	HDR_VERSION = 2,
	HDR_EXT_TYPE = 4,
	HDR_NEXTENTS = 8,
	HDR_RESERVED0 = 12,
	HDR_FILE_SIZE = 16,
	HDR_RESERVED1 = 24,
	SE_DEVINDEX = 0,
	SE_RESERVED = 4,
	SE_OFFSET = 8,
	SE_LEN = 16,
	IE_NSTRIPS = 0,
	IE_CHUNK = 4,
	IE_NBYTES = 8,
	IE_RESERVED = 16,
};

static const char *const rule_names[FAMRT_FMAP_RULE_COUNT_] = {
	[FAMRT_FMAP_RULE_NONE] = "none",
	[FAMRT_FMAP_RULE_LIMITS] = "limits",
	[FAMRT_FMAP_RULE_TOO_LARGE] = "too-large",
	[FAMRT_FMAP_RULE_TRUNCATED] = "truncated",
	[FAMRT_FMAP_RULE_TRAILING] = "trailing-bytes",
	[FAMRT_FMAP_RULE_FILE_TYPE] = "file-type",
	[FAMRT_FMAP_RULE_VERSION] = "version",
	[FAMRT_FMAP_RULE_EXT_TYPE] = "ext-type",
	[FAMRT_FMAP_RULE_RESERVED] = "reserved",
	[FAMRT_FMAP_RULE_NEXTENTS] = "nextents",
	[FAMRT_FMAP_RULE_NSTRIPS] = "nstrips",
	[FAMRT_FMAP_RULE_ZERO_LENGTH] = "zero-length",
	[FAMRT_FMAP_RULE_UNALIGNED] = "unaligned",
	[FAMRT_FMAP_RULE_CHUNK_ZERO] = "chunk-zero",
	[FAMRT_FMAP_RULE_CHUNK_UNALIGNED] = "chunk-unaligned",
	[FAMRT_FMAP_RULE_NBYTES_ZERO] = "nbytes-zero",
	[FAMRT_FMAP_RULE_NBYTES_CAPACITY] = "nbytes-capacity",
	[FAMRT_FMAP_RULE_DEVINDEX] = "devindex",
	[FAMRT_FMAP_RULE_DEVICE_BOUNDS] = "device-bounds",
	[FAMRT_FMAP_RULE_OVERFLOW] = "overflow",
	[FAMRT_FMAP_RULE_SHORT] = "short",
	[FAMRT_FMAP_RULE_NOMEM] = "nomem",
};

const char *famrt_fmap_rule_name(enum famrt_fmap_rule rule)
{
	if ((unsigned)rule >= FAMRT_FMAP_RULE_COUNT_)
		return "unknown";
	return rule_names[rule];
}

static inline bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline unsigned log2u(uint64_t v)
{
	return (unsigned)__builtin_ctzll(v);
}

/* Decoding context: the message, the limits, where errors go. */
struct dctx {
	const uint8_t *msg;
	size_t len;
	struct famrt_fmap_error *err;
	uint64_t align;
	uint32_t ndev;
	const uint64_t *dev_size;
	const uint64_t *dev_align;
};

__attribute__((format(printf, 8, 9))) static int
fail(struct dctx *c, int errnum, enum famrt_fmap_rule rule, const char *field,
     int ext, int strip, uint64_t msg_off, const char *fmt, ...)
{
	struct famrt_fmap_error *e = c->err;
	char detail[160];
	char where[64];
	va_list ap;

	if (!e)
		return -errnum;
	e->rule = rule;
	e->field = field;
	e->extent = ext;
	e->strip = strip;
	e->msg_offset = msg_off;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (ext >= 0 && strip >= 0)
		snprintf(where, sizeof(where), "extent %d strip %d: ", ext,
			 strip);
	else if (ext >= 0)
		snprintf(where, sizeof(where), "extent %d: ", ext);
	else
		where[0] = '\0';
	/*
	 * A detail too long for the buffer is cut short, on purpose; testing
	 * the result says so to gcc (-Wformat-truncation below -O2).
	 */
	if (snprintf(e->message, sizeof(e->message),
		     "fmap: %s%s (rule %s, byte %llu of the message)", where,
		     detail, famrt_fmap_rule_name(rule),
		     (unsigned long long)msg_off) >= (int)sizeof(e->message))
		e->message[sizeof(e->message) - 1] = '\0';
	return -errnum;
}

static void err_clear(struct famrt_fmap_error *e)
{
	if (!e)
		return;
	e->rule = FAMRT_FMAP_RULE_NONE;
	e->field = NULL;
	e->extent = -1;
	e->strip = -1;
	e->msg_offset = 0;
	e->message[0] = '\0';
}

static int load_limits(struct dctx *c, const struct famrt_fmap_limits *lim)
{
	c->align = FAMRT_FMAP_DEFAULT_ALIGN;
	c->ndev = 0;
	c->dev_size = NULL;
	c->dev_align = NULL;
	if (!lim)
		return 0;
#define HAS(f) (lim->size >= offsetof(struct famrt_fmap_limits, f) + sizeof(lim->f))
	if (!HAS(align))
		return fail(c, EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0,
			    "limits.size %zu is too small", lim->size);
	if (lim->align)
		c->align = lim->align;
	if (!is_pow2(c->align))
		return fail(c, EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0,
			    "alignment %llu is not a power of two",
			    (unsigned long long)c->align);
	if (HAS(dev_size)) {
		c->ndev = lim->ndevices;
		c->dev_size = lim->dev_size;
		if (c->ndev && !c->dev_size)
			return fail(c, EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1,
				    -1, 0,
				    "limits name %u devices but no sizes",
				    c->ndev);
	}
	if (HAS(dev_align) && c->ndev && lim->dev_align) {
		c->dev_align = lim->dev_align;
		for (uint32_t d = 0; d < c->ndev; d++)
			if (!is_pow2(c->dev_align[d]))
				return fail(c, EINVAL, FAMRT_FMAP_RULE_LIMITS,
					    NULL, -1, -1, 0,
					    "device %u alignment %llu is not "
					    "a power of two",
					    d,
					    (unsigned long long)c->dev_align[d]);
	}
#undef HAS
	return 0;
}

/* Alignment that applies to extents on device dev. */
static inline uint64_t dev_alignment(const struct dctx *c, uint32_t dev)
{
	if (c->dev_align && dev < c->ndev && c->dev_align[dev] > c->align)
		return c->dev_align[dev];
	return c->align;
}

/*
 * Check one simple extent (or strip) at message offset p and store it.
 * The caller has checked that 24 bytes are there.
 */
static int check_place(struct dctx *c, size_t p, int ext, int strip,
		       struct fm_strip *out)
{
	const uint8_t *b = c->msg + p;
	uint32_t dev = famrt_le32_get(b + SE_DEVINDEX);
	uint32_t res = famrt_le32_get(b + SE_RESERVED);
	uint64_t off = famrt_le64_get(b + SE_OFFSET);
	uint64_t len = famrt_le64_get(b + SE_LEN);
	uint64_t a, end;

	if (res)
		return fail(c, EINVAL, FAMRT_FMAP_RULE_RESERVED, "se_reserved",
			    ext, strip, p + SE_RESERVED,
			    "reserved field is 0x%x, must be 0", res);
	if (c->ndev && dev >= c->ndev)
		return fail(c, EINVAL, FAMRT_FMAP_RULE_DEVINDEX, "se_devindex",
			    ext, strip, p + SE_DEVINDEX,
			    "se_devindex %u names no device (the file system "
			    "has %u)",
			    dev, c->ndev);
	if (len == 0)
		return fail(c, EINVAL, FAMRT_FMAP_RULE_ZERO_LENGTH, "se_len",
			    ext, strip, p + SE_LEN, "se_len is 0");
	a = dev_alignment(c, dev);
	if (off & (a - 1))
		return fail(c, EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset",
			    ext, strip, p + SE_OFFSET,
			    "se_offset 0x%llx is not a multiple of the "
			    "alignment 0x%llx",
			    (unsigned long long)off, (unsigned long long)a);
	if (len & (a - 1))
		return fail(c, EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_len", ext,
			    strip, p + SE_LEN,
			    "se_len 0x%llx is not a multiple of the alignment "
			    "0x%llx",
			    (unsigned long long)len, (unsigned long long)a);
	if (c->ndev) {
		if (__builtin_add_overflow(off, len, &end) ||
		    end > c->dev_size[dev])
			return fail(c, EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS,
				    "se_len", ext, strip, p + SE_LEN,
				    "bytes 0x%llx + 0x%llx run past the end "
				    "of device %u (size 0x%llx)",
				    (unsigned long long)off,
				    (unsigned long long)len, dev,
				    (unsigned long long)c->dev_size[dev]);
	} else if (__builtin_add_overflow(off, len, &end)) {
		/* No device is that large, and runs would wrap around. */
		return fail(c, EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", ext,
			    strip, p + SE_LEN,
			    "bytes 0x%llx + 0x%llx end past 2^64",
			    (unsigned long long)off, (unsigned long long)len);
	}
	out->off = off;
	out->len = len;
	out->dev = dev;
	out->pad_ = 0;
	return 0;
}

static int need(struct dctx *c, size_t p, size_t n, int ext, int strip,
		const char *what)
{
	if (p > c->len || c->len - p < n)
		return fail(c, EINVAL, FAMRT_FMAP_RULE_TRUNCATED, NULL, ext,
			    strip, p,
			    "message of %zu bytes ends inside the %s at byte "
			    "%zu",
			    c->len, what, p);
	return 0;
}

static int decode_simple(struct dctx *c, struct famrt_fmap *m, size_t *pp,
			 uint64_t *total)
{
	size_t p = *pp;
	uint64_t sum = 0;
	int rc;

	for (uint32_t i = 0; i < m->nextents; i++) {
		struct fm_ext *e = &m->ext[i];
		struct fm_strip *s = &m->strips[i];

		rc = need(c, p, FAMRT_FMAP_SIMPLE_EXT_SIZE, (int)i, -1,
			  "simple extent");
		if (rc)
			return rc;
		rc = check_place(c, p, (int)i, -1, s);
		if (rc)
			return rc;
		if (__builtin_add_overflow(sum, s->len, &sum))
			return fail(c, EINVAL, FAMRT_FMAP_RULE_OVERFLOW,
				    "se_len", (int)i, -1, p + SE_LEN,
				    "extent lengths add up to more than 2^64");
		e->nbytes = s->len;
		e->chunk = 0;
		e->nstrips = 1;
		e->first = i;
		p += FAMRT_FMAP_SIMPLE_EXT_SIZE;
	}
	m->nstrips_total = m->nextents;
	*pp = p;
	*total = sum;
	return 0;
}

static int decode_interleaved(struct dctx *c, struct famrt_fmap *m,
			      size_t *pp, uint64_t *total)
{
	size_t p = *pp;
	uint64_t sum = 0;
	uint32_t first = 0;
	int rc;

	for (uint32_t i = 0; i < m->nextents; i++) {
		struct fm_ext *e = &m->ext[i];
		const uint8_t *b;
		uint32_t n, chunk;
		uint64_t nbytes, res, minlen = UINT64_MAX, cap;
		int ei = (int)i;

		rc = need(c, p, FAMRT_FMAP_IEXT_SIZE, ei, -1,
			  "interleaved extent");
		if (rc)
			return rc;
		b = c->msg + p;
		n = famrt_le32_get(b + IE_NSTRIPS);
		chunk = famrt_le32_get(b + IE_CHUNK);
		nbytes = famrt_le64_get(b + IE_NBYTES);
		res = famrt_le64_get(b + IE_RESERVED);
		if (n < 1 || n > FAMRT_FMAP_MAX_STRIPS)
			return fail(c, n ? E2BIG : EINVAL,
				    FAMRT_FMAP_RULE_NSTRIPS, "ie_nstrips", ei,
				    -1, p + IE_NSTRIPS,
				    "ie_nstrips is %u, must be 1 to %u", n,
				    FAMRT_FMAP_MAX_STRIPS);
		if (chunk == 0)
			return fail(c, EINVAL, FAMRT_FMAP_RULE_CHUNK_ZERO,
				    "ie_chunk_size", ei, -1, p + IE_CHUNK,
				    "ie_chunk_size is 0");
		if (chunk & (c->align - 1))
			return fail(c, EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
				    "ie_chunk_size", ei, -1, p + IE_CHUNK,
				    "ie_chunk_size 0x%x is not a multiple of "
				    "the alignment 0x%llx",
				    chunk, (unsigned long long)c->align);
		if (nbytes == 0)
			return fail(c, EINVAL, FAMRT_FMAP_RULE_NBYTES_ZERO,
				    "ie_nbytes", ei, -1, p + IE_NBYTES,
				    "ie_nbytes is 0");
		if (res)
			return fail(c, EINVAL, FAMRT_FMAP_RULE_RESERVED,
				    "ie_reserved", ei, -1, p + IE_RESERVED,
				    "reserved field is 0x%llx, must be 0",
				    (unsigned long long)res);
		p += FAMRT_FMAP_IEXT_SIZE;
		rc = need(c, p, (size_t)n * FAMRT_FMAP_SIMPLE_EXT_SIZE, ei, -1,
			  "strip list");
		if (rc)
			return rc;
		for (uint32_t j = 0; j < n; j++) {
			struct fm_strip *s = &m->strips[first + j];
			uint64_t a;

			rc = check_place(c, p, ei, (int)j, s);
			if (rc)
				return rc;
			a = dev_alignment(c, s->dev);
			if (chunk & (a - 1))
				return fail(c, EINVAL,
					    FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
					    "ie_chunk_size", ei, (int)j,
					    p - j * FAMRT_FMAP_SIMPLE_EXT_SIZE -
						    FAMRT_FMAP_IEXT_SIZE + IE_CHUNK,
					    "ie_chunk_size 0x%x is not a "
					    "multiple of device %u's alignment "
					    "0x%llx",
					    chunk, s->dev, (unsigned long long)a);
			if (s->len < minlen)
				minlen = s->len;
			p += FAMRT_FMAP_SIMPLE_EXT_SIZE;
		}
		/* Whole stripes of the shortest strip, times the strips. */
		if (__builtin_mul_overflow(minlen / chunk * chunk, (uint64_t)n,
					   &cap))
			cap = UINT64_MAX;
		if (nbytes > cap)
			return fail(c, EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY,
				    "ie_nbytes", ei, -1,
				    p - (size_t)n * FAMRT_FMAP_SIMPLE_EXT_SIZE -
					    FAMRT_FMAP_IEXT_SIZE + IE_NBYTES,
				    "ie_nbytes %llu is more than its %u strips "
				    "hold (%llu: %llu whole stripes of %u-byte "
				    "chunks)",
				    (unsigned long long)nbytes, n,
				    (unsigned long long)cap,
				    (unsigned long long)(minlen / chunk), chunk);
		if (__builtin_add_overflow(sum, nbytes, &sum))
			return fail(c, EINVAL, FAMRT_FMAP_RULE_OVERFLOW,
				    "ie_nbytes", ei, -1,
				    p - (size_t)n * FAMRT_FMAP_SIMPLE_EXT_SIZE -
					    FAMRT_FMAP_IEXT_SIZE + IE_NBYTES,
				    "ie_nbytes add up to more than 2^64");
		e->nbytes = nbytes;
		e->chunk = chunk;
		e->nstrips = n;
		e->first = first;
		e->pow2 = is_pow2(chunk) && is_pow2(n);
		e->cshift = (uint8_t)log2u(chunk);
		e->nshift = (uint8_t)log2u(n);
		first += n;
	}
	m->nstrips_total = first;
	*pp = p;
	*total = sum;
	return 0;
}

/* Prefix sums and the choice of fast paths, once the map is valid. */
static void prepare(struct famrt_fmap *m)
{
	uint32_t n = m->nextents;
	uint64_t common = m->ext[0].nbytes;
	bool equal = true;

	m->start[0] = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t held = m->ext[i].nbytes;

		if (m->ext_type == FAMRT_FMAP_EXT_INTERLEAVE) {
			uint64_t left = m->start[i] < m->file_size ?
						m->file_size - m->start[i] :
						0;
			held = held < left ? held : left;
		}
		m->start[i + 1] = m->start[i] + held;
		if (m->ext[i].nbytes != common)
			equal = false;
	}
	for (uint32_t i = n + 1; i <= FAMRT_FMAP_MAX_EXTENTS; i++)
		m->start[i] = UINT64_MAX;

	m->max_dev = 0;
	for (uint32_t s = 0; s < m->nstrips_total; s++)
		if (m->strips[s].dev > m->max_dev)
			m->max_dev = m->strips[s].dev;

	if (n == 1) {
		m->find = FAMRT_FMAP_FIND_ONE;
	} else if (equal && is_pow2(common)) {
		m->find = FAMRT_FMAP_FIND_SHIFT;
		m->shift = (uint8_t)log2u(common);
	} else {
		m->find = FAMRT_FMAP_FIND_SEARCH;
	}
}

int famrt_fmap_decode(const void *msg, size_t len,
		      const struct famrt_fmap_limits *lim,
		      struct famrt_fmap **out, struct famrt_fmap_error *err)
{
	struct dctx c = { .msg = msg, .len = len, .err = err };
	struct famrt_fmap *m;
	const uint8_t *b = msg;
	uint32_t nextents, ext_type;
	uint16_t version;
	uint64_t total = 0;
	size_t p, max_strips;
	int rc;

	if (out)
		*out = NULL;
	err_clear(err);
	if (!out || (!msg && len))
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0,
			    "no message or no place for the map");
	rc = load_limits(&c, lim);
	if (rc)
		return rc;
	if (len > FAMRT_FMAP_MSG_MAX)
		return fail(&c, E2BIG, FAMRT_FMAP_RULE_TOO_LARGE, NULL, -1, -1,
			    FAMRT_FMAP_MSG_MAX,
			    "message is %zu bytes, more than the %u allowed",
			    len, FAMRT_FMAP_MSG_MAX);
	rc = need(&c, 0, FAMRT_FMAP_HEADER_SIZE, -1, -1, "header");
	if (rc)
		return rc;
	if (b[HDR_FILE_TYPE] > FAMRT_FMAP_FILE_LOG)
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_FILE_TYPE, "file_type",
			    -1, -1, HDR_FILE_TYPE,
			    "file_type %u is unknown (0 regular, 1 superblock, "
			    "2 log)",
			    b[HDR_FILE_TYPE]);
	if (b[HDR_RESERVED])
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_RESERVED, "reserved",
			    -1, -1, HDR_RESERVED,
			    "header reserved byte is 0x%x, must be 0",
			    b[HDR_RESERVED]);
	version = famrt_le16_get(b + HDR_VERSION);
	if (version != FAMRT_FMAP_VERSION)
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_VERSION, "fmap_version",
			    -1, -1, HDR_VERSION,
			    "fmap_version %u is not supported (only %u)",
			    version, FAMRT_FMAP_VERSION);
	ext_type = famrt_le32_get(b + HDR_EXT_TYPE);
	if (ext_type > FAMRT_FMAP_EXT_INTERLEAVE)
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_EXT_TYPE, "ext_type",
			    -1, -1, HDR_EXT_TYPE,
			    "ext_type %u is unknown (0 simple, 1 interleaved)",
			    ext_type);
	nextents = famrt_le32_get(b + HDR_NEXTENTS);
	if (nextents < 1 || nextents > FAMRT_FMAP_MAX_EXTENTS)
		return fail(&c, nextents ? E2BIG : EINVAL,
			    FAMRT_FMAP_RULE_NEXTENTS, "nextents", -1, -1,
			    HDR_NEXTENTS, "nextents is %u, must be 1 to %u",
			    nextents, FAMRT_FMAP_MAX_EXTENTS);
	if (famrt_le32_get(b + HDR_RESERVED0))
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_RESERVED, "reserved0",
			    -1, -1, HDR_RESERVED0,
			    "reserved0 is 0x%x, must be 0",
			    famrt_le32_get(b + HDR_RESERVED0));
	if (famrt_le64_get(b + HDR_RESERVED1))
		return fail(&c, EINVAL, FAMRT_FMAP_RULE_RESERVED, "reserved1",
			    -1, -1, HDR_RESERVED1,
			    "reserved1 is 0x%llx, must be 0",
			    (unsigned long long)famrt_le64_get(b + HDR_RESERVED1));

	/* Every strip takes 24 bytes of the message: a bound on their count. */
	max_strips = (len - FAMRT_FMAP_HEADER_SIZE) / FAMRT_FMAP_SIMPLE_EXT_SIZE;
	m = calloc(1, sizeof(*m) + max_strips * sizeof(struct fm_strip));
	if (!m)
		return fail(&c, ENOMEM, FAMRT_FMAP_RULE_NOMEM, NULL, -1, -1, 0,
			    "out of memory for a map of %zu bytes", len);
	m->file_type = b[HDR_FILE_TYPE];
	m->ext_type = (uint8_t)ext_type;
	m->nextents = nextents;
	m->file_size = famrt_le64_get(b + HDR_FILE_SIZE);

	p = FAMRT_FMAP_HEADER_SIZE;
	if (ext_type == FAMRT_FMAP_EXT_SIMPLE)
		rc = decode_simple(&c, m, &p, &total);
	else
		rc = decode_interleaved(&c, m, &p, &total);
	if (rc)
		goto fail;
	if (p != len) {
		rc = fail(&c, EINVAL, FAMRT_FMAP_RULE_TRAILING, NULL, -1, -1, p,
			  "%zu bytes follow the last extent", len - p);
		goto fail;
	}
	if (total < m->file_size) {
		rc = fail(&c, EINVAL, FAMRT_FMAP_RULE_SHORT, "file_size", -1, -1,
			  HDR_FILE_SIZE,
			  "extents hold %llu bytes, less than file_size %llu",
			  (unsigned long long)total,
			  (unsigned long long)m->file_size);
		goto fail;
	}
	prepare(m);
	*out = m;
	return 0;
fail:
	free(m);
	return rc;
}

void famrt_fmap_free(struct famrt_fmap *map)
{
	free(map);
}

size_t famrt_fmap_encoded_size(const struct famrt_fmap *m)
{
	size_t n = FAMRT_FMAP_HEADER_SIZE +
		   (size_t)m->nstrips_total * FAMRT_FMAP_SIMPLE_EXT_SIZE;

	if (m->ext_type == FAMRT_FMAP_EXT_INTERLEAVE)
		n += (size_t)m->nextents * FAMRT_FMAP_IEXT_SIZE;
	return n;
}

static uint8_t *put_header(uint8_t *b, uint8_t file_type, uint32_t ext_type,
			   uint32_t nextents, uint64_t file_size)
{
	memset(b, 0, FAMRT_FMAP_HEADER_SIZE);
	b[HDR_FILE_TYPE] = file_type;
	famrt_le16_put(b + HDR_VERSION, FAMRT_FMAP_VERSION);
	famrt_le32_put(b + HDR_EXT_TYPE, ext_type);
	famrt_le32_put(b + HDR_NEXTENTS, nextents);
	famrt_le64_put(b + HDR_FILE_SIZE, file_size);
	return b + FAMRT_FMAP_HEADER_SIZE;
}

static uint8_t *put_place(uint8_t *b, uint32_t dev, uint64_t off, uint64_t len)
{
	famrt_le32_put(b + SE_DEVINDEX, dev);
	famrt_le32_put(b + SE_RESERVED, 0);
	famrt_le64_put(b + SE_OFFSET, off);
	famrt_le64_put(b + SE_LEN, len);
	return b + FAMRT_FMAP_SIMPLE_EXT_SIZE;
}

static uint8_t *put_iext(uint8_t *b, uint32_t n, uint32_t chunk,
			 uint64_t nbytes)
{
	famrt_le32_put(b + IE_NSTRIPS, n);
	famrt_le32_put(b + IE_CHUNK, chunk);
	famrt_le64_put(b + IE_NBYTES, nbytes);
	famrt_le64_put(b + IE_RESERVED, 0);
	return b + FAMRT_FMAP_IEXT_SIZE;
}

ssize_t famrt_fmap_encode(const struct famrt_fmap *m, void *buf,
			  size_t buflen)
{
	size_t need_len = famrt_fmap_encoded_size(m);
	uint8_t *b = buf;

	if (buflen < need_len)
		return -ENOSPC;
	b = put_header(b, m->file_type, m->ext_type, m->nextents, m->file_size);
	for (uint32_t i = 0; i < m->nextents; i++) {
		const struct fm_ext *e = &m->ext[i];

		if (m->ext_type == FAMRT_FMAP_EXT_INTERLEAVE)
			b = put_iext(b, e->nstrips, e->chunk, e->nbytes);
		for (uint32_t j = 0; j < e->nstrips; j++) {
			const struct fm_strip *s = &m->strips[e->first + j];

			b = put_place(b, s->dev, s->off, s->len);
		}
	}
	return (ssize_t)need_len;
}

ssize_t famrt_fmap_desc_encode(const struct famrt_fmap_desc *d, void *buf,
			       size_t buflen)
{
	bool ilv = d->ext_type == FAMRT_FMAP_EXT_INTERLEAVE;
	size_t len = FAMRT_FMAP_HEADER_SIZE;
	uint8_t *b = buf;

	if (d->ext_type > FAMRT_FMAP_EXT_INTERLEAVE ||
	    d->nextents > FAMRT_FMAP_MAX_EXTENTS)
		return -EINVAL;
	for (uint32_t i = 0; i < d->nextents; i++) {
		if (!ilv) {
			len += FAMRT_FMAP_SIMPLE_EXT_SIZE;
			continue;
		}
		if (d->extents[i].nstrips > FAMRT_FMAP_MAX_STRIPS)
			return -EINVAL;
		len += FAMRT_FMAP_IEXT_SIZE +
		       (size_t)d->extents[i].nstrips * FAMRT_FMAP_SIMPLE_EXT_SIZE;
	}
	if (buflen < len)
		return -ENOSPC;
	b = put_header(b, d->file_type, d->ext_type, d->nextents, d->file_size);
	for (uint32_t i = 0; i < d->nextents; i++) {
		const struct famrt_fmap_extent *e = &d->extents[i];

		if (!ilv) {
			b = put_place(b, e->strips[0].devindex,
				      e->strips[0].offset, e->strips[0].len);
			continue;
		}
		b = put_iext(b, e->nstrips, e->chunk_size, e->nbytes);
		for (uint32_t j = 0; j < e->nstrips; j++)
			b = put_place(b, e->strips[j].devindex,
				      e->strips[j].offset, e->strips[j].len);
	}
	return (ssize_t)len;
}

int famrt_fmap_build(const struct famrt_fmap_desc *desc,
		     const struct famrt_fmap_limits *lim,
		     struct famrt_fmap **out, struct famrt_fmap_error *err)
{
	struct dctx c = { .err = err };
	uint8_t *buf;
	ssize_t n;
	int rc;

	if (out)
		*out = NULL;
	err_clear(err);
	buf = malloc(FAMRT_FMAP_MSG_MAX);
	if (!buf)
		return fail(&c, ENOMEM, FAMRT_FMAP_RULE_NOMEM, NULL, -1, -1, 0,
			    "out of memory for a message buffer");
	n = famrt_fmap_desc_encode(desc, buf, FAMRT_FMAP_MSG_MAX);
	if (n < 0) {
		free(buf);
		if (desc->ext_type > FAMRT_FMAP_EXT_INTERLEAVE)
			return fail(&c, EINVAL, FAMRT_FMAP_RULE_EXT_TYPE,
				    "ext_type", -1, -1, HDR_EXT_TYPE,
				    "ext_type %u is unknown", desc->ext_type);
		if (desc->nextents > FAMRT_FMAP_MAX_EXTENTS)
			return fail(&c, E2BIG, FAMRT_FMAP_RULE_NEXTENTS,
				    "nextents", -1, -1, HDR_NEXTENTS,
				    "nextents is %u, must be 1 to %u",
				    desc->nextents, FAMRT_FMAP_MAX_EXTENTS);
		return fail(&c, E2BIG, FAMRT_FMAP_RULE_NSTRIPS, "ie_nstrips",
			    -1, -1, 0, "an extent has more than %u strips",
			    FAMRT_FMAP_MAX_STRIPS);
	}
	rc = famrt_fmap_decode(buf, (size_t)n, lim, out, err);
	free(buf);
	return rc;
}

static void fill_extent(const struct famrt_fmap *m, uint32_t i,
			struct famrt_fmap_extent *x)
{
	const struct fm_ext *e = &m->ext[i];

	x->nstrips = e->nstrips;
	x->chunk_size = e->chunk;
	x->nbytes = e->nbytes;
	x->file_offset = m->start[i];
	x->file_bytes = m->start[i + 1] - m->start[i];
	if (m->start[i] >= m->file_size)
		x->file_bytes = 0;
	else if (m->start[i + 1] > m->file_size)
		x->file_bytes = m->file_size - m->start[i];
	for (uint32_t j = 0; j < e->nstrips; j++) {
		const struct fm_strip *s = &m->strips[e->first + j];

		x->strips[j].devindex = s->dev;
		x->strips[j].offset = s->off;
		x->strips[j].len = s->len;
	}
}

void famrt_fmap_to_desc(const struct famrt_fmap *m, struct famrt_fmap_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->file_type = m->file_type;
	d->ext_type = m->ext_type;
	d->nextents = m->nextents;
	d->file_size = m->file_size;
	for (uint32_t i = 0; i < m->nextents; i++)
		fill_extent(m, i, &d->extents[i]);
}

int famrt_fmap_get_extent(const struct famrt_fmap *m, uint32_t idx,
			  struct famrt_fmap_extent *x)
{
	if (idx >= m->nextents)
		return -ERANGE;
	fill_extent(m, idx, x);
	return 0;
}

uint64_t famrt_fmap_file_size(const struct famrt_fmap *m)
{
	return m->file_size;
}

enum famrt_fmap_file_type famrt_fmap_file_type(const struct famrt_fmap *m)
{
	return (enum famrt_fmap_file_type)m->file_type;
}

enum famrt_fmap_ext_type famrt_fmap_ext_type(const struct famrt_fmap *m)
{
	return (enum famrt_fmap_ext_type)m->ext_type;
}

uint32_t famrt_fmap_nextents(const struct famrt_fmap *m)
{
	return m->nextents;
}

uint32_t famrt_fmap_max_devindex(const struct famrt_fmap *m)
{
	return m->max_dev;
}

/* ---- resolution (the steps are in fmap_resolve.h) ---- */

int famrt_fmap_resolve(const struct famrt_fmap *m, uint64_t off,
		       struct famrt_fmap_run *run)
{
	if (off >= m->file_size)
		return -ERANGE;
	famrt_fmap_resolve_in(m, off, run);
	return 0;
}

void famrt_fmap_iter_init(struct famrt_fmap_iter *it,
			  const struct famrt_fmap *m, uint64_t off,
			  uint64_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(off, len, &end) || end > m->file_size)
		end = m->file_size;
	it->map_ = m;
	it->pend_len_ = 0;
	it->pend_off_ = 0;
	it->pend_dev_ = 0;
	if (off >= end) {
		it->off_ = it->end_ = 0;
		it->ext_ = 0;
		return;
	}
	it->off_ = off;
	it->end_ = end;
	it->ext_ = famrt_fmap_find_ext(m, off);
}

/* The piece at off (< it->end_), clipped at the end of the range. */
static inline void step(struct famrt_fmap_iter *it, uint64_t off,
			struct famrt_fmap_run *r)
{
	const struct famrt_fmap *m = it->map_;

	while (m->start[it->ext_ + 1] <= off)
		it->ext_++;
	famrt_fmap_piece(m, it->ext_, off, r);
	if (r->len > it->end_ - off)
		r->len = it->end_ - off;
}

bool famrt_fmap_iter_next(struct famrt_fmap_iter *it,
			  struct famrt_fmap_run *run)
{
	struct famrt_fmap_run r, p;
	uint64_t off = it->off_;

	if (off >= it->end_)
		return false;
	if (it->pend_len_) {
		r.file_off = off;
		r.dev = it->pend_dev_;
		r.dev_off = it->pend_off_;
		r.len = it->pend_len_;
		it->pend_len_ = 0;
	} else {
		step(it, off, &r);
	}
	off += r.len;
	/* Extend the run while the next piece continues it on the device. */
	while (off < it->end_) {
		step(it, off, &p);
		if (p.dev != r.dev || p.dev_off != r.dev_off + r.len) {
			it->pend_dev_ = p.dev;
			it->pend_off_ = p.dev_off;
			it->pend_len_ = p.len;
			break;
		}
		r.len += p.len;
		off += p.len;
	}
	it->off_ = off;
	*run = r;
	return true;
}

/* ---- test hooks ---- */

enum famrt_fmap_find famrt_fmap_debug_find(const struct famrt_fmap *m)
{
	return (enum famrt_fmap_find)m->find;
}

bool famrt_fmap_debug_ext_pow2(const struct famrt_fmap *m, uint32_t idx)
{
	return idx < m->nextents && m->ext[idx].chunk && m->ext[idx].pow2;
}

void famrt_fmap_debug_force_general(struct famrt_fmap *m)
{
	m->find = FAMRT_FMAP_FIND_SEARCH;
	for (uint32_t i = 0; i < m->nextents; i++)
		m->ext[i].pow2 = 0;
}
