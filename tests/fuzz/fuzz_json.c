/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the tools' JSON parser (famrt_json_parse) and writer (famrt_jw_*).
 *
 * The input is JSON text as it comes. Checks:
 *  - a refusal says why and where: a known error code matching the errno
 *    returned, a 1-based line and column, an offset inside the input and a
 *    message;
 *  - an accepted document is well formed: member counts match the lists,
 *    object members (and only they) have keys, strings are NUL-terminated
 *    valid UTF-8 of the length given, numbers are exactly the RFC 8259
 *    grammar and a U64 number holds the value of its text,
 *    famrt_json_get() and famrt_json_get_u64() agree with the tree;
 *  - round trip: the writer's output for the tree (compact and pretty;
 *    numbers other than exact u64 written as null) parses back to the same
 *    tree;
 *  - limits: parsing under tighter limits (depth 4, 64 values, or a size
 *    one byte short) succeeds with the same tree or fails with too-deep or
 *    too-large, and never accepts what the defaults refuse;
 *  - the writer makes a valid JSON string of any bytes (ill-formed UTF-8
 *    becomes U+FFFD), the same bytes back when they are valid UTF-8;
 *  - famrt_json_quote() stays inside its buffer for every size.
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "utf8.h"

static bool valid_utf8(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		int r = famrt_utf8_check(p + i, n - i);

		if (r <= 0)
			return false;
		i += (size_t)r;
	}
	return true;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Does s[0..n) follow the JSON number grammar? Sets the kind it has. */
static bool number_text(const char *s, size_t n, enum famrt_json_numkind *k,
			uint64_t *val)
{
	size_t i = 0;
	bool neg = false, frac = false, huge = false;
	uint64_t v = 0;

	if (i < n && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= n || !digit(s[i]))
		return false;
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && digit(s[i])) {
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'),
						   &v))
				huge = true;
			i++;
		}
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !digit(s[i]))
			return false;
		while (i < n && digit(s[i]))
			i++;
		frac = true;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !digit(s[i]))
			return false;
		while (i < n && digit(s[i]))
			i++;
		frac = true;
	}
	if (i != n)
		return false;
	*k = frac ? FAMRT_JSON_NUM_FRACTION :
	     neg  ? FAMRT_JSON_NUM_NEGATIVE :
	     huge ? FAMRT_JSON_NUM_HUGE :
		    FAMRT_JSON_NUM_U64;
	*val = v;
	return true;
}

/* Check one value and its subtree; note whether a key holds a NUL. */
static void check_value(const struct famrt_json_value *v, bool in_obj,
			uint32_t depth, bool *nul_key)
{
	FUZZ_CHECK(depth <= FAMRT_JSON_DEFAULT_MAX_DEPTH + 1);
	FUZZ_CHECK(v->line >= 1 && v->col >= 1);
	FUZZ_CHECK(in_obj == (v->key != NULL));
	if (in_obj) {
		FUZZ_CHECK(v->key[v->key_len] == '\0');
		FUZZ_CHECK(valid_utf8((const uint8_t *)v->key, v->key_len));
		FUZZ_CHECK(v->key_line >= 1 && v->key_col >= 1);
		if (memchr(v->key, 0, v->key_len))
			*nul_key = true;
	}
	switch (v->type) {
	case FAMRT_JSON_STRING:
		FUZZ_CHECK(v->str && v->str[v->len] == '\0');
		FUZZ_CHECK(valid_utf8((const uint8_t *)v->str, v->len));
		break;
	case FAMRT_JSON_NUMBER: {
		enum famrt_json_numkind k;
		uint64_t val, got = 0;
		int rc;

		FUZZ_CHECK(v->str && v->str[v->len] == '\0');
		FUZZ_CHECK(number_text(v->str, v->len, &k, &val));
		FUZZ_CHECK(k == v->numkind);
		rc = famrt_json_get_u64(v, &got);
		if (k == FAMRT_JSON_NUM_U64) {
			FUZZ_CHECK(v->u64 == val);
			FUZZ_CHECK(rc == 0 && got == val);
		} else {
			FUZZ_CHECK(rc == (k == FAMRT_JSON_NUM_FRACTION ?
						  -EINVAL :
						  -ERANGE));
		}
		break;
	}
	case FAMRT_JSON_ARRAY:
	case FAMRT_JSON_OBJECT: {
		uint32_t n = 0;
		bool obj = v->type == FAMRT_JSON_OBJECT;

		FUZZ_CHECK(depth < FAMRT_JSON_DEFAULT_MAX_DEPTH + 1);
		for (const struct famrt_json_value *c = v->child; c;
		     c = c->next) {
			check_value(c, obj, depth + 1, nul_key);
			/* Keys are unique, so get() finds this very member. */
			if (obj && !memchr(c->key, 0, c->key_len))
				FUZZ_CHECK(famrt_json_get(v, c->key) == c);
			n++;
		}
		FUZZ_CHECK(n == v->count);
		FUZZ_CHECK((n == 0) == (v->child == NULL));
		break;
	}
	case FAMRT_JSON_NULL:
	case FAMRT_JSON_TRUE:
	case FAMRT_JSON_FALSE:
		FUZZ_CHECK(famrt_json_get_u64(v, &(uint64_t){ 0 }) == -EINVAL);
		break;
	default:
		FUZZ_CHECK(0 && "unknown value type");
	}
	if (v->type != FAMRT_JSON_OBJECT)
		FUZZ_CHECK(famrt_json_get(v, "") == NULL);
	FUZZ_CHECK(strcmp(famrt_json_type_name(v->type), "unknown"));
}

/* Same tree? With as_written, a non-u64 number in a must be null in b. */
static bool same(const struct famrt_json_value *a,
		 const struct famrt_json_value *b, bool as_written)
{
	enum famrt_json_type ta = a->type;

	if (as_written && ta == FAMRT_JSON_NUMBER &&
	    a->numkind != FAMRT_JSON_NUM_U64)
		ta = FAMRT_JSON_NULL;
	if (ta != b->type || (a->key == NULL) != (b->key == NULL))
		return false;
	if (a->key && (a->key_len != b->key_len ||
		       memcmp(a->key, b->key, a->key_len)))
		return false;
	switch (ta) {
	case FAMRT_JSON_STRING:
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	case FAMRT_JSON_NUMBER:
		if (as_written)
			return b->numkind == FAMRT_JSON_NUM_U64 &&
			       a->u64 == b->u64;
		return a->numkind == b->numkind && a->len == b->len &&
		       !memcmp(a->str, b->str, a->len) && a->u64 == b->u64;
	case FAMRT_JSON_ARRAY:
	case FAMRT_JSON_OBJECT: {
		const struct famrt_json_value *x = a->child, *y = b->child;

		if (a->count != b->count)
			return false;
		for (; x && y; x = x->next, y = y->next)
			if (!same(x, y, as_written))
				return false;
		return !x && !y;
	}
	default:
		return true;
	}
}

static void emit(struct famrt_jw *w, const struct famrt_json_value *v)
{
	const char *k = v->key;

	switch (v->type) {
	case FAMRT_JSON_OBJECT:
	case FAMRT_JSON_ARRAY:
		if (v->type == FAMRT_JSON_OBJECT)
			famrt_jw_obj_begin(w, k);
		else
			famrt_jw_arr_begin(w, k);
		for (const struct famrt_json_value *c = v->child; c;
		     c = c->next)
			emit(w, c);
		if (v->type == FAMRT_JSON_OBJECT)
			famrt_jw_obj_end(w);
		else
			famrt_jw_arr_end(w);
		break;
	case FAMRT_JSON_STRING:
		famrt_jw_strn(w, k, v->str, v->len);
		break;
	case FAMRT_JSON_NUMBER:
		if (v->numkind == FAMRT_JSON_NUM_U64)
			famrt_jw_u64(w, k, v->u64);
		else
			famrt_jw_null(w, k);
		break;
	case FAMRT_JSON_TRUE:
	case FAMRT_JSON_FALSE:
		famrt_jw_bool(w, k, v->type == FAMRT_JSON_TRUE);
		break;
	default:
		famrt_jw_null(w, k);
	}
}

/* Write root with the writer, parse it back, compare. */
static void round_trip(const struct famrt_json_value *root, bool pretty)
{
	struct famrt_json_doc *doc;
	struct famrt_json_error err;
	struct famrt_jw w;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	FUZZ_CHECK(f);
	famrt_jw_init(&w, f, pretty);
	emit(&w, root);
	FUZZ_CHECK(famrt_jw_finish(&w) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(valid_utf8((const uint8_t *)out, len));
	if (famrt_json_parse(out, len, NULL, &doc, &err)) {
		fprintf(stderr, "writer output refused: %s\n%.*s\n",
			err.message, (int)len, out);
		FUZZ_CHECK(0 && "the writer's output parses");
	}
	FUZZ_CHECK(same(root, famrt_json_root(doc), true));
	famrt_json_free(doc);
	free(out);
}

static void check_error(int rc, const struct famrt_json_error *e, size_t len)
{
	FUZZ_CHECK(e->code > FAMRT_JSON_OK && e->code < FAMRT_JSON_E_COUNT_);
	FUZZ_CHECK(strcmp(famrt_json_errcode_name(e->code), "unknown"));
	FUZZ_CHECK(e->line >= 1 && e->col >= 1);
	FUZZ_CHECK(e->message[0] != '\0');
	FUZZ_CHECK(memchr(e->message, 0, sizeof(e->message)));
	FUZZ_CHECK(e->offset <= len);
	switch (e->code) {
	case FAMRT_JSON_E_NOMEM:
		FUZZ_CHECK(rc == -ENOMEM);
		break;
	case FAMRT_JSON_E_TOO_LARGE:
	case FAMRT_JSON_E_DEPTH:
		FUZZ_CHECK(rc == -E2BIG);
		break;
	default:
		FUZZ_CHECK(rc == -EINVAL);
	}
}

/* Parse under tighter limits and compare with the default outcome. */
static void tighter(const char *in, size_t len, const struct famrt_json_opts *o,
		    const struct famrt_json_value *full)
{
	struct famrt_json_doc *doc = NULL;
	struct famrt_json_error err;
	int rc = famrt_json_parse(in, len, o, &doc, &err);

	if (rc == 0) {
		FUZZ_CHECK(full && same(full, famrt_json_root(doc), false));
		famrt_json_free(doc);
		return;
	}
	FUZZ_CHECK(doc == NULL);
	check_error(rc, &err, len);
	if (full)
		FUZZ_CHECK(err.code == FAMRT_JSON_E_DEPTH ||
			   err.code == FAMRT_JSON_E_TOO_LARGE);
}

/* The input as one string value: the writer must make valid JSON of it. */
static void write_bytes(const uint8_t *data, size_t size)
{
	struct famrt_json_doc *doc;
	struct famrt_json_error err;
	const struct famrt_json_value *v;
	struct famrt_jw w;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	FUZZ_CHECK(f);
	famrt_jw_init(&w, f, false);
	famrt_jw_strn(&w, NULL, (const char *)data, size);
	FUZZ_CHECK(famrt_jw_finish(&w) == 0);
	FUZZ_CHECK(fclose(f) == 0);
	FUZZ_CHECK(famrt_json_parse(out, len, NULL, &doc, &err) == 0);
	v = famrt_json_root(doc);
	FUZZ_CHECK(v->type == FAMRT_JSON_STRING);
	if (valid_utf8(data, size))
		FUZZ_CHECK(v->len == size && !memcmp(v->str, data, size));
	famrt_json_free(doc);
	free(out);
}

static void quote(const uint8_t *data, size_t size)
{
	static const size_t lens[] = { 0, 1, 7, 8, 9, 16, 48, 200 };
	char buf[200 + 16];

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(buf, 'Z', sizeof(buf));
		famrt_json_quote((const char *)data, size, buf, lens[i]);
		if (lens[i])
			FUZZ_CHECK(memchr(buf, 0, lens[i]));
		FUZZ_CHECK(buf[lens[i]] == 'Z');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct famrt_json_opts tight = { .size = sizeof(tight), .max_depth = 4,
					 .max_values = 64 };
	struct famrt_json_opts short_by_one = { .size = sizeof(short_by_one) };
	const struct famrt_json_value *root = NULL;
	struct famrt_json_doc *doc = NULL, *doc2 = NULL;
	struct famrt_json_error err;
	bool nul_key = false;
	int rc;

	rc = famrt_json_parse(in, size, NULL, &doc, &err);
	if (rc) {
		FUZZ_CHECK(doc == NULL);
		check_error(rc, &err, size);
	} else {
		root = famrt_json_root(doc);
		FUZZ_CHECK(root && root->key == NULL && root->next == NULL);
		check_value(root, false, 1, &nul_key);
		/* The writer takes keys as C strings: skip keys with NULs. */
		if (!nul_key) {
			round_trip(root, false);
			round_trip(root, true);
		}
	}
	tighter(in, size, &tight, root);
	if (size > 1) {
		short_by_one.max_size = size - 1;
		rc = famrt_json_parse(in, size, &short_by_one, &doc2, &err);
		FUZZ_CHECK(rc == -E2BIG && doc2 == NULL &&
			   err.code == FAMRT_JSON_E_TOO_LARGE);
	}
	famrt_json_free(doc);
	write_bytes(data, size);
	quote(data, size);
	return 0;
}
