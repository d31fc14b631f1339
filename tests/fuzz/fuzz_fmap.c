/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz famrt_fmap_decode, resolve, the iterator and encode.
 *
 * The input is a 24-byte prefix that chooses the limits and the probes
 * (fuzz_fmap_input.h) followed by the message. Next to the library, the
 * target carries a reference model written straight from
 * docs/fmap-wire-format.md: a validator that says whether the message must
 * be accepted, and a resolver that does the interleave arithmetic with plain
 * division. Decoding must agree with the validator; every lookup and every
 * run from the iterator must agree with the resolver; a refused message must
 * come with an error that names a field holding a value that breaks the rule
 * named. Any disagreement aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <famrt/fmap.h>

#include "fmap/fmap_internal.h"
#include "fuzz.h"
#include "fuzz_fmap_input.h"

/* Work budget of the iterator checks, so that no input runs for long. */
#define MAX_RUNS 2048
#define MAX_PIECES 8192

struct ctl {
	struct famrt_fmap_limits lim;
	const struct famrt_fmap_limits *limp;
	uint64_t dev_size[FMAP_FUZZ_MAX_DEV];
	uint64_t dev_align[FMAP_FUZZ_MAX_DEV];
	bool limits_ok;   /* what the library must think of the limits */
	uint64_t align;   /* alignment in force */
	uint64_t maxalign; /* largest alignment any extent can be held to */
	uint32_t ndev;    /* devices in force (0: unchecked) */
	bool per_dev;     /* dev_align in force */
	uint64_t probe;
	uint64_t span;
};

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void read_ctl(const uint8_t *p, struct ctl *c)
{
	uint32_t nd = ((p[0] >> FMAP_FUZZ_NDEV_SHIFT) & 7u) % 5u;
	uint64_t a = fmap_fuzz_align[p[0] & FMAP_FUZZ_ALIGN_MASK];

	memset(c, 0, sizeof(*c));
	for (uint32_t d = 0; d < FMAP_FUZZ_MAX_DEV; d++) {
		c->dev_size[d] = fmap_fuzz_dev_size(p[2 + d]);
		c->dev_align[d] = fmap_fuzz_dev_align[(p[6] >> (2 * d)) & 3u];
	}
	c->probe = get64(p + 8);
	c->span = get64(p + 16);

	if (p[7] & FMAP_FUZZ_BAD_DEV_ALIGN)
		c->dev_align[0] = 12288;
	c->lim.size = sizeof(c->lim);
	c->lim.align = a;
	c->lim.ndevices = nd;
	c->lim.dev_size = (nd && !(p[1] & FMAP_FUZZ_NO_DEV_SIZE)) ?
				  c->dev_size :
				  NULL;
	c->lim.dev_align = (p[0] & FMAP_FUZZ_DEV_ALIGN) ? c->dev_align : NULL;
	if (p[1] & FMAP_FUZZ_SHORT_LIMITS)
		c->lim.size = offsetof(struct famrt_fmap_limits, align) +
			      sizeof(c->lim.align);
	if (p[1] & FMAP_FUZZ_TINY_LIMITS)
		c->lim.size = 4;
	c->limp = (p[0] & FMAP_FUZZ_NULL_LIMITS) ? NULL : &c->lim;

	/* What the library must make of that, from its documented rules. */
	c->align = 2u << 20;
	c->limits_ok = true;
	if (c->limp) {
		if (a)
			c->align = a;
		c->limits_ok = c->lim.size >= offsetof(struct famrt_fmap_limits,
						       align) +
						      sizeof(c->lim.align) &&
			       pow2(c->align);
		if (c->lim.size == sizeof(c->lim)) {
			c->ndev = nd;
			c->per_dev = nd && c->lim.dev_align;
			if (nd && !c->lim.dev_size)
				c->limits_ok = false;
		}
		for (uint32_t d = 0; c->per_dev && d < c->ndev; d++)
			if (!pow2(c->dev_align[d]))
				c->limits_ok = false;
	}
	c->maxalign = c->align;
	for (uint32_t d = 0; c->per_dev && d < c->ndev; d++)
		if (c->dev_align[d] > c->maxalign)
			c->maxalign = c->dev_align[d];
}

/* ---- the reference model ---- */

struct ref_strip {
	uint32_t dev;
	uint64_t off;
	uint64_t len;
};

struct ref_ext {
	uint32_t n;
	uint32_t chunk; /* 0: simple */
	uint64_t nbytes;
	uint64_t start; /* file offset of its first byte */
	uint64_t held;  /* bytes of the file it holds */
	struct ref_strip s[FAMRT_FMAP_MAX_STRIPS];
};

struct ref_map {
	uint8_t file_type;
	uint32_t ext_type;
	uint32_t nextents;
	uint64_t size;
	uint32_t max_dev;
	struct ref_ext e[FAMRT_FMAP_MAX_EXTENTS];
};

static uint64_t eff_align(const struct ctl *c, uint32_t dev)
{
	if (c->per_dev && dev < c->ndev && c->dev_align[dev] > c->align)
		return c->dev_align[dev];
	return c->align;
}

static bool ref_place(const struct ctl *c, const uint8_t *b,
		      struct ref_strip *s)
{
	uint64_t a, end;

	s->dev = get32(b);
	s->off = get64(b + 8);
	s->len = get64(b + 16);
	if (get32(b + 4) || s->len == 0)
		return false;
	if (c->ndev && s->dev >= c->ndev)
		return false;
	a = eff_align(c, s->dev);
	if (s->off % a || s->len % a)
		return false;
	/* Past 2^64 is past the end of any device, known or not. */
	if (__builtin_add_overflow(s->off, s->len, &end))
		return false;
	if (c->ndev && end > c->dev_size[s->dev])
		return false;
	return true;
}

/* Does the message pass every rule? If so, fill r. */
static bool ref_parse(const struct ctl *c, const uint8_t *m, size_t len,
		      struct ref_map *r)
{
	uint64_t total = 0, covered = 0;
	size_t p = FAMRT_FMAP_HEADER_SIZE;

	if (!c->limits_ok || len > FAMRT_FMAP_MSG_MAX ||
	    len < FAMRT_FMAP_HEADER_SIZE)
		return false;
	r->file_type = m[0];
	r->ext_type = get32(m + 4);
	r->nextents = get32(m + 8);
	r->size = get64(m + 16);
	r->max_dev = 0;
	if (m[0] > 2 || m[1] || get16(m + 2) != 1 || r->ext_type > 1 ||
	    r->nextents < 1 || r->nextents > 32 || get32(m + 12) ||
	    get64(m + 24))
		return false;
	for (uint32_t i = 0; i < r->nextents; i++) {
		struct ref_ext *e = &r->e[i];
		uint64_t minlen = UINT64_MAX, cap;

		if (r->ext_type == 0) {
			if (len - p < 24 || !ref_place(c, m + p, &e->s[0]))
				return false;
			e->n = 1;
			e->chunk = 0;
			e->nbytes = e->s[0].len;
			p += 24;
		} else {
			if (len - p < 24)
				return false;
			e->n = get32(m + p);
			e->chunk = get32(m + p + 4);
			e->nbytes = get64(m + p + 8);
			if (e->n < 1 || e->n > 32 || e->chunk == 0 ||
			    e->chunk % c->align || e->nbytes == 0 ||
			    get64(m + p + 16))
				return false;
			p += 24;
			for (uint32_t j = 0; j < e->n; j++) {
				if (len - p < 24 ||
				    !ref_place(c, m + p, &e->s[j]) ||
				    e->chunk % eff_align(c, e->s[j].dev))
					return false;
				if (e->s[j].len < minlen)
					minlen = e->s[j].len;
				p += 24;
			}
			if (__builtin_mul_overflow(minlen / e->chunk *
							   e->chunk,
						   (uint64_t)e->n, &cap))
				cap = UINT64_MAX;
			if (e->nbytes > cap)
				return false;
		}
		if (__builtin_add_overflow(total, e->nbytes, &total))
			return false;
		for (uint32_t j = 0; j < e->n; j++)
			if (e->s[j].dev > r->max_dev)
				r->max_dev = e->s[j].dev;
	}
	if (p != len || total < r->size)
		return false;
	for (uint32_t i = 0; i < r->nextents; i++) {
		struct ref_ext *e = &r->e[i];

		e->start = covered;
		e->held = e->nbytes;
		if (e->chunk) {
			uint64_t left = covered < r->size ? r->size - covered :
							    0;
			if (e->held > left)
				e->held = left;
		}
		covered += e->held;
	}
	return true;
}

/* The piece holding off (< size), by the formula of the spec. */
static void ref_piece(const struct ref_map *r, uint64_t off,
		      struct famrt_fmap_run *run)
{
	const struct ref_ext *e = NULL;
	const struct ref_strip *s;
	uint64_t l, end;

	for (uint32_t i = 0; i < r->nextents; i++) {
		if (off - r->e[i].start < r->e[i].held) {
			e = &r->e[i];
			break;
		}
	}
	FUZZ_CHECK(e != NULL);
	l = off - e->start;
	end = e->start + e->held;
	if (end > r->size)
		end = r->size;
	run->file_off = off;
	if (!e->chunk) {
		s = &e->s[0];
		run->dev_off = s->off + l;
		run->len = end - off;
	} else {
		uint64_t chunk = l / e->chunk, coff = l % e->chunk;
		uint64_t stripe = chunk / e->n;

		s = &e->s[chunk % e->n];
		run->dev_off = s->off + stripe * e->chunk + coff;
		run->len = e->chunk - coff;
		if (run->len > end - off)
			run->len = end - off;
	}
	run->dev = s->dev;
	/* Validation must keep every piece inside its strip. */
	FUZZ_CHECK(run->dev_off >= s->off);
	FUZZ_CHECK(run->dev_off - s->off <= s->len);
	FUZZ_CHECK(run->len <= s->len - (run->dev_off - s->off));
}

/* ---- checks of an accepted message ---- */

static void check_run_bounds(const struct ctl *c, const struct ref_map *r,
			     uint64_t off, const struct famrt_fmap_run *run)
{
	uint64_t end;

	FUZZ_CHECK(run->file_off == off);
	FUZZ_CHECK(run->len >= 1);
	FUZZ_CHECK(run->len <= r->size - off);
	FUZZ_CHECK(!__builtin_add_overflow(run->dev_off, run->len, &end));
	if (c->ndev) {
		FUZZ_CHECK(run->dev < c->ndev);
		FUZZ_CHECK(end <= c->dev_size[run->dev]);
	}
}

static void check_resolve(const struct ctl *c, const struct ref_map *r,
			  const struct famrt_fmap *m, uint64_t off)
{
	struct famrt_fmap_run run, want;

	if (off >= r->size) {
		FUZZ_CHECK(famrt_fmap_resolve(m, off, &run) == -ERANGE);
		return;
	}
	FUZZ_CHECK(famrt_fmap_resolve(m, off, &run) == 0);
	check_run_bounds(c, r, off, &run);
	ref_piece(r, off, &want);
	FUZZ_CHECK(run.dev == want.dev);
	FUZZ_CHECK(run.dev_off == want.dev_off);
	FUZZ_CHECK(run.len == want.len);
}

/*
 * Iterate over [off, off + len): the runs must tile the range (clipped at
 * the size) in order, each must be a chain of reference pieces contiguous
 * on one device, and the piece after a run must not continue it.
 */
static void check_iter(const struct ctl *c, const struct ref_map *r,
		       const struct famrt_fmap *m, uint64_t off, uint64_t len)
{
	struct famrt_fmap_iter it;
	struct famrt_fmap_run run, p;
	uint64_t end, cur = off;
	unsigned pieces = 0;

	if (__builtin_add_overflow(off, len, &end) || end > r->size)
		end = r->size;
	famrt_fmap_iter_init(&it, m, off, len);
	for (unsigned n = 0; n < MAX_RUNS; n++) {
		uint64_t rend;

		if (!famrt_fmap_iter_next(&it, &run)) {
			FUZZ_CHECK(off >= end ? true : cur == end);
			FUZZ_CHECK(!famrt_fmap_iter_next(&it, &run));
			return;
		}
		FUZZ_CHECK(off < end);
		FUZZ_CHECK(run.file_off == cur);
		FUZZ_CHECK(run.len >= 1 && run.len <= end - cur);
		check_run_bounds(c, r, cur, &run);
		rend = cur + run.len;
		for (uint64_t o = cur; o < rend && pieces < MAX_PIECES;
		     pieces++) {
			ref_piece(r, o, &p);
			FUZZ_CHECK(p.dev == run.dev);
			FUZZ_CHECK(p.dev_off == run.dev_off + (o - cur));
			o += p.len < rend - o ? p.len : rend - o;
		}
		if (rend < end) {
			ref_piece(r, rend, &p);
			FUZZ_CHECK(p.dev != run.dev ||
				   p.dev_off != run.dev_off + run.len);
		}
		cur = rend;
	}
}

static void check_probes(const struct ctl *c, const struct ref_map *r,
			 const struct famrt_fmap *m)
{
	uint64_t size = r->size;

	check_resolve(c, r, m, size);
	check_resolve(c, r, m, UINT64_MAX);
	if (!size)
		return;
	check_resolve(c, r, m, 0);
	check_resolve(c, r, m, size - 1);
	check_resolve(c, r, m, c->probe % size);
	for (uint32_t i = 0; i < r->nextents; i++) {
		const struct ref_ext *e = &r->e[i];

		if (e->start >= size)
			break;
		check_resolve(c, r, m, e->start);
		if (e->start)
			check_resolve(c, r, m, e->start - 1);
		if (e->chunk && e->chunk < size - e->start) {
			check_resolve(c, r, m, e->start + e->chunk - 1);
			check_resolve(c, r, m, e->start + e->chunk);
		}
	}
}

static void check_iters(const struct ctl *c, const struct ref_map *r,
			const struct famrt_fmap *m)
{
	uint64_t size = r->size;
	uint64_t start = size ? c->probe % size : 0;

	check_iter(c, r, m, 0, UINT64_MAX);
	check_iter(c, r, m, start, c->span);
	/* A length inside the file (size - start + 1 wraps only at 2^64). */
	if (size - start + 1)
		check_iter(c, r, m, start, c->span % (size - start + 1));
	check_iter(c, r, m, start, 0);
	check_iter(c, r, m, size, 1);
	check_iter(c, r, m, UINT64_MAX, UINT64_MAX);
}

static void check_accepted(const struct ctl *c, const struct ref_map *r,
			   const struct famrt_fmap *m, const uint8_t *msg,
			   size_t len)
{
	static uint8_t buf[FAMRT_FMAP_MSG_MAX];
	static struct famrt_fmap_desc desc;
	struct famrt_fmap_extent x;
	struct famrt_fmap *m2;
	struct famrt_fmap_error err;
	ssize_t n;

	FUZZ_CHECK(famrt_fmap_file_size(m) == r->size);
	FUZZ_CHECK(famrt_fmap_nextents(m) == r->nextents);
	FUZZ_CHECK((uint32_t)famrt_fmap_ext_type(m) == r->ext_type);
	FUZZ_CHECK((uint8_t)famrt_fmap_file_type(m) == r->file_type);
	FUZZ_CHECK(famrt_fmap_max_devindex(m) == r->max_dev);

	/* encode(decode(m)) == m, byte for byte, and nothing less fits. */
	FUZZ_CHECK(famrt_fmap_encoded_size(m) == len);
	n = famrt_fmap_encode(m, buf, sizeof(buf));
	FUZZ_CHECK(n == (ssize_t)len && memcmp(buf, msg, len) == 0);
	FUZZ_CHECK(famrt_fmap_encode(m, buf, len - 1) == -ENOSPC);

	for (uint32_t i = 0; i < r->nextents; i++) {
		const struct ref_ext *e = &r->e[i];
		uint64_t fb = e->start >= r->size ? 0 :
			      e->held < r->size - e->start ? e->held :
							     r->size - e->start;

		FUZZ_CHECK(famrt_fmap_get_extent(m, i, &x) == 0);
		FUZZ_CHECK(x.nstrips == e->n && x.chunk_size == e->chunk &&
			   x.nbytes == e->nbytes);
		FUZZ_CHECK(x.file_offset == e->start && x.file_bytes == fb);
		for (uint32_t j = 0; j < e->n; j++)
			FUZZ_CHECK(x.strips[j].devindex == e->s[j].dev &&
				   x.strips[j].offset == e->s[j].off &&
				   x.strips[j].len == e->s[j].len);
	}
	FUZZ_CHECK(famrt_fmap_get_extent(m, r->nextents, &x) == -ERANGE);

	/* The plain form makes the same message, and builds the same map. */
	famrt_fmap_to_desc(m, &desc);
	n = famrt_fmap_desc_encode(&desc, buf, sizeof(buf));
	FUZZ_CHECK(n == (ssize_t)len && memcmp(buf, msg, len) == 0);
	FUZZ_CHECK(famrt_fmap_build(&desc, c->limp, &m2, &err) == 0);
	FUZZ_CHECK(err.rule == FAMRT_FMAP_RULE_NONE);
	FUZZ_CHECK(famrt_fmap_encode(m2, buf, sizeof(buf)) == (ssize_t)len &&
		   memcmp(buf, msg, len) == 0);
	famrt_fmap_free(m2);

	check_probes(c, r, m);
	check_iters(c, r, m);
}

/* ---- checks of a refused message ---- */

struct field {
	const char *name;
	unsigned width;
};

static const struct field fields[] = {
	{ "file_type", 1 },   { "reserved", 1 },      { "fmap_version", 2 },
	{ "ext_type", 4 },    { "nextents", 4 },      { "reserved0", 4 },
	{ "file_size", 8 },   { "reserved1", 8 },     { "se_devindex", 4 },
	{ "se_reserved", 4 }, { "se_offset", 8 },     { "se_len", 8 },
	{ "ie_nstrips", 4 },  { "ie_chunk_size", 4 }, { "ie_nbytes", 8 },
	{ "ie_reserved", 8 },
};

static uint64_t field_value(const uint8_t *b, unsigned width)
{
	switch (width) {
	case 1:
		return b[0];
	case 2:
		return get16(b);
	case 4:
		return get32(b);
	default:
		return get64(b);
	}
}

static bool named(const struct famrt_fmap_error *e, const char *name)
{
	return e->field && strcmp(e->field, name) == 0;
}

/* The error names a field whose value breaks the rule it names. */
static void check_error(const struct ctl *c, const uint8_t *msg, size_t len,
			const struct famrt_fmap_error *e, int rc)
{
	const struct field *f = NULL;
	uint64_t v = 0;

	FUZZ_CHECK(e->rule > FAMRT_FMAP_RULE_NONE &&
		   e->rule < FAMRT_FMAP_RULE_COUNT_);
	FUZZ_CHECK(e->message[0] != '\0');
	FUZZ_CHECK(memchr(e->message, '\0', sizeof(e->message)) != NULL);
	FUZZ_CHECK(strcmp(famrt_fmap_rule_name(e->rule), "unknown") != 0);
	FUZZ_CHECK(e->extent >= -1 && e->extent < (int)FAMRT_FMAP_MAX_EXTENTS);
	FUZZ_CHECK(e->strip >= -1 && e->strip < (int)FAMRT_FMAP_MAX_STRIPS);
	switch (e->rule) {
	case FAMRT_FMAP_RULE_NOMEM:
		FUZZ_CHECK(rc == -ENOMEM);
		return;
	case FAMRT_FMAP_RULE_TOO_LARGE:
		FUZZ_CHECK(rc == -E2BIG && len > FAMRT_FMAP_MSG_MAX);
		return;
	case FAMRT_FMAP_RULE_LIMITS:
		FUZZ_CHECK(rc == -EINVAL && !c->limits_ok);
		return;
	case FAMRT_FMAP_RULE_TRUNCATED:
	case FAMRT_FMAP_RULE_TRAILING:
		FUZZ_CHECK(rc == -EINVAL && e->msg_offset <= len);
		return;
	default:
		break;
	}
	FUZZ_CHECK(c->limits_ok);
	FUZZ_CHECK(e->field != NULL);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(fields[i].name, e->field) == 0)
			f = &fields[i];
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(e->msg_offset <= len && len - e->msg_offset >= f->width);
	v = field_value(msg + e->msg_offset, f->width);
	switch (e->rule) {
	case FAMRT_FMAP_RULE_RESERVED:
		FUZZ_CHECK(strstr(e->field, "reserved") != NULL && v != 0);
		break;
	case FAMRT_FMAP_RULE_FILE_TYPE:
		FUZZ_CHECK(named(e, "file_type") && v > 2);
		break;
	case FAMRT_FMAP_RULE_VERSION:
		FUZZ_CHECK(named(e, "fmap_version") && v != 1);
		break;
	case FAMRT_FMAP_RULE_EXT_TYPE:
		FUZZ_CHECK(named(e, "ext_type") && v > 1);
		break;
	case FAMRT_FMAP_RULE_NEXTENTS:
	case FAMRT_FMAP_RULE_NSTRIPS:
		FUZZ_CHECK(named(e, e->rule == FAMRT_FMAP_RULE_NEXTENTS ?
					    "nextents" :
					    "ie_nstrips"));
		FUZZ_CHECK(v == 0 || v > 32);
		FUZZ_CHECK(rc == (v ? -E2BIG : -EINVAL));
		return;
	case FAMRT_FMAP_RULE_ZERO_LENGTH:
		FUZZ_CHECK(named(e, "se_len") && v == 0);
		break;
	case FAMRT_FMAP_RULE_UNALIGNED:
		FUZZ_CHECK(named(e, "se_len") || named(e, "se_offset"));
		FUZZ_CHECK(v & (c->maxalign - 1));
		break;
	case FAMRT_FMAP_RULE_CHUNK_ZERO:
		FUZZ_CHECK(named(e, "ie_chunk_size") && v == 0);
		break;
	case FAMRT_FMAP_RULE_CHUNK_UNALIGNED:
		FUZZ_CHECK(named(e, "ie_chunk_size") && v != 0);
		FUZZ_CHECK(v & (c->maxalign - 1));
		break;
	case FAMRT_FMAP_RULE_NBYTES_ZERO:
		FUZZ_CHECK(named(e, "ie_nbytes") && v == 0);
		break;
	case FAMRT_FMAP_RULE_NBYTES_CAPACITY:
		FUZZ_CHECK(named(e, "ie_nbytes") && v != 0);
		break;
	case FAMRT_FMAP_RULE_DEVINDEX:
		FUZZ_CHECK(named(e, "se_devindex") && c->ndev && v >= c->ndev);
		break;
	case FAMRT_FMAP_RULE_DEVICE_BOUNDS: {
		uint64_t off, end;
		uint32_t dev;

		FUZZ_CHECK(named(e, "se_len") && c->ndev);
		FUZZ_CHECK(e->msg_offset >= 16);
		dev = get32(msg + e->msg_offset - 16);
		off = get64(msg + e->msg_offset - 8);
		FUZZ_CHECK(dev < c->ndev);
		FUZZ_CHECK(__builtin_add_overflow(off, v, &end) ||
			   end > c->dev_size[dev]);
		break;
	}
	case FAMRT_FMAP_RULE_OVERFLOW:
		FUZZ_CHECK(named(e, "se_len") || named(e, "ie_nbytes"));
		FUZZ_CHECK(v != 0);
		break;
	case FAMRT_FMAP_RULE_SHORT:
		FUZZ_CHECK(named(e, "file_size") && e->msg_offset == 16);
		break;
	default:
		FUZZ_CHECK(!"a rule the target does not know");
	}
	FUZZ_CHECK(rc == -EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref_map ref;
	struct famrt_fmap_error err;
	struct famrt_fmap *m = NULL, *m2 = NULL;
	const uint8_t *msg;
	struct ctl c;
	size_t len;
	bool valid;
	int rc, rc2;

	if (size < FMAP_FUZZ_PREFIX)
		return 0;
	read_ctl(data, &c);
	msg = data + FMAP_FUZZ_PREFIX;
	len = size - FMAP_FUZZ_PREFIX;

	memset(&err, 0x5a, sizeof(err));
	m = (struct famrt_fmap *)&err; /* must be set to NULL on failure */
	rc = famrt_fmap_decode(msg, len, c.limp, &m, &err);
	/* The error report is optional and must not change the outcome. */
	rc2 = famrt_fmap_decode(msg, len, c.limp, &m2, NULL);
	FUZZ_CHECK(rc == rc2);
	FUZZ_CHECK((m == NULL) == (m2 == NULL));
	famrt_fmap_free(m2);

	valid = ref_parse(&c, msg, len, &ref);
	if (rc) {
		FUZZ_CHECK(m == NULL);
		FUZZ_CHECK(!valid);
		check_error(&c, msg, len, &err, rc);
		return 0;
	}
	FUZZ_CHECK(m != NULL);
	FUZZ_CHECK(valid);
	FUZZ_CHECK(err.rule == FAMRT_FMAP_RULE_NONE);
	check_accepted(&c, &ref, m, msg, len);

	/* Again with every fast path off: the same answers. */
	famrt_fmap_debug_force_general(m);
	check_probes(&c, &ref, m);
	check_iter(&c, &ref, m, 0, UINT64_MAX);
	check_iter(&c, &ref, m, ref.size ? c.probe % ref.size : 0, c.span);
	famrt_fmap_free(m);
	return 0;
}
