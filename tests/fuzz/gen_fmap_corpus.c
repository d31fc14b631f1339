/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Write the seed corpus of fuzz_fmap: valid messages of every shape and
 * messages that each break one rule, every one behind the 24-byte prefix of
 * fuzz_fmap_input.h. Each file is decoded here with the limits its prefix
 * names, and the program fails unless valid ones pass and invalid ones are
 * refused under the rule their name says.
 *
 *   gen_fmap_corpus DIR      (DIR is tests/fuzz/corpus/fmap)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "fuzz_fmap_input.h"

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* What the prefix says. Sizes are in units of 32 MiB (0xff: unlimited). */
struct pre {
	unsigned align; /* FMAP_FUZZ_A* */
	unsigned ndev;
	uint8_t size[FMAP_FUZZ_MAX_DEV];
	bool per_dev;
	uint8_t dev_align; /* 2 bits a device */
	bool null_limits;
	bool short_limits;
	bool tiny_limits;
	bool no_dev_size;
	bool bad_dev_align0;
	uint64_t probe;
	uint64_t span;
};

static const char *outdir;
static struct famrt_fmap_desc d;
static uint8_t msg[FAMRT_FMAP_MSG_MAX + 64];
static size_t msg_len;
static int failures;

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void put_le(uint8_t *b, unsigned width, uint64_t v)
{
	for (unsigned i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void reset(uint8_t ext_type, uint64_t size)
{
	memset(&d, 0, sizeof(d));
	d.ext_type = ext_type;
	d.file_size = size;
}

static void add_simple(uint32_t dev, uint64_t off, uint64_t len)
{
	struct famrt_fmap_extent *e = &d.extents[d.nextents++];

	e->nstrips = 1;
	e->strips[0].devindex = dev;
	e->strips[0].offset = off;
	e->strips[0].len = len;
}

static struct famrt_fmap_extent *add_iext(uint32_t n, uint32_t chunk,
					  uint64_t nbytes)
{
	struct famrt_fmap_extent *e = &d.extents[d.nextents++];

	e->nstrips = n;
	e->chunk_size = chunk;
	e->nbytes = nbytes;
	return e;
}

/* Strips j = 0..n-1 of e on device j % ndev, each len long, packed. */
static void strips_rr(struct famrt_fmap_extent *e, unsigned ndev,
		      uint64_t len, uint64_t *next_off)
{
	for (uint32_t j = 0; j < e->nstrips; j++) {
		uint32_t dev = j % ndev;

		e->strips[j].devindex = dev;
		e->strips[j].offset = next_off[dev];
		e->strips[j].len = len;
		next_off[dev] += len;
	}
}

static void encode(void)
{
	ssize_t n = famrt_fmap_desc_encode(&d, msg, sizeof(msg));

	if (n < 0) {
		fprintf(stderr, "gen: desc_encode: %zd\n", n);
		exit(1);
	}
	msg_len = (size_t)n;
}

static void write_prefix(const struct pre *p, uint8_t *b)
{
	memset(b, 0, FMAP_FUZZ_PREFIX);
	b[0] = (uint8_t)(p->align | (p->ndev << FMAP_FUZZ_NDEV_SHIFT) |
			 (p->per_dev ? FMAP_FUZZ_DEV_ALIGN : 0) |
			 (p->null_limits ? FMAP_FUZZ_NULL_LIMITS : 0));
	b[1] = (uint8_t)((p->short_limits ? FMAP_FUZZ_SHORT_LIMITS : 0) |
			 (p->tiny_limits ? FMAP_FUZZ_TINY_LIMITS : 0) |
			 (p->no_dev_size ? FMAP_FUZZ_NO_DEV_SIZE : 0));
	memcpy(b + 2, p->size, FMAP_FUZZ_MAX_DEV);
	b[6] = p->dev_align;
	b[7] = p->bad_dev_align0 ? FMAP_FUZZ_BAD_DEV_ALIGN : 0;
	put64(b + 8, p->probe);
	put64(b + 16, p->span);
}

/* Decode msg the way fuzz_fmap will and say which rule it broke. */
static enum famrt_fmap_rule judge(const struct pre *p)
{
	uint64_t size[FMAP_FUZZ_MAX_DEV], align[FMAP_FUZZ_MAX_DEV];
	struct famrt_fmap_limits lim = { .size = sizeof(lim) };
	struct famrt_fmap_error err;
	struct famrt_fmap *m;

	for (unsigned i = 0; i < FMAP_FUZZ_MAX_DEV; i++) {
		size[i] = fmap_fuzz_dev_size(p->size[i]);
		align[i] = fmap_fuzz_dev_align[(p->dev_align >> (2 * i)) & 3];
	}
	if (p->bad_dev_align0)
		align[0] = 12288;
	lim.align = fmap_fuzz_align[p->align];
	lim.ndevices = p->ndev;
	lim.dev_size = p->ndev && !p->no_dev_size ? size : NULL;
	lim.dev_align = p->per_dev ? align : NULL;
	if (p->short_limits)
		lim.size = offsetof(struct famrt_fmap_limits, align) +
			   sizeof(lim.align);
	if (p->tiny_limits)
		lim.size = 4;
	if (famrt_fmap_decode(msg, msg_len, p->null_limits ? NULL : &lim, &m,
			      &err) == 0) {
		famrt_fmap_free(m);
		return FAMRT_FMAP_RULE_NONE;
	}
	return err.rule;
}

static void emit(const char *name, const struct pre *p,
		 enum famrt_fmap_rule want)
{
	uint8_t head[FMAP_FUZZ_PREFIX];
	enum famrt_fmap_rule got = judge(p);
	char path[4096];
	int fd;

	if (got != want) {
		fprintf(stderr, "gen: %s: decode says rule %s, expected %s\n",
			name, famrt_fmap_rule_name(got),
			famrt_fmap_rule_name(want));
		failures++;
	}
	write_prefix(p, head);
	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    write(fd, msg, msg_len) != (ssize_t)msg_len || close(fd) < 0) {
		fprintf(stderr, "gen: cannot write %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	printf("%-40s %6zu bytes  %s\n", name, msg_len + sizeof(head),
	       famrt_fmap_rule_name(got));
}

/* Overwrite width bytes at off in the encoded message, then emit. */
static void emit_patch(const char *name, const struct pre *p, size_t off,
		       unsigned width, uint64_t v, enum famrt_fmap_rule want)
{
	uint8_t save[8];

	memcpy(save, msg + off, width);
	put_le(msg + off, width, v);
	emit(name, p, want);
	memcpy(msg + off, save, width);
}

static const struct pre one_2m = {
	.align = FMAP_FUZZ_A2M, .ndev = 1, .size = { 2 },
	.probe = 3 * MiB + 17, .span = 1 * MiB,
};

static void valid_simple(void)
{
	struct pre p = one_2m;
	uint64_t total = 0;

	reset(FAMRT_FMAP_EXT_SIMPLE, 2 * MiB);
	add_simple(0, 0, 2 * MiB);
	encode();
	emit("valid-simple-1", &p, FAMRT_FMAP_RULE_NONE);

	/* A file size that ends inside the extent. */
	reset(FAMRT_FMAP_EXT_SIMPLE, 3 * MiB + 5);
	add_simple(0, 16 * MiB, 4 * MiB);
	encode();
	emit("valid-simple-1-clipped", &p, FAMRT_FMAP_RULE_NONE);

	reset(FAMRT_FMAP_EXT_SIMPLE, 0);
	add_simple(0, 0, 2 * MiB);
	encode();
	emit("valid-simple-empty-file", &p, FAMRT_FMAP_RULE_NONE);

	/* 32 extents of different lengths on 4 devices, 4 KiB alignment. */
	p = (struct pre){ .align = FMAP_FUZZ_A4K, .ndev = 4,
			  .size = { 1, 1, 1, 1 }, .probe = 1234567,
			  .span = 300 * KiB };
	reset(FAMRT_FMAP_EXT_SIMPLE, 0);
	for (uint32_t i = 0; i < 32; i++) {
		uint64_t len = (i % 7 + 1) * 4 * KiB + i * 8 * KiB;

		add_simple(i % 4, (i / 4) * 1 * MiB, len);
		total += len;
	}
	d.file_size = total - 1234;
	encode();
	emit("valid-simple-32-varied", &p, FAMRT_FMAP_RULE_NONE);

	/* 32 equal power-of-two extents (the shift path), clipped size. */
	p = (struct pre){ .align = FMAP_FUZZ_A2M, .ndev = 2,
			  .size = { 2, 2 }, .probe = 45 * MiB + 4095,
			  .span = 7 * MiB };
	reset(FAMRT_FMAP_EXT_SIMPLE, 64 * MiB - 4096);
	for (uint32_t i = 0; i < 32; i++)
		add_simple(i % 2, (31 - i) / 2 * 2 * MiB, 2 * MiB);
	encode();
	emit("valid-simple-32-equal", &p, FAMRT_FMAP_RULE_NONE);

	/* Extents contiguous on the device: the iterator merges them. */
	p = one_2m;
	reset(FAMRT_FMAP_EXT_SIMPLE, 8 * MiB);
	add_simple(0, 2 * MiB, 2 * MiB);
	add_simple(0, 4 * MiB, 4 * MiB);
	add_simple(0, 8 * MiB, 2 * MiB);
	encode();
	emit("valid-simple-contiguous", &p, FAMRT_FMAP_RULE_NONE);

	/* No limits: device indexes the seed's 32-bit shift gets wrong. */
	p = (struct pre){ .null_limits = true, .probe = 5 * MiB };
	reset(FAMRT_FMAP_EXT_SIMPLE, 6 * MiB);
	add_simple(31, 0, 2 * MiB);
	add_simple(0xffffffffu, 1ull << 40, 4 * MiB);
	encode();
	emit("valid-simple-nolimits-devindex", &p, FAMRT_FMAP_RULE_NONE);

	/* 1 GiB alignment, superblock and log file types. */
	p = (struct pre){ .align = FMAP_FUZZ_A1G, .ndev = 1, .size = { 96 },
			  .probe = GiB - 1 };
	reset(FAMRT_FMAP_EXT_SIMPLE, 2 * GiB);
	d.file_type = FAMRT_FMAP_FILE_SUPERBLOCK;
	add_simple(0, GiB, GiB);
	add_simple(0, 0, GiB);
	encode();
	emit("valid-simple-1g-superblock", &p, FAMRT_FMAP_RULE_NONE);

	p = one_2m;
	p.align = FMAP_FUZZ_ADEFAULT;
	reset(FAMRT_FMAP_EXT_SIMPLE, 2 * MiB);
	d.file_type = FAMRT_FMAP_FILE_LOG;
	add_simple(0, 2 * MiB, 2 * MiB);
	encode();
	emit("valid-simple-log-default-align", &p, FAMRT_FMAP_RULE_NONE);

	/* An old caller whose limits end at .align: no device checks. */
	p = one_2m;
	p.short_limits = true;
	reset(FAMRT_FMAP_EXT_SIMPLE, 2 * MiB);
	add_simple(9, 1ull << 50, 2 * MiB);
	encode();
	emit("valid-simple-short-limits", &p, FAMRT_FMAP_RULE_NONE);
}

static void valid_interleaved(void)
{
	uint64_t next[FMAP_FUZZ_MAX_DEV] = { 0 };
	struct famrt_fmap_extent *e;
	struct pre p = one_2m;

	reset(FAMRT_FMAP_EXT_INTERLEAVE, 2 * MiB);
	e = add_iext(1, 2 * MiB, 2 * MiB);
	strips_rr(e, 1, 2 * MiB, next);
	encode();
	emit("valid-ilv-1x1", &p, FAMRT_FMAP_RULE_NONE);

	/* The worked example: N 4, C 2 MiB, l 15 MiB. */
	p = (struct pre){ .align = FMAP_FUZZ_A2M, .ndev = 4,
			  .size = { 1, 1, 1, 1 }, .probe = 15 * MiB,
			  .span = 9 * MiB };
	memset(next, 0, sizeof(next));
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 32 * MiB);
	e = add_iext(4, 2 * MiB, 32 * MiB);
	strips_rr(e, 4, 8 * MiB, next);
	encode();
	emit("valid-ilv-4x2m-example", &p, FAMRT_FMAP_RULE_NONE);

	/* 32 x 32, 4 KiB chunks, 4 devices: the largest message. */
	p = (struct pre){ .align = FMAP_FUZZ_A4K, .ndev = 4,
			  .size = { 1, 1, 1, 1 }, .probe = 12345678,
			  .span = 100 * KiB };
	memset(next, 0, sizeof(next));
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 0);
	for (uint32_t i = 0; i < 32; i++) {
		e = add_iext(32, 4 * KiB, 32 * 64 * KiB);
		strips_rr(e, 4, 64 * KiB, next);
		d.file_size += e->nbytes;
	}
	encode();
	emit("valid-ilv-32x32", &p, FAMRT_FMAP_RULE_NONE);

	/* 24 strips (division path), nbytes not whole stripes, clipped. */
	p.probe = 777777;
	memset(next, 0, sizeof(next));
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 0);
	for (uint32_t i = 0; i < 3; i++) {
		e = add_iext(24, 8 * KiB, 24 * 32 * KiB - (i + 1) * 4 * KiB);
		strips_rr(e, 3, 32 * KiB, next);
		d.file_size += e->nbytes;
	}
	d.file_size -= 5000;
	encode();
	emit("valid-ilv-24-strips", &p, FAMRT_FMAP_RULE_NONE);

	/*
	 * Unequal extents, a chunk of 12 KiB (not a power of two), strips of
	 * unequal lengths, and a file that ends in the second extent so the
	 * third holds nothing.
	 */
	p = (struct pre){ .align = FMAP_FUZZ_A4K, .ndev = 2,
			  .size = { 1, 1 }, .probe = 200 * KiB, .span = ~0ull };
	memset(next, 0, sizeof(next));
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 0);
	e = add_iext(2, 12 * KiB, 96 * KiB);
	strips_rr(e, 2, 48 * KiB, next);
	e->strips[1].len = 60 * KiB;
	next[1] += 12 * KiB;
	e = add_iext(3, 8 * KiB, 40 * KiB);
	strips_rr(e, 2, 16 * KiB, next);
	e = add_iext(1, 4 * KiB, 4 * KiB);
	strips_rr(e, 2, 4 * KiB, next);
	d.file_size = 96 * KiB + 20 * KiB + 100;
	encode();
	emit("valid-ilv-unequal-clipped", &p, FAMRT_FMAP_RULE_NONE);

	/* One strip per extent, extents end to end: runs merge. */
	p = one_2m;
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 12 * MiB);
	for (uint32_t i = 0; i < 3; i++) {
		e = add_iext(1, 2 * MiB, 4 * MiB);
		e->strips[0].offset = 4 * MiB * i;
		e->strips[0].len = 4 * MiB;
	}
	encode();
	emit("valid-ilv-contiguous", &p, FAMRT_FMAP_RULE_NONE);

	/* Per-device alignment: device 1 is 2 MiB, device 0 4 KiB. */
	p = (struct pre){ .align = FMAP_FUZZ_A4K, .ndev = 2,
			  .size = { 1, 1 }, .per_dev = true,
			  .dev_align = 0x4, .probe = 5 * MiB };
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 8 * MiB);
	e = add_iext(2, 2 * MiB, 8 * MiB);
	e->strips[0] = (struct famrt_fmap_strip){ 0, 4 * KiB, 4 * MiB };
	e->strips[1] = (struct famrt_fmap_strip){ 1, 2 * MiB, 4 * MiB };
	encode();
	emit("valid-ilv-per-device-align", &p, FAMRT_FMAP_RULE_NONE);
}

static void invalid(void)
{
	uint64_t next[FMAP_FUZZ_MAX_DEV] = { 0 };
	struct famrt_fmap_extent *e;
	struct pre p = one_2m;
	size_t s0 = FAMRT_FMAP_HEADER_SIZE; /* first extent */
	size_t s1 = s0 + FAMRT_FMAP_IEXT_SIZE; /* its first strip */

	/* Simple base: two extents on one 64 MiB device. */
	reset(FAMRT_FMAP_EXT_SIMPLE, 4 * MiB);
	add_simple(0, 0, 2 * MiB);
	add_simple(0, 4 * MiB, 2 * MiB);
	encode();

	p.align = FMAP_FUZZ_ABAD12K;
	emit("invalid-limits-align-12k", &p, FAMRT_FMAP_RULE_LIMITS);
	p.align = FMAP_FUZZ_ABADODD;
	emit("invalid-limits-align-odd", &p, FAMRT_FMAP_RULE_LIMITS);
	p = one_2m;
	p.tiny_limits = true;
	emit("invalid-limits-size-tiny", &p, FAMRT_FMAP_RULE_LIMITS);
	p = one_2m;
	p.no_dev_size = true;
	emit("invalid-limits-no-dev-size", &p, FAMRT_FMAP_RULE_LIMITS);
	p = one_2m;
	p.per_dev = true;
	p.bad_dev_align0 = true;
	emit("invalid-limits-dev-align-12k", &p, FAMRT_FMAP_RULE_LIMITS);
	p = one_2m;

	emit_patch("invalid-file-type", &p, 0, 1, 3,
		   FAMRT_FMAP_RULE_FILE_TYPE);
	emit_patch("invalid-hdr-reserved", &p, 1, 1, 1,
		   FAMRT_FMAP_RULE_RESERVED);
	emit_patch("invalid-version", &p, 2, 2, 2, FAMRT_FMAP_RULE_VERSION);
	emit_patch("invalid-ext-type", &p, 4, 4, 2, FAMRT_FMAP_RULE_EXT_TYPE);
	emit_patch("invalid-nextents-0", &p, 8, 4, 0,
		   FAMRT_FMAP_RULE_NEXTENTS);
	emit_patch("invalid-nextents-33", &p, 8, 4, 33,
		   FAMRT_FMAP_RULE_NEXTENTS);
	emit_patch("invalid-reserved0", &p, 12, 4, 1,
		   FAMRT_FMAP_RULE_RESERVED);
	emit_patch("invalid-reserved1", &p, 24, 8, 1ull << 63,
		   FAMRT_FMAP_RULE_RESERVED);
	emit_patch("invalid-short", &p, 16, 8, 4 * MiB + 1,
		   FAMRT_FMAP_RULE_SHORT);
	emit_patch("invalid-se-reserved", &p, s0 + 24 + 4, 4, 1,
		   FAMRT_FMAP_RULE_RESERVED);
	emit_patch("invalid-se-len-zero", &p, s0 + 24 + 16, 8, 0,
		   FAMRT_FMAP_RULE_ZERO_LENGTH);
	emit_patch("invalid-se-offset-unaligned", &p, s0 + 24 + 8, 8,
		   4 * MiB + 4096, FAMRT_FMAP_RULE_UNALIGNED);
	emit_patch("invalid-se-len-unaligned", &p, s0 + 16, 8, 3 * MiB,
		   FAMRT_FMAP_RULE_UNALIGNED);
	emit_patch("invalid-devindex-1", &p, s0 + 24, 4, 1,
		   FAMRT_FMAP_RULE_DEVINDEX);
	emit_patch("invalid-devindex-31", &p, s0, 4, 31,
		   FAMRT_FMAP_RULE_DEVINDEX);
	emit_patch("invalid-device-bounds", &p, s0 + 24 + 8, 8, 64 * MiB,
		   FAMRT_FMAP_RULE_DEVICE_BOUNDS);
	emit_patch("invalid-device-bounds-wrap", &p, s0 + 24 + 8, 8,
		   0ull - 2 * MiB, FAMRT_FMAP_RULE_DEVICE_BOUNDS);

	msg_len = FAMRT_FMAP_HEADER_SIZE;
	emit("invalid-truncated-header-only", &p, FAMRT_FMAP_RULE_TRUNCATED);
	msg_len = 20;
	emit("invalid-truncated-in-header", &p, FAMRT_FMAP_RULE_TRUNCATED);
	msg_len = s0 + 24 + 10;
	emit("invalid-truncated-in-extent", &p, FAMRT_FMAP_RULE_TRUNCATED);
	encode();
	msg[msg_len++] = 0;
	emit("invalid-trailing-byte", &p, FAMRT_FMAP_RULE_TRAILING);
	encode();

	/* No limits: lengths that add up past 2^64. */
	p = (struct pre){ .null_limits = true };
	reset(FAMRT_FMAP_EXT_SIMPLE, 4 * MiB);
	add_simple(0, 0, 1ull << 63);
	add_simple(1, 0, 1ull << 63);
	encode();
	emit("invalid-overflow-simple", &p, FAMRT_FMAP_RULE_OVERFLOW);

	reset(FAMRT_FMAP_EXT_INTERLEAVE, 4 * MiB);
	for (uint32_t i = 0; i < 2; i++) {
		e = add_iext(2, 2 * MiB, 1ull << 63);
		e->strips[0] = (struct famrt_fmap_strip){ 0, 0, 1ull << 62 };
		e->strips[1] = (struct famrt_fmap_strip){ 1, 0, 1ull << 62 };
	}
	encode();
	emit("invalid-overflow-ilv", &p, FAMRT_FMAP_RULE_OVERFLOW);

	/*
	 * Found by fuzz_fmap: with no device sizes, an extent that ends past
	 * 2^64 was accepted, and the iterator merged it with the extent at
	 * the device offset its end wrapped around to.
	 */
	p = (struct pre){ .align = FMAP_FUZZ_A4K };
	reset(FAMRT_FMAP_EXT_SIMPLE, 6 * MiB);
	add_simple(0, 0ull - 2 * MiB, 4 * MiB);
	add_simple(0, 2 * MiB, 2 * MiB);
	encode();
	emit("invalid-overflow-offset-wrap", &p, FAMRT_FMAP_RULE_OVERFLOW);

	/* Interleaved base: 2 strips of 4 MiB on two devices. */
	p = (struct pre){ .align = FMAP_FUZZ_A2M, .ndev = 2,
			  .size = { 2, 2 }, .probe = 1 };
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 8 * MiB);
	e = add_iext(2, 2 * MiB, 8 * MiB);
	strips_rr(e, 2, 4 * MiB, next);
	encode();
	emit_patch("invalid-nstrips-0", &p, s0, 4, 0, FAMRT_FMAP_RULE_NSTRIPS);
	emit_patch("invalid-nstrips-33", &p, s0, 4, 33,
		   FAMRT_FMAP_RULE_NSTRIPS);
	emit_patch("invalid-chunk-zero", &p, s0 + 4, 4, 0,
		   FAMRT_FMAP_RULE_CHUNK_ZERO);
	emit_patch("invalid-chunk-unaligned", &p, s0 + 4, 4, 3 * MiB / 2,
		   FAMRT_FMAP_RULE_CHUNK_UNALIGNED);
	emit_patch("invalid-nbytes-zero", &p, s0 + 8, 8, 0,
		   FAMRT_FMAP_RULE_NBYTES_ZERO);
	emit_patch("invalid-nbytes-capacity", &p, s0 + 8, 8, 8 * MiB + 1,
		   FAMRT_FMAP_RULE_NBYTES_CAPACITY);
	emit_patch("invalid-ie-reserved", &p, s0 + 16, 8, 1,
		   FAMRT_FMAP_RULE_RESERVED);
	emit_patch("invalid-strip-devindex", &p, s1 + 24, 4, 2,
		   FAMRT_FMAP_RULE_DEVINDEX);
	emit_patch("invalid-strip-bounds", &p, s1 + 24 + 8, 8, 62 * MiB,
		   FAMRT_FMAP_RULE_DEVICE_BOUNDS);
	msg_len = s1 + 24 + 12;
	emit("invalid-truncated-strip-list", &p, FAMRT_FMAP_RULE_TRUNCATED);
	encode();

	/* Chunk aligned to 2 MiB but not to device 1's 1 GiB. */
	p.per_dev = true;
	p.dev_align = 0x9; /* device 0: 2 MiB, device 1: 1 GiB */
	p.size[1] = 64;
	reset(FAMRT_FMAP_EXT_INTERLEAVE, 4 * MiB);
	e = add_iext(2, 2 * MiB, 4 * MiB);
	e->strips[0] = (struct famrt_fmap_strip){ 0, 0, 2 * MiB };
	e->strips[1] = (struct famrt_fmap_strip){ 1, 0, GiB };
	encode();
	emit("invalid-chunk-unaligned-device", &p,
	     FAMRT_FMAP_RULE_CHUNK_UNALIGNED);

	/* Over the largest message. */
	p = one_2m;
	reset(FAMRT_FMAP_EXT_SIMPLE, 2 * MiB);
	add_simple(0, 0, 2 * MiB);
	encode();
	memset(msg + msg_len, 0, FAMRT_FMAP_MSG_MAX + 1 - msg_len);
	msg_len = FAMRT_FMAP_MSG_MAX + 1;
	emit("invalid-too-large", &p, FAMRT_FMAP_RULE_TOO_LARGE);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_fmap_corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	valid_simple();
	valid_interleaved();
	invalid();
	if (failures) {
		fprintf(stderr, "gen: %d files are not what they claim\n",
			failures);
		return 1;
	}
	return 0;
}
