/* SPDX-License-Identifier: Apache-2.0 */
/* The tools' JSON parser and writer (tools/util/json.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static struct famrt_json_doc *parse_ok(const char *s, size_t n)
{
	struct famrt_json_doc *doc = NULL;
	struct famrt_json_error e;
	int rc = famrt_json_parse(s, n, NULL, &doc, &e);

	if (rc)
		fail_msg("parse of [%.*s] failed: %s", (int)n, s, e.message);
	assert_non_null(doc);
	return doc;
}

#define PARSE_OK(lit) parse_ok(lit, sizeof(lit) - 1)

static void test_values(void **state)
{
	static const char in[] =
		"{\n"
		"  \"n\": null, \"t\": true, \"f\": false,\n"
		"  \"max\": 18446744073709551615,\n"
		"  \"odd\": 9007199254740993,\n"
		"  \"zero\": 0,\n"
		"  \"s\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\",\n"
		"  \"nul\": \"a\\u0000b\",\n"
		"  \"raw\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\n"
		"  \"a\": [1, [], {}, [[2]]],\n"
		"  \"\": \"empty key\"\n"
		"}";
	struct famrt_json_doc *doc = PARSE_OK(in);
	const struct famrt_json_value *r = famrt_json_root(doc), *v, *a;
	uint64_t u;

	(void)state;
	assert_int_equal(r->type, FAMRT_JSON_OBJECT);
	assert_int_equal(r->count, 11);
	assert_int_equal(famrt_json_get(r, "n")->type, FAMRT_JSON_NULL);
	assert_int_equal(famrt_json_get(r, "t")->type, FAMRT_JSON_TRUE);
	assert_int_equal(famrt_json_get(r, "f")->type, FAMRT_JSON_FALSE);
	/* Exact u64 values, including ones a double cannot hold. */
	assert_int_equal(famrt_json_get_u64(famrt_json_get(r, "max"), &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(famrt_json_get_u64(famrt_json_get(r, "odd"), &u), 0);
	assert_true(u == 9007199254740993ull);
	assert_int_equal(famrt_json_get_u64(famrt_json_get(r, "zero"), &u), 0);
	assert_true(u == 0);
	v = famrt_json_get(r, "s");
	assert_int_equal(v->type, FAMRT_JSON_STRING);
	assert_int_equal(v->len, 15);
	assert_memory_equal(v->str,
			    "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80", 16);
	v = famrt_json_get(r, "nul");
	assert_int_equal(v->len, 3);
	assert_memory_equal(v->str, "a\0b", 4);
	v = famrt_json_get(r, "raw");
	assert_int_equal(v->len, 9);
	a = famrt_json_get(r, "a");
	assert_int_equal(a->type, FAMRT_JSON_ARRAY);
	assert_int_equal(a->count, 4);
	assert_int_equal(a->child->type, FAMRT_JSON_NUMBER);
	assert_null(a->child->key);
	assert_int_equal(a->child->next->type, FAMRT_JSON_ARRAY);
	assert_int_equal(a->child->next->count, 0);
	assert_null(a->child->next->child);
	assert_int_equal(a->child->next->next->type, FAMRT_JSON_OBJECT);
	v = a->child->next->next->next;
	assert_int_equal(v->child->child->u64, 2);
	assert_null(v->next);
	assert_string_equal(famrt_json_get(r, "")->str, "empty key");
	/* Positions. */
	v = famrt_json_get(r, "max");
	assert_int_equal(v->line, 3);
	assert_int_equal(v->col, 10);
	assert_int_equal(v->key_line, 3);
	assert_int_equal(v->key_col, 3);
	assert_null(famrt_json_get(r, "missing"));
	assert_null(famrt_json_get(a, "n"));
	famrt_json_free(doc);
}

static void test_scalars_at_top(void **state)
{
	struct famrt_json_doc *d;
	uint64_t u;

	(void)state;
	d = PARSE_OK(" 42 ");
	assert_int_equal(famrt_json_get_u64(famrt_json_root(d), &u), 0);
	assert_int_equal(u, 42);
	famrt_json_free(d);
	d = PARSE_OK("\"s\"");
	assert_string_equal(famrt_json_root(d)->str, "s");
	famrt_json_free(d);
	d = PARSE_OK("null");
	assert_int_equal(famrt_json_root(d)->type, FAMRT_JSON_NULL);
	famrt_json_free(d);
}

static void test_number_kinds(void **state)
{
	static const struct {
		const char *in;
		enum famrt_json_numkind kind;
		int rc;
	} cases[] = {
		{ "0", FAMRT_JSON_NUM_U64, 0 },
		{ "-1", FAMRT_JSON_NUM_NEGATIVE, -ERANGE },
		{ "-0", FAMRT_JSON_NUM_NEGATIVE, -ERANGE },
		{ "1.5", FAMRT_JSON_NUM_FRACTION, -EINVAL },
		{ "1.0", FAMRT_JSON_NUM_FRACTION, -EINVAL },
		{ "1e3", FAMRT_JSON_NUM_FRACTION, -EINVAL },
		{ "2E+2", FAMRT_JSON_NUM_FRACTION, -EINVAL },
		{ "-1.5e-7", FAMRT_JSON_NUM_FRACTION, -EINVAL },
		{ "18446744073709551616", FAMRT_JSON_NUM_HUGE, -ERANGE },
		{ "99999999999999999999999999999999999", FAMRT_JSON_NUM_HUGE,
		  -ERANGE },
		{ "-99999999999999999999999", FAMRT_JSON_NUM_NEGATIVE, -ERANGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct famrt_json_doc *d = parse_ok(cases[i].in,
						    strlen(cases[i].in));
		const struct famrt_json_value *v = famrt_json_root(d);
		uint64_t u = 77;

		assert_int_equal(v->type, FAMRT_JSON_NUMBER);
		assert_int_equal(v->numkind, cases[i].kind);
		assert_string_equal(v->str, cases[i].in);
		assert_int_equal(famrt_json_get_u64(v, &u), cases[i].rc);
		if (cases[i].rc)
			assert_int_equal(u, 77);
		famrt_json_free(d);
	}
	{
		struct famrt_json_doc *d = PARSE_OK("\"5\"");

		assert_int_equal(famrt_json_get_u64(famrt_json_root(d), NULL),
				 -EINVAL);
		famrt_json_free(d);
	}
}

struct bad {
	const char *in;
	size_t len; /* 0: strlen */
	enum famrt_json_errcode code;
	uint32_t line, col;
};

static const struct bad bads[] = {
	/* empty */
	{ "", 0, FAMRT_JSON_E_EMPTY, 1, 1 },
	{ " \n\t ", 0, FAMRT_JSON_E_EMPTY, 2, 3 },
	/* truncated */
	{ "{", 0, FAMRT_JSON_E_TRUNCATED, 1, 2 },
	{ "[1,", 0, FAMRT_JSON_E_TRUNCATED, 1, 4 },
	{ "[1", 0, FAMRT_JSON_E_TRUNCATED, 1, 3 },
	{ "\"abc", 0, FAMRT_JSON_E_TRUNCATED, 1, 5 },
	{ "{\"a\"", 0, FAMRT_JSON_E_TRUNCATED, 1, 5 },
	{ "{\"a\":", 0, FAMRT_JSON_E_TRUNCATED, 1, 6 },
	{ "{\"a\":1", 0, FAMRT_JSON_E_TRUNCATED, 1, 7 },
	{ "{\"a\":1,", 0, FAMRT_JSON_E_TRUNCATED, 1, 8 },
	{ "tru", 0, FAMRT_JSON_E_TRUNCATED, 1, 4 },
	{ "-", 0, FAMRT_JSON_E_TRUNCATED, 1, 2 },
	{ "1.", 0, FAMRT_JSON_E_TRUNCATED, 1, 3 },
	{ "1e", 0, FAMRT_JSON_E_TRUNCATED, 1, 3 },
	{ "1e+", 0, FAMRT_JSON_E_TRUNCATED, 1, 4 },
	{ "\"\\", 0, FAMRT_JSON_E_TRUNCATED, 1, 2 },
	{ "\"\\u12", 0, FAMRT_JSON_E_TRUNCATED, 1, 2 },
	{ "\"\\ud800", 0, FAMRT_JSON_E_TRUNCATED, 1, 8 },
	{ "\"\\ud800\\", 0, FAMRT_JSON_E_TRUNCATED, 1, 8 },
	{ "\"\\ud800\\udc", 0, FAMRT_JSON_E_TRUNCATED, 1, 8 },
	{ "\"\xe2\x82", 0, FAMRT_JSON_E_TRUNCATED, 1, 2 },
	/* bad escapes */
	{ "\"\\x\"", 0, FAMRT_JSON_E_ESCAPE, 1, 2 },
	{ "\"ab\\U0041\"", 0, FAMRT_JSON_E_ESCAPE, 1, 4 },
	{ "\"\\u12G4\"", 0, FAMRT_JSON_E_ESCAPE, 1, 2 },
	{ "\"\\u12\"", 0, FAMRT_JSON_E_ESCAPE, 1, 2 },
	{ "\"\\'\"", 0, FAMRT_JSON_E_ESCAPE, 1, 2 },
	{ "\"\\ud800\\uzzzz\"", 0, FAMRT_JSON_E_ESCAPE, 1, 8 },
	/* surrogates */
	{ "\"\\udc00\"", 0, FAMRT_JSON_E_SURROGATE, 1, 2 },
	{ "\"\\ud800x\"", 0, FAMRT_JSON_E_SURROGATE, 1, 2 },
	{ "\"\\ud800\\u0041\"", 0, FAMRT_JSON_E_SURROGATE, 1, 8 },
	{ "\"\\ud800\\ud800\"", 0, FAMRT_JSON_E_SURROGATE, 1, 8 },
	/* raw control characters */
	{ "\"a\tb\"", 0, FAMRT_JSON_E_CONTROL, 1, 3 },
	{ "[\"\n\"]", 0, FAMRT_JSON_E_CONTROL, 1, 3 },
	{ "\"\0\"", 3, FAMRT_JSON_E_CONTROL, 1, 2 },
	/* UTF-8 */
	{ "\"\xff\"", 0, FAMRT_JSON_E_UTF8, 1, 2 },
	{ "\"\x80\"", 0, FAMRT_JSON_E_UTF8, 1, 2 },
	{ "\"\xc0\xaf\"", 0, FAMRT_JSON_E_UTF8, 1, 2 },
	{ "\"\xe0\x80\xaf\"", 0, FAMRT_JSON_E_UTF8, 1, 2 },
	{ "\"\xed\xa0\x80\"", 0, FAMRT_JSON_E_UTF8, 1, 2 },
	{ "\"\xf4\x90\x80\x80\"", 0, FAMRT_JSON_E_UTF8, 1, 2 },
	{ "\"ok\xc3(\"", 0, FAMRT_JSON_E_UTF8, 1, 4 },
	/* numbers */
	{ "01", 0, FAMRT_JSON_E_NUMBER, 1, 1 },
	{ "-01", 0, FAMRT_JSON_E_NUMBER, 1, 1 },
	{ "-a", 0, FAMRT_JSON_E_NUMBER, 1, 2 },
	{ "1.e5", 0, FAMRT_JSON_E_NUMBER, 1, 3 },
	{ "1ea", 0, FAMRT_JSON_E_NUMBER, 1, 3 },
	{ ".5", 0, FAMRT_JSON_E_UNEXPECTED, 1, 1 },
	{ "+1", 0, FAMRT_JSON_E_UNEXPECTED, 1, 1 },
	{ "[0x10]", 0, FAMRT_JSON_E_UNEXPECTED, 1, 3 },
	{ "NaN", 0, FAMRT_JSON_E_UNEXPECTED, 1, 1 },
	/* literals */
	{ "nulL", 0, FAMRT_JSON_E_LITERAL, 1, 1 },
	{ "[fals e]", 0, FAMRT_JSON_E_LITERAL, 1, 2 },
	{ "True", 0, FAMRT_JSON_E_UNEXPECTED, 1, 1 },
	/* structure */
	{ "[1 2]", 0, FAMRT_JSON_E_UNEXPECTED, 1, 4 },
	{ "[1,]", 0, FAMRT_JSON_E_UNEXPECTED, 1, 4 },
	{ "{\"a\":1,}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 8 },
	{ "{a:1}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 2 },
	{ "{\"a\" 1}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 6 },
	{ "{\"a\":1 \"b\":2}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 8 },
	{ "[}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 2 },
	{ "{]", 0, FAMRT_JSON_E_UNEXPECTED, 1, 2 },
	{ "[1}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 3 },
	{ "\xef\xbb\xbf{}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 1 },
	{ "[\0]", 3, FAMRT_JSON_E_UNEXPECTED, 1, 2 },
	{ "// c\n{}", 0, FAMRT_JSON_E_UNEXPECTED, 1, 1 },
	/* trailing garbage */
	{ "{} x", 0, FAMRT_JSON_E_TRAILING, 1, 4 },
	{ "1 2", 0, FAMRT_JSON_E_TRAILING, 1, 3 },
	{ "[]]", 0, FAMRT_JSON_E_TRAILING, 1, 3 },
	{ "{}\0", 3, FAMRT_JSON_E_TRAILING, 1, 3 },
	{ "{}\n\n  ,", 0, FAMRT_JSON_E_TRAILING, 3, 3 },
	{ "truex", 0, FAMRT_JSON_E_TRAILING, 1, 5 },
	/* duplicate keys: reported at the second one */
	{ "{\"a\":1,\"b\":2,\n \"a\":3}", 0, FAMRT_JSON_E_DUPLICATE, 2, 2 },
	{ "[{\"x\":{\"k\":1,\"k\":1}}]", 0, FAMRT_JSON_E_DUPLICATE, 1, 14 },
	{ "{\"\\u0061\":1,\"a\":2}", 0, FAMRT_JSON_E_DUPLICATE, 1, 13 },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		size_t n = b->len ? b->len : strlen(b->in);
		struct famrt_json_doc *doc = (void *)1;
		struct famrt_json_error e;
		int rc = famrt_json_parse(b->in, n, NULL, &doc, &e);

		if (rc != -EINVAL || e.code != b->code || e.line != b->line ||
		    e.col != b->col)
			fail_msg("case %zu [%.*s]: rc %d code %s at %u:%u (%s); "
				 "want %s at %u:%u",
				 i, (int)n, b->in, rc,
				 famrt_json_errcode_name(e.code), e.line, e.col,
				 e.message, famrt_json_errcode_name(b->code),
				 b->line, b->col);
		assert_null(doc);
		/* The message starts with the same position. */
		{
			char pos[40];

			snprintf(pos, sizeof(pos), "line %u column %u: ",
				 b->line, b->col);
			assert_true(!strncmp(e.message, pos, strlen(pos)));
		}
	}
}

static void test_duplicate_detail(void **state)
{
	static const char in[] = "{\"size\": 1,\n  \"size\": 2}";
	struct famrt_json_doc *doc;
	struct famrt_json_error e;

	(void)state;
	assert_int_equal(famrt_json_parse(in, sizeof(in) - 1, NULL, &doc, &e),
			 -EINVAL);
	assert_string_equal(e.message,
			    "line 2 column 3: duplicate key \"size\" (first at "
			    "line 1 column 2)");
	/* Keys that differ only after a NUL, or by a NUL, are different. */
	doc = PARSE_OK("{\"a\\u0000b\":1,\"a\\u0000c\":2,\"a\":3,"
		       "\"a\\u0000\":4}");
	assert_int_equal(famrt_json_root(doc)->count, 4);
	famrt_json_free(doc);
}

static void test_many_keys(void **state)
{
	size_t n = 50000, cap = n * 16 + 16, k = 0;
	char *b = malloc(cap);
	struct famrt_json_doc *doc;
	struct famrt_json_error e;

	(void)state;
	assert_non_null(b);
	b[k++] = '{';
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(b + k, cap - k, "%s\"k%zu\":%zu",
				      i ? "," : "", i, i);
	b[k++] = '}';
	doc = parse_ok(b, k);
	assert_int_equal(famrt_json_root(doc)->count, n);
	assert_int_equal(famrt_json_get(famrt_json_root(doc), "k49999")->u64,
			 49999);
	famrt_json_free(doc);
	/* The same with the first key repeated at the very end. */
	k--;
	k += (size_t)snprintf(b + k, cap - k, ",\"k0\":1}");
	assert_int_equal(famrt_json_parse(b, k, NULL, &doc, &e), -EINVAL);
	assert_int_equal(e.code, FAMRT_JSON_E_DUPLICATE);
	free(b);
}

static char *nest(size_t depth, size_t *len)
{
	char *b = malloc(2 * depth + 1);

	assert_non_null(b);
	memset(b, '[', depth);
	memset(b + depth, ']', depth);
	*len = 2 * depth;
	return b;
}

static void test_depth(void **state)
{
	struct famrt_json_opts o = { .size = sizeof(o) };
	struct famrt_json_doc *doc;
	struct famrt_json_error e;
	size_t n;
	char *b;

	(void)state;
	b = nest(FAMRT_JSON_DEFAULT_MAX_DEPTH, &n);
	doc = parse_ok(b, n);
	famrt_json_free(doc);
	free(b);
	b = nest(FAMRT_JSON_DEFAULT_MAX_DEPTH + 1, &n);
	assert_int_equal(famrt_json_parse(b, n, NULL, &doc, &e), -E2BIG);
	assert_int_equal(e.code, FAMRT_JSON_E_DEPTH);
	assert_int_equal(e.col, FAMRT_JSON_DEFAULT_MAX_DEPTH + 1);
	free(b);
	/* Far deeper than any stack would take if it recursed. */
	b = nest(1000000, &n);
	assert_int_equal(famrt_json_parse(b, n, NULL, &doc, &e), -E2BIG);
	assert_int_equal(e.code, FAMRT_JSON_E_DEPTH);
	o.max_depth = 4096;
	o.max_size = 4u << 20;
	assert_int_equal(famrt_json_parse(b, n, &o, &doc, &e), -E2BIG);
	assert_int_equal(e.code, FAMRT_JSON_E_DEPTH);
	assert_int_equal(e.col, 4097);
	free(b);
	/* A limit of 2 takes {"a":[]} but not {"a":[[]]}. */
	o.max_depth = 2;
	assert_int_equal(famrt_json_parse("{\"a\":[]}", 8, &o, &doc, &e), 0);
	famrt_json_free(doc);
	assert_int_equal(famrt_json_parse("{\"a\":[[]]}", 10, &o, &doc, &e),
			 -E2BIG);
	assert_int_equal(e.code, FAMRT_JSON_E_DEPTH);
}

static void test_size_limit(void **state)
{
	struct famrt_json_opts o = { .size = sizeof(o), .max_size = 10 };
	struct famrt_json_doc *doc;
	struct famrt_json_error e;

	(void)state;
	assert_int_equal(famrt_json_parse("[1,2,3,45]", 10, &o, &doc, &e), 0);
	famrt_json_free(doc);
	assert_int_equal(famrt_json_parse("[1,2,3,456]", 11, &o, &doc, &e),
			 -E2BIG);
	assert_int_equal(e.code, FAMRT_JSON_E_TOO_LARGE);
	assert_null(doc);
	/* Bad options. */
	o.max_size = (size_t)FAMRT_JSON_MAX_MAX_SIZE + 1;
	assert_int_equal(famrt_json_parse("1", 1, &o, &doc, &e), -EINVAL);
	assert_int_equal(e.code, FAMRT_JSON_E_ARG);
	o.max_size = 0;
	o.size = 4;
	assert_int_equal(famrt_json_parse("1", 1, &o, &doc, &e), -EINVAL);
	assert_int_equal(e.code, FAMRT_JSON_E_ARG);
	assert_int_equal(famrt_json_parse(NULL, 1, NULL, &doc, &e), -EINVAL);
	assert_int_equal(famrt_json_parse("1", 1, NULL, NULL, NULL), -EINVAL);
}

/* A flat array of n one-digit numbers. */
static char *flat(size_t n, size_t *len)
{
	char *b = malloc(2 * n + 1);

	assert_non_null(b);
	b[0] = '[';
	for (size_t i = 0; i < n; i++) {
		b[1 + 2 * i] = (char)('0' + i % 10);
		b[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	*len = 2 * n + 1;
	return b;
}

/* Many values: linear work, and a bound on their number (memory). */
static void test_big_array(void **state)
{
	size_t n = FAMRT_JSON_DEFAULT_MAX_VALUES - 1, len, k = 0;
	char *b = flat(n, &len);
	struct famrt_json_opts o = { .size = sizeof(o),
				     .max_values = 2000000 };
	struct famrt_json_doc *doc;
	struct famrt_json_error e;

	(void)state;
	/* The array and its elements: exactly the default limit. */
	doc = parse_ok(b, len);
	assert_int_equal(famrt_json_root(doc)->count, n);
	for (const struct famrt_json_value *v = famrt_json_root(doc)->child; v;
	     v = v->next, k++)
		assert_int_equal(v->u64, k % 10);
	assert_int_equal(k, n);
	famrt_json_free(doc);
	free(b);
	/* One more is refused, unless the caller raises the limit. */
	b = flat(n + 1, &len);
	assert_int_equal(famrt_json_parse(b, len, NULL, &doc, &e), -E2BIG);
	assert_int_equal(e.code, FAMRT_JSON_E_TOO_LARGE);
	assert_null(doc);
	assert_non_null(strstr(e.message, "more than 1000000 values"));
	assert_int_equal(famrt_json_parse(b, len, &o, &doc, &e), 0);
	assert_int_equal(famrt_json_root(doc)->count, n + 1);
	famrt_json_free(doc);
	free(b);
}

static void test_quote(void **state)
{
	char out[16];

	(void)state;
	assert_string_equal(famrt_json_quote("ab", 2, out, sizeof(out)),
			    "\"ab\"");
	assert_string_equal(famrt_json_quote("a\"\n\\", 4, out, sizeof(out)),
			    "\"a\\\"\\x0a\\\\\"");
	assert_string_equal(famrt_json_quote("abcdefghijklmnop", 16, out,
					     sizeof(out)),
			    "\"abcdefghij...\"");
	assert_true(strlen(out) < sizeof(out));
}

/* ---- the writer ---- */

static char *written(void (*build)(struct famrt_jw *), bool pretty, int *rc)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);
	struct famrt_jw w;

	assert_non_null(f);
	famrt_jw_init(&w, f, pretty);
	build(&w);
	*rc = famrt_jw_finish(&w);
	fclose(f);
	return p;
}

static void build_doc(struct famrt_jw *w)
{
	famrt_jw_obj_begin(w, NULL);
	famrt_jw_u64(w, "max", UINT64_MAX);
	famrt_jw_str(w, "s", "q\"b\\c\n\t\x01\x7f");
	famrt_jw_arr_begin(w, "empty");
	famrt_jw_arr_end(w);
	famrt_jw_obj_begin(w, "eo");
	famrt_jw_obj_end(w);
	famrt_jw_arr_begin(w, "list");
	famrt_jw_u64(w, NULL, 0);
	famrt_jw_bool(w, NULL, true);
	famrt_jw_bool(w, NULL, false);
	famrt_jw_null(w, NULL);
	famrt_jw_arr_end(w);
	famrt_jw_obj_end(w);
}

static void test_writer_output(void **state)
{
	int rc;
	char *s;

	(void)state;
	s = written(build_doc, false, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "{\"max\":18446744073709551615,"
			       "\"s\":\"q\\\"b\\\\c\\n\\t\\u0001\x7f\","
			       "\"empty\":[],\"eo\":{},"
			       "\"list\":[0,true,false,null]}\n");
	free(s);
	s = written(build_doc, true, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "{\n"
			       "  \"max\": 18446744073709551615,\n"
			       "  \"s\": \"q\\\"b\\\\c\\n\\t\\u0001\x7f\",\n"
			       "  \"empty\": [],\n"
			       "  \"eo\": {},\n"
			       "  \"list\": [\n"
			       "    0,\n"
			       "    true,\n"
			       "    false,\n"
			       "    null\n"
			       "  ]\n"
			       "}\n");
	free(s);
}

static void build_utf8(struct famrt_jw *w)
{
	famrt_jw_arr_begin(w, NULL);
	famrt_jw_str(w, NULL, "\xc3\xa9\xf0\x9f\x98\x80");  /* valid */
	famrt_jw_str(w, NULL, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80"); /* not */
	famrt_jw_strn(w, NULL, "x\0y", 3);
	famrt_jw_str(w, NULL, "\xe2\x82"); /* cut off at the end */
	famrt_jw_arr_end(w);
}

static void test_writer_utf8(void **state)
{
	int rc;
	char *s = written(build_utf8, false, &rc);
	struct famrt_json_doc *doc;
	const struct famrt_json_value *v;

	(void)state;
	assert_int_equal(rc, 0);
	assert_string_equal(s, "[\"\xc3\xa9\xf0\x9f\x98\x80\","
			       "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffd\","
			       "\"x\\u0000y\",\"\\ufffd\\ufffd\"]\n");
	/* Whatever it writes, the parser takes back. */
	doc = parse_ok(s, strlen(s));
	v = famrt_json_root(doc)->child->next->next;
	assert_int_equal(v->len, 3);
	assert_memory_equal(v->str, "x\0y", 3);
	famrt_json_free(doc);
	free(s);
}

static void misuse_key_in_array(struct famrt_jw *w)
{
	famrt_jw_arr_begin(w, NULL);
	famrt_jw_u64(w, "k", 1);
	famrt_jw_arr_end(w);
}

static void misuse_no_key(struct famrt_jw *w)
{
	famrt_jw_obj_begin(w, NULL);
	famrt_jw_u64(w, NULL, 1);
	famrt_jw_obj_end(w);
}

static void misuse_unbalanced(struct famrt_jw *w)
{
	famrt_jw_obj_begin(w, NULL);
}

static void misuse_wrong_end(struct famrt_jw *w)
{
	famrt_jw_obj_begin(w, NULL);
	famrt_jw_arr_end(w);
}

static void misuse_two_values(struct famrt_jw *w)
{
	famrt_jw_u64(w, NULL, 1);
	famrt_jw_u64(w, NULL, 2);
}

static void misuse_nothing(struct famrt_jw *w)
{
	(void)w;
}

static void misuse_too_deep(struct famrt_jw *w)
{
	for (int i = 0; i <= FAMRT_JW_MAX_DEPTH; i++)
		famrt_jw_arr_begin(w, NULL);
	for (int i = 0; i <= FAMRT_JW_MAX_DEPTH; i++)
		famrt_jw_arr_end(w);
}

static void misuse_key_at_top(struct famrt_jw *w)
{
	famrt_jw_u64(w, "k", 1);
}

static void test_writer_misuse(void **state)
{
	void (*const cases[])(struct famrt_jw *) = {
		misuse_key_in_array, misuse_no_key, misuse_unbalanced,
		misuse_wrong_end, misuse_two_values, misuse_nothing,
		misuse_too_deep, misuse_key_at_top,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		free(written(cases[i], i % 2, &rc));
		if (rc != -EINVAL)
			fail_msg("misuse case %zu: rc %d", i, rc);
	}
}

static void test_writer_io_error(void **state)
{
	FILE *f = fopen("/dev/full", "w");
	struct famrt_jw w;

	(void)state;
	if (!f)
		skip();
	famrt_jw_init(&w, f, true);
	build_doc(&w);
	assert_int_equal(famrt_jw_finish(&w), -ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_scalars_at_top),
		cmocka_unit_test(test_number_kinds),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_duplicate_detail),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_big_array),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_writer_output),
		cmocka_unit_test(test_writer_utf8),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_writer_io_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
