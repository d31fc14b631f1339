/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmap validation, rule by rule (docs/fmap-wire-format.md, "Validation"):
 * for every rule, a message that breaks that rule alone is refused with the
 * documented return code and an error naming the rule, field, extent, strip
 * and message offset, and the boundary case next to it is accepted. Also
 * the codec and accessor API: build, desc_encode, encode, to_desc,
 * get_extent, resolve and the iterator at their edges, allocation failure,
 * rule names.
 *
 * Messages are made with famrt_fmap_desc_encode() and, for fields a desc
 * cannot express, patched at the documented wire offsets with this test's
 * own little-endian helpers. Every message handed to the decoder is copied
 * into a heap buffer of exactly its length, so that AddressSanitizer sees
 * any read past its end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "fmap_test.h"

/* ---- allocation fault injection (the test links with --wrap) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);

static bool fi_armed;
static unsigned fi_calls;
static unsigned fi_fail_at;

static bool fi_hit(void)
{
	if (!fi_armed)
		return false;
	return ++fi_calls == fi_fail_at;
}

void *__wrap_malloc(size_t n)
{
	return fi_hit() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fi_hit() ? NULL : __real_calloc(n, size);
}

static void fi_arm(unsigned fail_at)
{
	fi_calls = 0;
	fi_fail_at = fail_at;
	fi_armed = true;
}

static void fi_disarm(void)
{
	fi_armed = false;
}

/* ---- messages ---- */

static struct famrt_fmap_desc D;
static uint8_t M[FAMRT_FMAP_MSG_MAX + 4096];
static size_t ML;
static char sentinel_;
#define SENTINEL ((struct famrt_fmap *)&sentinel_)

static void enc(void)
{
	ssize_t n = famrt_fmap_desc_encode(&D, M, sizeof(M));

	assert_true(n > 0);
	ML = (size_t)n;
	EQ(ML, w_size(&D), "encoded length");
}

static void patch(size_t pos, uint64_t v, unsigned nbytes)
{
	assert_true(pos + nbytes <= sizeof(M));
	le_put(M + pos, v, nbytes);
}

static void *exact_copy(const void *msg, size_t len)
{
	void *p = malloc(len);

	assert_non_null(p);
	if (len)
		memcpy(p, msg, len);
	return p;
}

/*
 * Three simple extents on devices 0, 1, 2 (2 MiB aligned), 8 MiB, all
 * held by the file.
 */
static void fix_simple(void)
{
	memset(&D, 0, sizeof(D));
	D.file_type = FAMRT_FMAP_FILE_REG;
	D.ext_type = FAMRT_FMAP_EXT_SIMPLE;
	D.nextents = 3;
	desc_simple(&D, 0, 0, 0, 2 * MiB);
	desc_simple(&D, 1, 1, 4 * MiB, 4 * MiB);
	desc_simple(&D, 2, 2, 2 * MiB, 2 * MiB);
	D.file_size = 8 * MiB;
	enc();
}

/* Three interleaved extents: 2 x 2 MiB, 3 x 4 MiB, 1 x 2 MiB; 34 MiB. */
static void fix_ilv(void)
{
	memset(&D, 0, sizeof(D));
	D.file_type = FAMRT_FMAP_FILE_REG;
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 3;
	desc_iext(&D, 0, 2, 2 * MiB, 8 * MiB);
	desc_strip(&D, 0, 0, 0, 0, 4 * MiB);
	desc_strip(&D, 0, 1, 1, 0, 4 * MiB);
	desc_iext(&D, 1, 3, 4 * MiB, 24 * MiB);
	desc_strip(&D, 1, 0, 2, 0, 8 * MiB);
	desc_strip(&D, 1, 1, 3, 8 * MiB, 8 * MiB);
	desc_strip(&D, 1, 2, 0, 4 * MiB, 8 * MiB);
	desc_iext(&D, 2, 1, 2 * MiB, 2 * MiB);
	desc_strip(&D, 2, 0, 1, 4 * MiB, 2 * MiB);
	D.file_size = 34 * MiB;
	enc();
}

/* Four devices of 64 MiB, 2 MiB alignment. */
static uint64_t dev4[4];
static struct famrt_fmap_limits lim4;

static void lim4_reset(void)
{
	for (int i = 0; i < 4; i++)
		dev4[i] = 64 * MiB;
	memset(&lim4, 0, sizeof(lim4));
	lim4.size = sizeof(lim4);
	lim4.ndevices = 4;
	lim4.dev_size = dev4;
}

static int setup(void **state)
{
	(void)state;
	lim4_reset();
	fi_disarm();
	return 0;
}

/* "extent 12" (or "strip 12") in s, not followed by another digit. */
static bool has_index(const char *s, const char *word, int idx)
{
	char pat[48];
	size_t n;

	n = (size_t)snprintf(pat, sizeof(pat), "%s %d", word, idx);
	for (const char *p = strstr(s, pat); p; p = strstr(p + 1, pat))
		if (p[n] < '0' || p[n] > '9')
			return true;
	return false;
}

#define refused(msg, len, lim, rc, rule, field, ext, strip, off)            \
	refused_at(msg, len, lim, rc, rule, field, ext, strip, off, __FILE__, \
		   __LINE__)

static void refused_at(const void *msg, size_t len,
		       const struct famrt_fmap_limits *lim, int rc,
		       enum famrt_fmap_rule rule, const char *field,
		       int32_t ext, int32_t strip, uint64_t off,
		       const char *file, int line)
{
	struct famrt_fmap_error err;
	struct famrt_fmap *map = SENTINEL, *map2 = SENTINEL;
	void *copy = exact_copy(msg, len);
	int got, got2;

	memset(&err, 0x5a, sizeof(err));
	got = famrt_fmap_decode(copy, len, lim, &map, &err);
	/* The same without an error report. */
	got2 = famrt_fmap_decode(copy, len, lim, &map2, NULL);
	free(copy);
	if (got == 0 && map != SENTINEL)
		famrt_fmap_free(map);
	if (got2 == 0 && map2 != SENTINEL)
		famrt_fmap_free(map2);
	if (got == 0)
		print_error("accepted a message that breaks rule %s\n",
			    famrt_fmap_rule_name(rule));
	eq_at((uint64_t)got, (uint64_t)rc, file, line, "return code");
	eq_at((uint64_t)got2, (uint64_t)rc, file, line,
	      "return code with err NULL");
	if (map != NULL || map2 != NULL) {
		print_error("*out is not NULL after a refusal\n");
		_fail(file, line);
	}
	if (err.rule != rule)
		print_error("rule %s (%s), expected %s\n",
			    famrt_fmap_rule_name(err.rule), err.message,
			    famrt_fmap_rule_name(rule));
	eq_at(err.rule, rule, file, line, "err.rule");
	if (field == NULL ? err.field != NULL :
			    (err.field == NULL || strcmp(field, err.field))) {
		print_error("err.field \"%s\", expected \"%s\" (%s)\n",
			    err.field ? err.field : "(null)",
			    field ? field : "(null)", err.message);
		_fail(file, line);
	}
	eq_at((uint64_t)(int64_t)err.extent, (uint64_t)(int64_t)ext, file,
	      line, "err.extent (%s)", err.message);
	eq_at((uint64_t)(int64_t)err.strip, (uint64_t)(int64_t)strip, file,
	      line, "err.strip (%s)", err.message);
	eq_at(err.msg_offset, off, file, line, "err.msg_offset (%s)",
	      err.message);
	if (!memchr(err.message, '\0', sizeof(err.message)) ||
	    !strstr(err.message, famrt_fmap_rule_name(rule)) ||
	    (ext >= 0 && !has_index(err.message, "extent", ext)) ||
	    (strip >= 0 && !has_index(err.message, "strip", strip))) {
		print_error("err.message \"%.*s\" does not name rule %s, "
			    "extent %d, strip %d\n",
			    (int)sizeof(err.message), err.message,
			    famrt_fmap_rule_name(rule), ext, strip);
		_fail(file, line);
	}
}

/* Refusal of the current message M[0..ML). */
#define refused_m(lim, rc, rule, field, ext, strip, off) \
	refused(M, ML, lim, rc, rule, field, ext, strip, off)

#define accepted(msg, len, lim) accepted_at(msg, len, lim, __FILE__, __LINE__)
#define accepted_m(lim) famrt_fmap_free(accepted(M, ML, lim))

/* Decode must succeed, clear err, and encode back to the same bytes. */
static struct famrt_fmap *accepted_at(const void *msg, size_t len,
				      const struct famrt_fmap_limits *lim,
				      const char *file, int line)
{
	struct famrt_fmap_error err;
	struct famrt_fmap *map = SENTINEL;
	void *copy = exact_copy(msg, len);
	uint8_t *back;
	int rc;

	memset(&err, 0x5a, sizeof(err));
	rc = famrt_fmap_decode(copy, len, lim, &map, &err);
	free(copy);
	if (rc) {
		print_error("refused a valid message: %s\n", err.message);
		_fail(file, line);
	}
	if (map == NULL || map == SENTINEL)
		_fail(file, line);
	eq_at(err.rule, FAMRT_FMAP_RULE_NONE, file, line, "err.rule");
	eq_at((uint64_t)(int64_t)err.extent, (uint64_t)-1, file, line,
	      "err.extent");
	eq_at((uint64_t)(int64_t)err.strip, (uint64_t)-1, file, line,
	      "err.strip");
	if (err.field != NULL)
		_fail(file, line);
	eq_at(famrt_fmap_encoded_size(map), len, file, line, "encoded size");
	back = malloc(len);
	assert_non_null(back);
	eq_at((uint64_t)famrt_fmap_encode(map, back, len), len, file, line,
	      "encode");
	if (memcmp(back, msg, len)) {
		free(back);
		print_error("encode(decode(m)) != m\n");
		_fail(file, line);
	}
	free(back);
	return map;
}

/* ---- the fixtures and the wire layout ---- */

static void test_fixtures_valid(void **state)
{
	struct famrt_fmap *m;

	(void)state;
	fix_simple();
	EQ(ML, 32 + 3 * 24, "simple message size");
	accepted_m(NULL);
	accepted_m(&lim4);
	fix_ilv();
	EQ(ML, 32 + 3 * 24 + 6 * 24, "interleaved message size");
	accepted_m(NULL);
	m = accepted(M, ML, &lim4);
	EQ(famrt_fmap_file_size(m), 34 * MiB, "file_size");
	EQ(famrt_fmap_nextents(m), 3, "nextents");
	EQ(famrt_fmap_ext_type(m), FAMRT_FMAP_EXT_INTERLEAVE, "ext_type");
	EQ(famrt_fmap_file_type(m), FAMRT_FMAP_FILE_REG, "file_type");
	EQ(famrt_fmap_max_devindex(m), 3, "max devindex");
	famrt_fmap_free(m);
}

/* desc_encode writes the documented layout, field by field. */
static void test_wire_layout(void **state)
{
	(void)state;
	fix_ilv();
	D.file_type = FAMRT_FMAP_FILE_LOG;
	enc();
	EQ(M[H_FILE_TYPE], 2, "file_type");
	EQ(M[H_RESERVED], 0, "reserved");
	EQ(le_get(M + H_VERSION, 2), 1, "fmap_version");
	EQ(le_get(M + H_EXT_TYPE, 4), 1, "ext_type");
	EQ(le_get(M + H_NEXTENTS, 4), 3, "nextents");
	EQ(le_get(M + H_RESERVED0, 4), 0, "reserved0");
	EQ(le_get(M + H_FILE_SIZE, 8), 34 * MiB, "file_size");
	EQ(le_get(M + H_RESERVED1, 8), 0, "reserved1");
	for (uint32_t i = 0; i < 3; i++) {
		const struct famrt_fmap_extent *e = &D.extents[i];
		const uint8_t *b = M + w_ext_pos(&D, i);

		EQ(le_get(b + I_NSTRIPS, 4), e->nstrips, "ext %u nstrips", i);
		EQ(le_get(b + I_CHUNK, 4), e->chunk_size, "ext %u chunk", i);
		EQ(le_get(b + I_NBYTES, 8), e->nbytes, "ext %u nbytes", i);
		EQ(le_get(b + I_RESERVED, 8), 0, "ext %u reserved", i);
		for (uint32_t j = 0; j < e->nstrips; j++) {
			const uint8_t *s = M + w_se_pos(&D, i, j);

			EQ(le_get(s + S_DEVINDEX, 4), e->strips[j].devindex,
			   "strip %u.%u dev", i, j);
			EQ(le_get(s + S_RESERVED, 4), 0, "strip reserved");
			EQ(le_get(s + S_OFFSET, 8), e->strips[j].offset,
			   "strip %u.%u offset", i, j);
			EQ(le_get(s + S_LEN, 8), e->strips[j].len,
			   "strip %u.%u len", i, j);
		}
	}
	fix_simple();
	for (uint32_t i = 0; i < 3; i++) {
		const uint8_t *s = M + 32 + 24 * i;

		EQ(le_get(s + S_DEVINDEX, 4), D.extents[i].strips[0].devindex,
		   "se %u dev", i);
		EQ(le_get(s + S_RESERVED, 4), 0, "se reserved");
		EQ(le_get(s + S_OFFSET, 8), D.extents[i].strips[0].offset,
		   "se %u offset", i);
		EQ(le_get(s + S_LEN, 8), D.extents[i].strips[0].len,
		   "se %u len", i);
	}
	EQ(le_get(M + H_EXT_TYPE, 4), 0, "ext_type");
}

/* ---- rule: limits ---- */

static void test_rule_limits(void **state)
{
	struct famrt_fmap_limits l;
	uint64_t da[4] = { 4 * KiB, 4 * KiB, 4 * KiB, 4 * KiB };
	struct famrt_fmap *map = SENTINEL;
	struct famrt_fmap_error err;

	(void)state;
	fix_simple();

	l = lim4;
	l.size = 0;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);
	l.size = offsetof(struct famrt_fmap_limits, align) + 4;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);

	/* A caller that knows only `align`: ndevices is not read. */
	l = lim4;
	l.ndevices = 1;
	l.dev_size = NULL;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);
	l.size = offsetof(struct famrt_fmap_limits, ndevices);
	accepted_m(&l);

	/* Alignment must be a power of two; 0 means 2 MiB. */
	l = lim4;
	l.align = 3 * 4096;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);
	l.align = 4096 + 1;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);
	l.align = 2 * MiB;
	accepted_m(&l);
	l.align = 0;
	accepted_m(&l);

	/* Devices named, sizes missing. */
	l = lim4;
	l.dev_size = NULL;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);

	/* Per-device alignment: each a power of two. */
	l = lim4;
	l.dev_align = da;
	accepted_m(&l);
	da[2] = 0;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);
	da[2] = 3 * 4096;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_LIMITS, NULL, -1, -1, 0);

	/* No place for the map, or no message but a length. */
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(famrt_fmap_decode(M, ML, NULL, NULL, &err), -EINVAL);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_LIMITS);
	assert_int_equal(famrt_fmap_decode(M, ML, NULL, NULL, NULL), -EINVAL);
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(famrt_fmap_decode(NULL, ML, NULL, &map, &err),
			 -EINVAL);
	assert_null(map);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_LIMITS);
}

/* ---- rule: too-large ---- */

static void test_rule_too_large(void **state)
{
	static uint8_t big[FAMRT_FMAP_MSG_MAX + 100];

	(void)state;
	fix_ilv();
	/* A valid message followed by zeros up to 32769 bytes. */
	memset(M + ML, 0, sizeof(M) - ML);
	refused(M, FAMRT_FMAP_MSG_MAX + 1, NULL, -E2BIG,
		FAMRT_FMAP_RULE_TOO_LARGE, NULL, -1, -1, FAMRT_FMAP_MSG_MAX);
	/* At exactly 32768 the size passes and the zeros are trailing. */
	refused(M, FAMRT_FMAP_MSG_MAX, NULL, -EINVAL, FAMRT_FMAP_RULE_TRAILING,
		NULL, -1, -1, ML);

	/* The size is checked before anything in the message. */
	memset(big, 0xff, sizeof(big));
	refused(big, FAMRT_FMAP_MSG_MAX + 1, NULL, -E2BIG,
		FAMRT_FMAP_RULE_TOO_LARGE, NULL, -1, -1, FAMRT_FMAP_MSG_MAX);
	refused(big, sizeof(big), &lim4, -E2BIG, FAMRT_FMAP_RULE_TOO_LARGE,
		NULL, -1, -1, FAMRT_FMAP_MSG_MAX);
	refused(big, FAMRT_FMAP_MSG_MAX, NULL, -EINVAL,
		FAMRT_FMAP_RULE_FILE_TYPE, "file_type", -1, -1, H_FILE_TYPE);
}

/* ---- rule: truncated ---- */

/*
 * Every proper prefix of the message of D is refused as truncated, naming
 * the structure it cuts: the header, extent i's record, or extent i's strip
 * list (as a whole, or strip j of it).
 */
static void check_every_prefix(const struct famrt_fmap_limits *lim)
{
	for (size_t len = 0; len < ML; len++) {
		struct famrt_fmap_error err;
		struct famrt_fmap *map = SENTINEL;
		int32_t ext = -1, strip = -1;
		size_t off = 0, list = 0;
		void *copy = exact_copy(M, len);
		int rc;

		if (len >= W_HDR) {
			for (uint32_t i = 0; i < D.nextents; i++) {
				size_t p = w_ext_pos(&D, i);
				size_t q = p + W_IE;

				if (len < p + (desc_ilv(&D) ? W_IE : W_SE)) {
					ext = (int32_t)i;
					off = p;
					break;
				}
				if (desc_ilv(&D) &&
				    len < q + (size_t)D.extents[i].nstrips *
						      W_SE) {
					ext = (int32_t)i;
					off = list = q;
					strip = (int32_t)((len - q) / W_SE);
					break;
				}
			}
			assert_true(ext >= 0);
		}
		memset(&err, 0x5a, sizeof(err));
		rc = famrt_fmap_decode(copy, len, lim, &map, &err);
		free(copy);
		if (rc == 0)
			famrt_fmap_free(map);
		if (rc != -EINVAL || map != NULL ||
		    err.rule != FAMRT_FMAP_RULE_TRUNCATED ||
		    err.extent != ext ||
		    !((err.strip == -1 && err.msg_offset == off) ||
		      (list && err.strip == strip &&
		       err.msg_offset == list + (size_t)strip * W_SE)))
			fail_msg("prefix of %zu bytes (of %zu): rc %d rule %s "
				 "extent %d strip %d offset %llu (%s); "
				 "expected truncated, extent %d, offset %zu",
				 len, ML, rc, famrt_fmap_rule_name(err.rule),
				 err.extent, err.strip,
				 (unsigned long long)err.msg_offset,
				 err.message, ext, off);
	}
	/* And the whole message passes. */
	accepted_m(lim);
}

static void test_rule_truncated(void **state)
{
	struct famrt_fmap *map = SENTINEL;
	struct famrt_fmap_error err;

	(void)state;
	fix_simple();
	check_every_prefix(NULL);
	check_every_prefix(&lim4);
	fix_ilv();
	check_every_prefix(NULL);
	check_every_prefix(&lim4);

	/* No message at all. */
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(famrt_fmap_decode(NULL, 0, NULL, &map, &err),
			 -EINVAL);
	assert_null(map);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_TRUNCATED);

	/* nextents promises one more extent than the message holds. */
	fix_ilv();
	patch(H_NEXTENTS, 4, 4);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_TRUNCATED, NULL, 3, -1, ML);
	/* nstrips promises one more strip: the last extent's list is cut. */
	fix_ilv();
	patch(w_ext_pos(&D, 2) + I_NSTRIPS, 2, 4);
	{
		struct famrt_fmap *m2 = SENTINEL;

		memset(&err, 0x5a, sizeof(err));
		assert_int_equal(famrt_fmap_decode(M, ML, NULL, &m2, &err),
				 -EINVAL);
		assert_null(m2);
		assert_int_equal(err.rule, FAMRT_FMAP_RULE_TRUNCATED);
		assert_int_equal(err.extent, 2);
	}
}

/* The largest message there is (32 x 32), cut at every byte. */
static void test_rule_truncated_largest(void **state)
{
	(void)state;
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = FAMRT_FMAP_MAX_EXTENTS;
	for (uint32_t i = 0; i < D.nextents; i++) {
		desc_iext(&D, i, 32, 2 * MiB, 64 * MiB);
		for (uint32_t j = 0; j < 32; j++)
			desc_strip(&D, i, j, (i + j) % 8, i * 2 * MiB, 2 * MiB);
	}
	D.file_size = 32ull * 64 * MiB;
	enc();
	EQ(ML, 25376, "largest message");
	check_every_prefix(NULL);
}

/* ---- rule: trailing bytes ---- */

static void test_rule_trailing(void **state)
{
	(void)state;
	fix_ilv();
	M[ML] = 0;
	refused(M, ML + 1, NULL, -EINVAL, FAMRT_FMAP_RULE_TRAILING, NULL, -1,
		-1, ML);
	/* A whole extra strip after the last extent. */
	memcpy(M + ML, M + ML - W_SE, W_SE);
	refused(M, ML + W_SE, NULL, -EINVAL, FAMRT_FMAP_RULE_TRAILING, NULL,
		-1, -1, ML);
	fix_simple();
	memcpy(M + ML, M + W_HDR, W_SE);
	refused(M, ML + W_SE, &lim4, -EINVAL, FAMRT_FMAP_RULE_TRAILING, NULL,
		-1, -1, ML);
	accepted_m(&lim4);
}

/* ---- rules: file-type, version, ext-type ---- */

static void test_rule_file_type(void **state)
{
	(void)state;
	for (unsigned t = 0; t <= 2; t++) {
		fix_simple();
		M[H_FILE_TYPE] = (uint8_t)t;
		accepted_m(&lim4);
	}
	fix_simple();
	M[H_FILE_TYPE] = 3;
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_FILE_TYPE, "file_type", -1,
		  -1, H_FILE_TYPE);
	M[H_FILE_TYPE] = 0xff;
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_FILE_TYPE, "file_type", -1,
		  -1, H_FILE_TYPE);
}

static void test_rule_version(void **state)
{
	static const uint64_t bad[] = { 0, 2, 0x0100, 0x0101, 0xffff };

	(void)state;
	fix_ilv();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		patch(H_VERSION, bad[i], 2);
		refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_VERSION,
			  "fmap_version", -1, -1, H_VERSION);
	}
	patch(H_VERSION, 1, 2);
	accepted_m(NULL);
}

static void test_rule_ext_type(void **state)
{
	static const uint64_t bad[] = { 2, 3, 0x100, 0x10000, 0x01000000,
					0x01000001, 0xffffffff };

	(void)state;
	fix_simple();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		patch(H_EXT_TYPE, bad[i], 4);
		refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_EXT_TYPE, "ext_type",
			  -1, -1, H_EXT_TYPE);
	}
	patch(H_EXT_TYPE, 0, 4);
	accepted_m(NULL);
}

/* ---- rule: reserved ---- */

static void test_rule_reserved_header(void **state)
{
	(void)state;
	fix_simple();
	M[H_RESERVED] = 1;
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_RESERVED, "reserved", -1, -1,
		  H_RESERVED);
	M[H_RESERVED] = 0x80;
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_RESERVED, "reserved", -1, -1,
		  H_RESERVED);
	/* Every byte of reserved0 and reserved1 counts. */
	for (unsigned b = 0; b < 4; b++) {
		fix_simple();
		M[H_RESERVED0 + b] = (uint8_t)(b == 3 ? 0x80 : 1);
		refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_RESERVED, "reserved0",
			  -1, -1, H_RESERVED0);
	}
	for (unsigned b = 0; b < 8; b++) {
		fix_ilv();
		M[H_RESERVED1 + b] = (uint8_t)(b == 7 ? 0x80 : 1);
		refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_RESERVED,
			  "reserved1", -1, -1, H_RESERVED1);
	}
	fix_ilv();
	accepted_m(&lim4);
}

static void test_rule_reserved_extents(void **state)
{
	size_t p;

	(void)state;
	/* se reserved of simple extent 2, each byte. */
	for (unsigned b = 0; b < 4; b++) {
		fix_simple();
		p = w_se_pos(&D, 2, 0) + S_RESERVED;
		M[p + b] = (uint8_t)(b == 3 ? 0x80 : 1);
		refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_RESERVED,
			  "se_reserved", 2, -1, p);
	}
	/* se reserved of strip 2 of interleaved extent 1. */
	for (unsigned b = 0; b < 4; b++) {
		fix_ilv();
		p = w_se_pos(&D, 1, 2) + S_RESERVED;
		M[p + b] = 1;
		refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_RESERVED,
			  "se_reserved", 1, 2, p);
	}
	/* ie reserved of extent 1, each byte. */
	for (unsigned b = 0; b < 8; b++) {
		fix_ilv();
		p = w_ext_pos(&D, 1) + I_RESERVED;
		M[p + b] = (uint8_t)(b == 7 ? 0x80 : 1);
		refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_RESERVED,
			  "ie_reserved", 1, -1, p);
	}
	/* And in extent 0, strip 0: the first of everything. */
	fix_ilv();
	p = w_se_pos(&D, 0, 0) + S_RESERVED;
	M[p] = 1;
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_RESERVED, "se_reserved", 0,
		  0, p);
}

/* ---- rule: nextents ---- */

static void desc_32_simple(void)
{
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_SIMPLE;
	D.nextents = 32;
	for (uint32_t i = 0; i < 32; i++)
		desc_simple(&D, i, i % 4, i * 2 * MiB, 2 * MiB);
	D.file_size = 64 * MiB;
	enc();
}

static void test_rule_nextents(void **state)
{
	(void)state;
	desc_32_simple();
	accepted_m(&lim4);
	/* 33 extents, all present and valid. */
	memcpy(M + ML, M + ML - W_SE, W_SE);
	patch(H_NEXTENTS, 33, 4);
	refused(M, ML + W_SE, &lim4, -E2BIG, FAMRT_FMAP_RULE_NEXTENTS,
		"nextents", -1, -1, H_NEXTENTS);
	/* The count is refused before the body is read. */
	refused(M, ML, &lim4, -E2BIG, FAMRT_FMAP_RULE_NEXTENTS, "nextents", -1,
		-1, H_NEXTENTS);
	patch(H_NEXTENTS, 0xffffffff, 4);
	refused(M, ML, &lim4, -E2BIG, FAMRT_FMAP_RULE_NEXTENTS, "nextents", -1,
		-1, H_NEXTENTS);

	/* No extents. */
	memset(&D, 0, sizeof(D));
	D.nextents = 0;
	enc();
	EQ(ML, W_HDR, "header only");
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_NEXTENTS, "nextents", -1, -1,
		  H_NEXTENTS);
	fix_simple();
	patch(H_NEXTENTS, 0, 4);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_NEXTENTS, "nextents", -1, -1,
		  H_NEXTENTS);

	/* 32 interleaved extents. */
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 32;
	for (uint32_t i = 0; i < 32; i++) {
		desc_iext(&D, i, 2, 2 * MiB, 4 * MiB);
		desc_strip(&D, i, 0, i % 4, i * 2 * MiB, 2 * MiB);
		desc_strip(&D, i, 1, (i + 1) % 4, i * 2 * MiB, 2 * MiB);
	}
	D.file_size = 128 * MiB;
	enc();
	accepted_m(&lim4);
	/* One more interleaved extent (24 + 2 x 24 bytes) makes 33. */
	memcpy(M + ML, M + w_ext_pos(&D, 31), W_IE + 2 * W_SE);
	patch(H_NEXTENTS, 33, 4);
	refused(M, ML + W_IE + 2 * W_SE, &lim4, -E2BIG,
		FAMRT_FMAP_RULE_NEXTENTS, "nextents", -1, -1, H_NEXTENTS);
}

/* ---- rule: nstrips ---- */

/* Extent 0: 1 x 2 MiB; extent 1: 32 strips of 2 MiB, 2 MiB chunks. */
static void desc_32_strips(void)
{
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 2;
	desc_iext(&D, 0, 1, 2 * MiB, 2 * MiB);
	desc_strip(&D, 0, 0, 3, 0, 2 * MiB);
	desc_iext(&D, 1, 32, 2 * MiB, 64 * MiB);
	for (uint32_t j = 0; j < 32; j++)
		desc_strip(&D, 1, j, j % 4, 2 * MiB + j / 4 * 2 * MiB, 2 * MiB);
	D.file_size = 66 * MiB;
	enc();
}

static void test_rule_nstrips(void **state)
{
	size_t p;

	(void)state;
	desc_32_strips();
	accepted_m(&lim4);
	p = w_ext_pos(&D, 1) + I_NSTRIPS;
	/* 33 strips, all present. */
	memcpy(M + ML, M + ML - W_SE, W_SE);
	patch(p, 33, 4);
	refused(M, ML + W_SE, &lim4, -E2BIG, FAMRT_FMAP_RULE_NSTRIPS,
		"ie_nstrips", 1, -1, p);
	patch(p, 0xffffffff, 4);
	refused(M, ML + W_SE, &lim4, -E2BIG, FAMRT_FMAP_RULE_NSTRIPS,
		"ie_nstrips", 1, -1, p);
	/* No strips. */
	D.extents[1].nstrips = 0;
	enc();
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_NSTRIPS, "ie_nstrips", 1, -1,
		  p);
	/* One strip is fine. */
	D.extents[1].nstrips = 1;
	D.extents[1].nbytes = 2 * MiB;
	D.file_size = 4 * MiB;
	enc();
	accepted_m(&lim4);
}

/* ---- rule: zero-length ---- */

static void test_rule_zero_length(void **state)
{
	size_t p;

	(void)state;
	fix_simple();
	p = w_se_pos(&D, 1, 0) + S_LEN;
	patch(p, 0, 8);
	patch(H_FILE_SIZE, 4 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_ZERO_LENGTH, "se_len", 1, -1,
		  p);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_ZERO_LENGTH, "se_len", 1, -1,
		  p);
	fix_ilv();
	p = w_se_pos(&D, 0, 1) + S_LEN;
	patch(p, 0, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_ZERO_LENGTH, "se_len", 0, 1,
		  p);
	/* The smallest length: one alignment unit. */
	fix_simple();
	patch(w_se_pos(&D, 1, 0) + S_LEN, 2 * MiB, 8);
	patch(H_FILE_SIZE, 6 * MiB, 8);
	accepted_m(&lim4);
}

/* ---- rule: unaligned ---- */

static void test_rule_unaligned(void **state)
{
	struct famrt_fmap_limits l;
	size_t po, pl;

	(void)state;
	/* Default alignment, 2 MiB. */
	fix_simple();
	po = w_se_pos(&D, 1, 0) + S_OFFSET;
	pl = w_se_pos(&D, 1, 0) + S_LEN;
	patch(po, 4 * MiB + 4 * KiB, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1, -1,
		  po);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1,
		  -1, po);
	patch(po, 4 * MiB + 1, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1, -1,
		  po);
	patch(po, 4 * MiB + 1 * MiB, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1, -1,
		  po);
	patch(po, 4 * MiB, 8);
	patch(pl, 4 * MiB - 4 * KiB, 8);
	patch(H_FILE_SIZE, 4 * MiB, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_len", 1, -1,
		  pl);
	patch(pl, 4 * MiB + 2 * MiB, 8);
	accepted_m(NULL);

	/* With a 4 KiB alignment the same offsets pass. */
	l = lim4;
	l.align = 4 * KiB;
	patch(po, 4 * MiB + 4 * KiB, 8);
	patch(pl, 12 * KiB, 8);
	accepted_m(&l);
	patch(po, 4 * MiB + 2 * KiB, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1, -1,
		  po);
	patch(po, 4 * MiB, 8);
	patch(pl, 12 * KiB + 512, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_len", 1, -1, pl);

	/* A strip of an interleaved extent. */
	fix_ilv();
	po = w_se_pos(&D, 1, 0) + S_OFFSET;
	patch(po, 1 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1, 0,
		  po);
	fix_ilv();
	pl = w_se_pos(&D, 2, 0) + S_LEN;
	patch(pl, 3 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_len", 2, 0,
		  pl);
}

/* Per-device alignment: an extent on device d aligns to max(align, d's). */
static void test_rule_unaligned_per_device(void **state)
{
	uint64_t da[2] = { 4 * KiB, 2 * MiB };
	uint64_t sz[2] = { 64 * MiB, 64 * MiB };
	struct famrt_fmap_limits l = {
		.size = sizeof(l), .align = 4 * KiB, .ndevices = 2,
		.dev_size = sz, .dev_align = da,
	};
	size_t po, pl;

	(void)state;
	memset(&D, 0, sizeof(D));
	D.nextents = 2;
	desc_simple(&D, 0, 0, 4 * KiB, 4 * KiB);     /* 4 KiB device */
	desc_simple(&D, 1, 1, 2 * MiB, 2 * MiB);     /* 2 MiB device */
	D.file_size = 2 * MiB + 4 * KiB;
	enc();
	accepted_m(&l);
	po = w_se_pos(&D, 1, 0) + S_OFFSET;
	pl = w_se_pos(&D, 1, 0) + S_LEN;
	/* 4 KiB offset on the 2 MiB device. */
	patch(po, 4 * KiB, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 1, -1,
		  po);
	/* ... is fine on the 4 KiB device. */
	patch(w_se_pos(&D, 1, 0) + S_DEVINDEX, 0, 4);
	accepted_m(&l);
	/* 4 KiB length on the 2 MiB device. */
	patch(w_se_pos(&D, 1, 0) + S_DEVINDEX, 1, 4);
	patch(po, 2 * MiB, 8);
	patch(pl, 4 * KiB, 8);
	patch(H_FILE_SIZE, 8 * KiB, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_len", 1, -1, pl);
	/* Without per-device alignment, 4 KiB everywhere. */
	l.dev_align = NULL;
	accepted_m(&l);
	/* A device alignment below the global one does not lower it. */
	da[0] = da[1] = 4 * KiB;
	l.dev_align = da;
	l.align = 2 * MiB;
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 0, -1,
		  w_se_pos(&D, 0, 0) + S_OFFSET);

	/* A strip on the 2 MiB device inside an interleaved extent. */
	da[0] = 4 * KiB;
	da[1] = 2 * MiB;
	l.align = 4 * KiB;
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 1;
	desc_iext(&D, 0, 2, 2 * MiB, 4 * MiB);
	desc_strip(&D, 0, 0, 0, 4 * KiB, 2 * MiB);
	desc_strip(&D, 0, 1, 1, 2 * MiB, 2 * MiB);
	D.file_size = 4 * MiB;
	enc();
	accepted_m(&l);
	D.extents[0].strips[1].offset = 2 * MiB + 64 * KiB;
	enc();
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_UNALIGNED, "se_offset", 0, 1,
		  w_se_pos(&D, 0, 1) + S_OFFSET);
}

/* ---- rules: chunk-zero, chunk-unaligned ---- */

static void test_rule_chunk(void **state)
{
	struct famrt_fmap_limits l;
	size_t p;

	(void)state;
	fix_ilv();
	p = w_ext_pos(&D, 1) + I_CHUNK;
	patch(p, 0, 4);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_CHUNK_ZERO, "ie_chunk_size",
		  1, -1, p);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_CHUNK_ZERO, "ie_chunk_size",
		  1, -1, p);
	/* Half the alignment. */
	patch(p, 1 * MiB, 4);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
		  "ie_chunk_size", 1, -1, p);
	patch(p, 2 * MiB + 4 * KiB, 4);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
		  "ie_chunk_size", 1, -1, p);
	patch(p, 1, 4);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
		  "ie_chunk_size", 1, -1, p);
	/* Chunk = alignment: 3 strips of 8 MiB hold 24 MiB either way. */
	patch(p, 2 * MiB, 4);
	accepted_m(&lim4);
	/* A multiple of the alignment that is not a power of two. */
	patch(p, 8 * MiB - 2 * MiB, 4); /* 6 MiB: 1 stripe, 18 MiB */
	patch(w_ext_pos(&D, 1) + I_NBYTES, 18 * MiB, 8);
	patch(H_FILE_SIZE, 28 * MiB, 8);
	accepted_m(&lim4);

	/* With 4 KiB alignment a 4 KiB chunk passes, 2 KiB does not. */
	l = lim4;
	l.align = 4 * KiB;
	patch(p, 4 * KiB, 4);
	accepted_m(&l);
	patch(p, 2 * KiB, 4);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
		  "ie_chunk_size", 1, -1, p);
}

/*
 * The chunk must also be a multiple of each strip's device alignment: a
 * 4 KiB chunk over a strip on a 2 MiB device is refused, naming that strip
 * and the ie_chunk_size field of its extent.
 */
static void test_rule_chunk_per_device(void **state)
{
	uint64_t da[2] = { 4 * KiB, 2 * MiB };
	uint64_t sz[2] = { 64 * MiB, 64 * MiB };
	struct famrt_fmap_limits l = {
		.size = sizeof(l), .align = 4 * KiB, .ndevices = 2,
		.dev_size = sz, .dev_align = da,
	};
	size_t p;

	(void)state;
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 2;
	desc_iext(&D, 0, 1, 4 * KiB, 8 * KiB);
	desc_strip(&D, 0, 0, 0, 0, 8 * KiB);
	desc_iext(&D, 1, 3, 2 * MiB, 6 * MiB);
	desc_strip(&D, 1, 0, 0, 4 * MiB, 2 * MiB);
	desc_strip(&D, 1, 1, 0, 8 * MiB, 2 * MiB);
	desc_strip(&D, 1, 2, 1, 2 * MiB, 2 * MiB);
	D.file_size = 6 * MiB + 8 * KiB;
	enc();
	accepted_m(&l);
	p = w_ext_pos(&D, 1) + I_CHUNK;
	/* 4 KiB chunks: fine for strips 0 and 1, not for strip 2. */
	patch(p, 4 * KiB, 4);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
		  "ie_chunk_size", 1, 2, p);
	/* Now the 2 MiB device is strip 0. */
	D.extents[1].chunk_size = 4 * KiB;
	D.extents[1].strips[0].devindex = 1;
	D.extents[1].strips[2].devindex = 0;
	enc();
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_CHUNK_UNALIGNED,
		  "ie_chunk_size", 1, 0, p);
	/* Without per-device alignment 4 KiB chunks are fine. */
	l.dev_align = NULL;
	accepted_m(&l);
}

/* ---- rule: nbytes-zero ---- */

static void test_rule_nbytes_zero(void **state)
{
	size_t p;

	(void)state;
	fix_ilv();
	p = w_ext_pos(&D, 2) + I_NBYTES;
	patch(p, 0, 8);
	patch(H_FILE_SIZE, 32 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_NBYTES_ZERO, "ie_nbytes", 2,
		  -1, p);
	/* One byte is enough. */
	patch(p, 1, 8);
	accepted_m(&lim4);
}

/* ---- rule: nbytes-capacity ---- */

static void test_rule_nbytes_capacity(void **state)
{
	struct famrt_fmap_limits l;
	size_t p;

	(void)state;
	/* 3 strips of 8 MiB, 4 MiB chunks: 24 MiB exactly. */
	fix_ilv();
	p = w_ext_pos(&D, 1) + I_NBYTES;
	accepted_m(&lim4);
	patch(p, 24 * MiB + 1, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  1, -1, p);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  1, -1, p);
	/* The shortest strip (the last) sets the capacity. */
	fix_ilv();
	D.extents[1].strips[2].len = 6 * MiB;
	D.extents[1].nbytes = 12 * MiB; /* 1 whole stripe of 4 MiB, x 3 */
	D.file_size = 22 * MiB;
	enc();
	accepted_m(&lim4);
	patch(p, 12 * MiB + 1, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  1, -1, p);
	/* N x shortest strip would be 18 MiB: whole stripes only. */
	patch(p, 18 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  1, -1, p);

	/*
	 * 4 KiB alignment, 8 KiB chunks over strips of 20, 16 and 12 KiB:
	 * one whole stripe, 24 KiB (3 x 12 KiB would be 36 KiB).
	 */
	l = lim4;
	l.align = 4 * KiB;
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 1;
	desc_iext(&D, 0, 3, 8 * KiB, 24 * KiB);
	desc_strip(&D, 0, 0, 0, 0, 20 * KiB);
	desc_strip(&D, 0, 1, 1, 0, 16 * KiB);
	desc_strip(&D, 0, 2, 2, 0, 12 * KiB);
	D.file_size = 24 * KiB;
	enc();
	p = w_ext_pos(&D, 0) + I_NBYTES;
	accepted_m(&l);
	patch(p, 24 * KiB + 1, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  0, -1, p);
	/* A strip shorter than one chunk: no whole stripe, nothing held. */
	D.extents[0].strips[1].len = 4 * KiB;
	D.extents[0].nbytes = 1;
	D.file_size = 1;
	enc();
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  0, -1, p);
	/* A chunk that is not a power of two: 12 KiB over 36 and 40 KiB. */
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 1;
	desc_iext(&D, 0, 2, 12 * KiB, 72 * KiB);
	desc_strip(&D, 0, 0, 0, 0, 40 * KiB);
	desc_strip(&D, 0, 1, 1, 0, 36 * KiB);
	D.file_size = 72 * KiB;
	enc();
	accepted_m(&l);
	patch(p, 72 * KiB + 1, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  0, -1, p);

	/* A capacity of 2^64 or more holds any ie_nbytes. */
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 1;
	desc_iext(&D, 0, 2, 2 * MiB, UINT64_MAX);
	desc_strip(&D, 0, 0, 0, 0, 1ull << 63);
	desc_strip(&D, 0, 1, 1, 0, 1ull << 63);
	D.file_size = UINT64_MAX;
	enc();
	accepted_m(NULL);
	/* ... but 2^63 - 2 MiB strips do not. */
	D.extents[0].strips[1].len = (1ull << 63) - 2 * MiB;
	enc();
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_NBYTES_CAPACITY, "ie_nbytes",
		  0, -1, p);
}

/* ---- rule: devindex; several devices ---- */

static void test_rule_devindex(void **state)
{
	static const uint64_t bad[] = { 4, 5, 31, 32, 0x80000000u,
					0xffffffffu };
	uint64_t sz[32];
	struct famrt_fmap_limits l32 = {
		.size = sizeof(l32), .ndevices = 32, .dev_size = sz,
	};
	struct famrt_fmap *m;
	size_t p;

	(void)state;
	fix_simple();
	p = w_se_pos(&D, 1, 0) + S_DEVINDEX;
	patch(p, 3, 4);
	accepted_m(&lim4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		patch(p, bad[i], 4);
		refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVINDEX,
			  "se_devindex", 1, -1, p);
	}
	fix_ilv();
	p = w_se_pos(&D, 1, 2) + S_DEVINDEX;
	patch(p, 4, 4);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVINDEX, "se_devindex", 1,
		  2, p);
	patch(p, 3, 4);
	accepted_m(&lim4);

	/* 32 devices: index 31 is the last. */
	for (int i = 0; i < 32; i++)
		sz[i] = 64 * MiB;
	fix_simple();
	p = w_se_pos(&D, 2, 0) + S_DEVINDEX;
	patch(p, 31, 4);
	m = accepted(M, ML, &l32);
	EQ(famrt_fmap_max_devindex(m), 31, "max devindex");
	famrt_fmap_free(m);
	patch(p, 32, 4);
	refused_m(&l32, -EINVAL, FAMRT_FMAP_RULE_DEVINDEX, "se_devindex", 2,
		  -1, p);

	/* No device count given: indexes are not checked (nor shifted). */
	patch(p, 0xffffffff, 4);
	m = accepted(M, ML, NULL);
	EQ(famrt_fmap_max_devindex(m), 0xffffffff, "max devindex");
	famrt_fmap_free(m);
}

/* The seed allows device 0 only; several devices per file are fine. */
static void test_several_devices(void **state)
{
	struct famrt_fmap *m;
	struct famrt_fmap_run r;
	uint64_t sz[3] = { 2 * MiB, 8 * MiB, 4 * MiB };
	struct famrt_fmap_limits l = {
		.size = sizeof(l), .ndevices = 3, .dev_size = sz,
	};

	(void)state;
	fix_simple();
	m = accepted(M, ML, &l);
	EQ(famrt_fmap_max_devindex(m), 2, "max devindex");
	assert_int_equal(famrt_fmap_resolve(m, 2 * MiB + 5, &r), 0);
	EQ(r.dev, 1, "dev");
	EQ(r.dev_off, 4 * MiB + 5, "dev_off");
	EQ(r.len, 4 * MiB - 5, "len");
	assert_int_equal(famrt_fmap_resolve(m, 7 * MiB, &r), 0);
	EQ(r.dev, 2, "dev");
	EQ(r.dev_off, 3 * MiB, "dev_off");
	EQ(r.len, 1 * MiB, "len");
	famrt_fmap_free(m);
}

/* ---- rule: device-bounds ---- */

static void test_rule_device_bounds(void **state)
{
	size_t po, pl;

	(void)state;
	/* Extent 2 on device 2 (64 MiB). */
	fix_simple();
	po = w_se_pos(&D, 2, 0) + S_OFFSET;
	pl = w_se_pos(&D, 2, 0) + S_LEN;
	patch(po, 62 * MiB, 8);
	accepted_m(&lim4);       /* ends exactly at the device's end */
	patch(pl, 4 * MiB, 8);  /* one alignment unit past it */
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS, "se_len", 2,
		  -1, pl);
	patch(po, 64 * MiB, 8);
	patch(pl, 2 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS, "se_len", 2,
		  -1, pl);
	patch(po, 0, 8);
	patch(pl, 66 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS, "se_len", 2,
		  -1, pl);
	/* Unchecked without a device table. */
	accepted_m(NULL);

	/* offset + len wraps around 2^64: a naive sum would pass. */
	dev4[2] = UINT64_MAX;
	patch(po, UINT64_MAX - 2 * MiB + 1, 8); /* 2^64 - 2 MiB */
	patch(pl, 4 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS, "se_len", 2,
		  -1, pl);
	/* Ends at 2^64: one byte past a device of 2^64 - 1 bytes. */
	patch(pl, 2 * MiB, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS, "se_len", 2,
		  -1, pl);
	/* Ends at 2^64 - 2 MiB: fine. */
	patch(po, UINT64_MAX - 4 * MiB + 1, 8);
	accepted_m(&lim4);
	lim4_reset();

	/* A strip: extent 1, strip 1 is on device 3 at 8 MiB, 8 MiB long. */
	fix_ilv();
	dev4[3] = 16 * MiB;
	accepted_m(&lim4);
	dev4[3] = 14 * MiB;
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_DEVICE_BOUNDS, "se_len", 1,
		  1, w_se_pos(&D, 1, 1) + S_LEN);
}

/* ---- rule: overflow ---- */

static void test_rule_overflow(void **state)
{
	uint64_t sz[2] = { UINT64_MAX, UINT64_MAX };
	struct famrt_fmap_limits l = {
		.size = sizeof(l), .ndevices = 2, .dev_size = sz,
	};
	size_t p;

	(void)state;
	/* Simple: 2^63 + 2^63. */
	memset(&D, 0, sizeof(D));
	D.nextents = 2;
	desc_simple(&D, 0, 0, 0, 1ull << 63);
	desc_simple(&D, 1, 1, 0, 1ull << 63);
	D.file_size = 2 * MiB;
	enc();
	p = w_se_pos(&D, 1, 0) + S_LEN;
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", 1, -1, p);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", 1, -1, p);
	/* Up to 2^64 - 2 MiB is fine, all of it held. */
	patch(p, (1ull << 63) - 2 * MiB, 8);
	patch(H_FILE_SIZE, UINT64_MAX - 2 * MiB + 1, 8);
	accepted_m(NULL);
	accepted_m(&l);
	patch(H_FILE_SIZE, UINT64_MAX - 2 * MiB + 2, 8);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_SHORT, "file_size", -1, -1,
		  H_FILE_SIZE);
	/* A wrapped total that would pass "total >= file_size". */
	memset(&D, 0, sizeof(D));
	D.nextents = 3;
	desc_simple(&D, 0, 0, 0, 2 * MiB);
	desc_simple(&D, 1, 0, 0, UINT64_MAX - 2 * MiB + 1);
	desc_simple(&D, 2, 1, 0, 4 * MiB);
	D.file_size = 2 * MiB;
	enc();
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", 1, -1,
		  w_se_pos(&D, 1, 0) + S_LEN);

	/* Interleaved: two extents of 2^63 bytes each. */
	memset(&D, 0, sizeof(D));
	D.ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	D.nextents = 2;
	for (uint32_t i = 0; i < 2; i++) {
		desc_iext(&D, i, 2, 2 * MiB, 1ull << 63);
		desc_strip(&D, i, 0, 0, 0, 1ull << 63);
		desc_strip(&D, i, 1, 1, 0, 1ull << 63);
	}
	D.file_size = 4 * MiB;
	enc();
	p = w_ext_pos(&D, 1) + I_NBYTES;
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "ie_nbytes", 1, -1,
		  p);
	refused_m(&l, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "ie_nbytes", 1, -1,
		  p);
	patch(p, (1ull << 63) - 1, 8);
	accepted_m(&l);
	patch(H_FILE_SIZE, UINT64_MAX, 8);
	accepted_m(&l);

	/*
	 * With no device table, an extent whose offset + len passes 2^64 is
	 * still refused: no device is that large.
	 */
	fix_simple();
	p = w_se_pos(&D, 2, 0);
	patch(p + S_OFFSET, UINT64_MAX - 2 * MiB + 1, 8); /* 2^64 - 2 MiB */
	patch(p + S_LEN, 4 * MiB, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", 2, -1,
		  p + S_LEN);
	patch(p + S_LEN, 2 * MiB, 8); /* ends at 2^64 exactly */
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", 2, -1,
		  p + S_LEN);
	patch(p + S_OFFSET, UINT64_MAX - 4 * MiB + 1, 8);
	accepted_m(NULL);
	fix_ilv();
	p = w_se_pos(&D, 1, 2);
	patch(p + S_OFFSET, UINT64_MAX - 4 * MiB + 1, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_OVERFLOW, "se_len", 1, 2,
		  p + S_LEN);
	patch(p + S_OFFSET, UINT64_MAX - 10 * MiB + 1, 8);
	accepted_m(NULL);
}

/* ---- rule: short ---- */

static void test_rule_short(void **state)
{
	(void)state;
	fix_simple();
	accepted_m(&lim4);
	patch(H_FILE_SIZE, 8 * MiB + 1, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_SHORT, "file_size", -1, -1,
		  H_FILE_SIZE);
	patch(H_FILE_SIZE, UINT64_MAX, 8);
	refused_m(NULL, -EINVAL, FAMRT_FMAP_RULE_SHORT, "file_size", -1, -1,
		  H_FILE_SIZE);
	patch(H_FILE_SIZE, 0, 8);
	accepted_m(&lim4);

	/* Interleaved: the ie_nbytes, not the strips, set the total. */
	fix_ilv();
	accepted_m(&lim4);
	patch(H_FILE_SIZE, 34 * MiB + 1, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_SHORT, "file_size", -1, -1,
		  H_FILE_SIZE);
	fix_ilv();
	D.extents[1].nbytes = 20 * MiB; /* strips hold 24 MiB */
	D.file_size = 30 * MiB;
	enc();
	accepted_m(&lim4);
	patch(H_FILE_SIZE, 30 * MiB + 1, 8);
	refused_m(&lim4, -EINVAL, FAMRT_FMAP_RULE_SHORT, "file_size", -1, -1,
		  H_FILE_SIZE);
}

/* ---- rule: nomem (allocation N fails, for N = 1, 2, ...) ---- */

static void test_rule_nomem(void **state)
{
	struct famrt_fmap_error err;
	struct famrt_fmap *m;
	unsigned n;
	int rc;

	(void)state;
	fix_ilv();
	for (n = 1; n < 16; n++) {
		m = SENTINEL;
		memset(&err, 0x5a, sizeof(err));
		fi_arm(n);
		rc = famrt_fmap_decode(M, ML, &lim4, &m, &err);
		fi_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_null(m);
		assert_int_equal(err.rule, FAMRT_FMAP_RULE_NOMEM);
		assert_non_null(strstr(err.message, "nomem"));
	}
	assert_true(n > 1);   /* decoding allocates */
	assert_true(n < 16);
	assert_non_null(m);
	famrt_fmap_free(m);

	for (n = 1; n < 16; n++) {
		m = SENTINEL;
		memset(&err, 0x5a, sizeof(err));
		fi_arm(n);
		rc = famrt_fmap_build(&D, &lim4, &m, &err);
		fi_disarm();
		if (rc == 0)
			break;
		assert_int_equal(rc, -ENOMEM);
		assert_null(m);
		assert_int_equal(err.rule, FAMRT_FMAP_RULE_NOMEM);
		/* Without err too. */
		m = SENTINEL;
		fi_arm(n);
		rc = famrt_fmap_build(&D, &lim4, &m, NULL);
		fi_disarm();
		assert_int_equal(rc, -ENOMEM);
		assert_null(m);
	}
	assert_true(n > 1);
	assert_true(n < 16);
	assert_non_null(m);
	famrt_fmap_free(m);
}

/* ---- build, desc_encode, encode, to_desc, get_extent ---- */

static void test_build(void **state)
{
	struct famrt_fmap_error err;
	struct famrt_fmap *m;
	uint8_t out[512];

	(void)state;
	fix_ilv();
	m = SENTINEL;
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(famrt_fmap_build(&D, &lim4, &m, &err), 0);
	assert_non_null(m);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_NONE);
	EQ(famrt_fmap_encode(m, out, sizeof(out)), ML, "encode");
	assert_memory_equal(out, M, ML);
	famrt_fmap_free(m);
	m = SENTINEL;
	assert_int_equal(famrt_fmap_build(&D, NULL, &m, NULL), 0);
	famrt_fmap_free(m);

	/* Invalid: a rule broken, reported as decode reports it. */
	D.extents[1].chunk_size = 0;
	m = SENTINEL;
	memset(&err, 0x5a, sizeof(err));
	assert_int_equal(famrt_fmap_build(&D, &lim4, &m, &err), -EINVAL);
	assert_null(m);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_CHUNK_ZERO);
	assert_string_equal(err.field, "ie_chunk_size");
	assert_int_equal(err.extent, 1);
	assert_int_equal(err.strip, -1);
	EQ(err.msg_offset, w_ext_pos(&D, 1) + I_CHUNK, "msg_offset");
	m = SENTINEL;
	assert_int_equal(famrt_fmap_build(&D, &lim4, &m, NULL), -EINVAL);
	assert_null(m);

	fix_ilv();
	D.extents[2].strips[0].devindex = 4;
	m = SENTINEL;
	assert_int_equal(famrt_fmap_build(&D, &lim4, &m, &err), -EINVAL);
	assert_null(m);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_DEVINDEX);
	assert_int_equal(err.extent, 2);
	assert_int_equal(err.strip, 0);

	/* Descs that no message can carry. */
	fix_ilv();
	D.nextents = 33;
	m = SENTINEL;
	assert_int_equal(famrt_fmap_build(&D, NULL, &m, &err), -E2BIG);
	assert_null(m);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_NEXTENTS);
	fix_ilv();
	D.extents[1].nstrips = 33;
	m = SENTINEL;
	assert_int_equal(famrt_fmap_build(&D, NULL, &m, &err), -E2BIG);
	assert_null(m);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_NSTRIPS);
	assert_non_null(strstr(err.message, "nstrips"));
	fix_ilv();
	D.ext_type = 2;
	m = SENTINEL;
	assert_int_equal(famrt_fmap_build(&D, NULL, &m, &err), -EINVAL);
	assert_null(m);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_EXT_TYPE);
	assert_int_equal(famrt_fmap_build(&D, NULL, &m, NULL), -EINVAL);
	/* No place for the map. */
	fix_ilv();
	assert_int_equal(famrt_fmap_build(&D, NULL, NULL, &err), -EINVAL);
	assert_int_equal(err.rule, FAMRT_FMAP_RULE_LIMITS);
}

static void test_desc_encode(void **state)
{
	static uint8_t buf[FAMRT_FMAP_MSG_MAX];

	(void)state;
	fix_ilv();
	assert_int_equal(famrt_fmap_desc_encode(&D, buf, ML - 1), -ENOSPC);
	assert_int_equal(famrt_fmap_desc_encode(&D, NULL, 0), -ENOSPC);
	memset(buf, 0xee, sizeof(buf));
	EQ(famrt_fmap_desc_encode(&D, buf, ML), ML, "exact buffer");
	assert_memory_equal(buf, M, ML);
	EQ(buf[ML], 0xee, "byte after the message");
	fix_simple();
	/* A simple extent takes only strips[0]; nstrips etc. are ignored. */
	D.extents[1].nstrips = 7;
	D.extents[1].chunk_size = 12345;
	EQ(famrt_fmap_desc_encode(&D, buf, sizeof(buf)), 104, "simple");
	assert_memory_equal(buf, M, ML);
	D.nextents = 33;
	assert_int_equal(famrt_fmap_desc_encode(&D, buf, sizeof(buf)),
			 -EINVAL);
	fix_ilv();
	D.extents[2].nstrips = 33;
	assert_int_equal(famrt_fmap_desc_encode(&D, buf, sizeof(buf)),
			 -EINVAL);
	fix_ilv();
	D.ext_type = 2;
	assert_int_equal(famrt_fmap_desc_encode(&D, buf, sizeof(buf)),
			 -EINVAL);
}

static void test_encode_and_to_desc(void **state)
{
	static struct famrt_fmap_desc d2;
	struct famrt_fmap_extent x;
	struct famrt_fmap *m;
	uint8_t buf[512];
	/* file offset, bytes held, per extent, for three file sizes */
	static const struct {
		uint64_t size, off[3], held[3];
	} ilv[] = {
		{ 34 * MiB, { 0, 8 * MiB, 32 * MiB }, { 8 * MiB, 24 * MiB, 2 * MiB } },
		{ 33 * MiB, { 0, 8 * MiB, 32 * MiB }, { 8 * MiB, 24 * MiB, 1 * MiB } },
		{ 20 * MiB, { 0, 8 * MiB, 20 * MiB }, { 8 * MiB, 12 * MiB, 0 } },
		{ 0, { 0, 0, 0 }, { 0, 0, 0 } },
	}, simple[] = {
		{ 8 * MiB, { 0, 2 * MiB, 6 * MiB }, { 2 * MiB, 4 * MiB, 2 * MiB } },
		{ 3 * MiB, { 0, 2 * MiB, 6 * MiB }, { 2 * MiB, 1 * MiB, 0 } },
		{ 0, { 0, 2 * MiB, 6 * MiB }, { 0, 0, 0 } },
	};

	(void)state;
	for (int t = 0; t < 2; t++) {
		size_t ncase = t ? sizeof(simple) / sizeof(simple[0]) :
				   sizeof(ilv) / sizeof(ilv[0]);

		for (size_t c = 0; c < ncase; c++) {
			uint64_t size = t ? simple[c].size : ilv[c].size;
			const uint64_t *off = t ? simple[c].off : ilv[c].off;
			const uint64_t *held = t ? simple[c].held :
						   ilv[c].held;

			if (t)
				fix_simple();
			else
				fix_ilv();
			D.file_size = size;
			enc();
			m = accepted(M, ML, &lim4);
			assert_int_equal(famrt_fmap_encode(m, buf, ML - 1),
					 -ENOSPC);
			famrt_fmap_to_desc(m, &d2);
			EQ(d2.file_type, D.file_type, "file_type");
			EQ(d2.ext_type, D.ext_type, "ext_type");
			EQ(d2.nextents, D.nextents, "nextents");
			EQ(d2.file_size, size, "file_size");
			for (uint32_t i = 0; i < 3; i++) {
				const struct famrt_fmap_extent *e =
					&D.extents[i];

				assert_int_equal(
					famrt_fmap_get_extent(m, i, &x), 0);
				EQ(x.file_offset, off[i], "ext %u offset", i);
				EQ(x.file_bytes, held[i], "ext %u held", i);
				EQ(d2.extents[i].file_offset, off[i], "offset");
				EQ(d2.extents[i].file_bytes, held[i], "held");
				EQ(x.nstrips, e->nstrips, "nstrips");
				EQ(x.chunk_size, e->chunk_size, "chunk");
				EQ(x.nbytes, e->nbytes, "nbytes");
				for (uint32_t j = 0; j < e->nstrips; j++) {
					EQ(x.strips[j].devindex,
					   e->strips[j].devindex, "dev");
					EQ(x.strips[j].offset,
					   e->strips[j].offset, "offset");
					EQ(x.strips[j].len, e->strips[j].len,
					   "len");
				}
			}
			EQ(famrt_fmap_desc_encode(&d2, buf, sizeof(buf)), ML,
			   "re-encode");
			assert_memory_equal(buf, M, ML);
			assert_int_equal(famrt_fmap_get_extent(m, 3, &x),
					 -ERANGE);
			assert_int_equal(
				famrt_fmap_get_extent(m, UINT32_MAX, &x),
				-ERANGE);
			famrt_fmap_free(m);
		}
	}
}

/* ---- resolve and the iterator at their edges ---- */

static void test_resolve_range(void **state)
{
	struct famrt_fmap_run r;
	struct famrt_fmap_iter it;
	struct famrt_fmap *m;

	(void)state;
	fix_ilv();
	m = accepted(M, ML, &lim4);
	assert_int_equal(famrt_fmap_resolve(m, 34 * MiB, &r), -ERANGE);
	assert_int_equal(famrt_fmap_resolve(m, 34 * MiB + 1, &r), -ERANGE);
	assert_int_equal(famrt_fmap_resolve(m, UINT64_MAX, &r), -ERANGE);
	/* The last byte: extent 2 (1 strip, dev 1 at 4 MiB). */
	assert_int_equal(famrt_fmap_resolve(m, 34 * MiB - 1, &r), 0);
	EQ(r.file_off, 34 * MiB - 1, "file_off");
	EQ(r.dev, 1, "dev");
	EQ(r.dev_off, 6 * MiB - 1, "dev_off");
	EQ(r.len, 1, "len");
	/* The first byte: extent 0 strip 0. */
	assert_int_equal(famrt_fmap_resolve(m, 0, &r), 0);
	EQ(r.dev, 0, "dev");
	EQ(r.dev_off, 0, "dev_off");
	EQ(r.len, 2 * MiB, "len");
	/* Extent 1, l = 13 MiB: chunk 3, stripe 1, strip 0, coff 1 MiB. */
	assert_int_equal(famrt_fmap_resolve(m, 8 * MiB + 13 * MiB, &r), 0);
	EQ(r.dev, 2, "dev");
	EQ(r.dev_off, 0 + 4 * MiB + 1 * MiB, "dev_off");
	EQ(r.len, 3 * MiB, "len");

	/* Iterator: nothing at or past the end, nothing for len 0. */
	famrt_fmap_iter_init(&it, m, 34 * MiB, 10);
	assert_false(famrt_fmap_iter_next(&it, &r));
	assert_false(famrt_fmap_iter_next(&it, &r));
	famrt_fmap_iter_init(&it, m, UINT64_MAX, UINT64_MAX);
	assert_false(famrt_fmap_iter_next(&it, &r));
	famrt_fmap_iter_init(&it, m, 5, 0);
	assert_false(famrt_fmap_iter_next(&it, &r));
	/* The last byte alone. */
	famrt_fmap_iter_init(&it, m, 34 * MiB - 1, UINT64_MAX);
	assert_true(famrt_fmap_iter_next(&it, &r));
	EQ(r.file_off, 34 * MiB - 1, "file_off");
	EQ(r.dev, 1, "dev");
	EQ(r.dev_off, 6 * MiB - 1, "dev_off");
	EQ(r.len, 1, "len");
	assert_false(famrt_fmap_iter_next(&it, &r));
	assert_false(famrt_fmap_iter_next(&it, &r));
	/* off + len past 2^64 is clipped at the file size. */
	{
		uint64_t at = 5, total = 0;

		famrt_fmap_iter_init(&it, m, 5, UINT64_MAX - 2);
		while (famrt_fmap_iter_next(&it, &r)) {
			EQ(r.file_off, at, "run starts where the last ended");
			assert_true(r.len > 0);
			at += r.len;
			total += r.len;
		}
		EQ(total, 34 * MiB - 5, "bytes covered");
	}
	famrt_fmap_free(m);

	/* An empty file. */
	fix_ilv();
	D.file_size = 0;
	enc();
	m = accepted(M, ML, &lim4);
	assert_int_equal(famrt_fmap_resolve(m, 0, &r), -ERANGE);
	famrt_fmap_iter_init(&it, m, 0, UINT64_MAX);
	assert_false(famrt_fmap_iter_next(&it, &r));
	famrt_fmap_free(m);
}

/* ---- rule names ---- */

static void test_rule_names(void **state)
{
	const char *names[FAMRT_FMAP_RULE_COUNT_];

	(void)state;
	for (int r = 0; r < FAMRT_FMAP_RULE_COUNT_; r++) {
		names[r] = famrt_fmap_rule_name((enum famrt_fmap_rule)r);
		assert_non_null(names[r]);
		assert_true(strlen(names[r]) > 0);
		for (int q = 0; q < r; q++)
			if (!strcmp(names[q], names[r]))
				fail_msg("rules %d and %d are both \"%s\"", q,
					 r, names[r]);
	}
	assert_non_null(famrt_fmap_rule_name(FAMRT_FMAP_RULE_COUNT_));
	assert_non_null(famrt_fmap_rule_name((enum famrt_fmap_rule)-1));
	assert_non_null(famrt_fmap_rule_name((enum famrt_fmap_rule)1000));
	assert_string_equal(famrt_fmap_rule_name(FAMRT_FMAP_RULE_UNALIGNED),
			    "unaligned");
	assert_string_equal(famrt_fmap_rule_name(FAMRT_FMAP_RULE_NEXTENTS),
			    "nextents");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fixtures_valid, setup),
		cmocka_unit_test_setup(test_wire_layout, setup),
		cmocka_unit_test_setup(test_rule_limits, setup),
		cmocka_unit_test_setup(test_rule_too_large, setup),
		cmocka_unit_test_setup(test_rule_truncated, setup),
		cmocka_unit_test_setup(test_rule_truncated_largest, setup),
		cmocka_unit_test_setup(test_rule_trailing, setup),
		cmocka_unit_test_setup(test_rule_file_type, setup),
		cmocka_unit_test_setup(test_rule_version, setup),
		cmocka_unit_test_setup(test_rule_ext_type, setup),
		cmocka_unit_test_setup(test_rule_reserved_header, setup),
		cmocka_unit_test_setup(test_rule_reserved_extents, setup),
		cmocka_unit_test_setup(test_rule_nextents, setup),
		cmocka_unit_test_setup(test_rule_nstrips, setup),
		cmocka_unit_test_setup(test_rule_zero_length, setup),
		cmocka_unit_test_setup(test_rule_unaligned, setup),
		cmocka_unit_test_setup(test_rule_unaligned_per_device, setup),
		cmocka_unit_test_setup(test_rule_chunk, setup),
		cmocka_unit_test_setup(test_rule_chunk_per_device, setup),
		cmocka_unit_test_setup(test_rule_nbytes_zero, setup),
		cmocka_unit_test_setup(test_rule_nbytes_capacity, setup),
		cmocka_unit_test_setup(test_rule_devindex, setup),
		cmocka_unit_test_setup(test_several_devices, setup),
		cmocka_unit_test_setup(test_rule_device_bounds, setup),
		cmocka_unit_test_setup(test_rule_overflow, setup),
		cmocka_unit_test_setup(test_rule_short, setup),
		cmocka_unit_test_setup(test_rule_nomem, setup),
		cmocka_unit_test_setup(test_build, setup),
		cmocka_unit_test_setup(test_desc_encode, setup),
		cmocka_unit_test_setup(test_encode_and_to_desc, setup),
		cmocka_unit_test_setup(test_resolve_range, setup),
		cmocka_unit_test_setup(test_rule_names, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
