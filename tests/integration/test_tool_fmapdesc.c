/* SPDX-License-Identifier: Apache-2.0 */
/* fmap descriptions, text and JSON (tools/util/fmapdesc.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmapdesc.h"

#define MiB (1024ull * 1024)

static struct famrt_fmap_desc d;

static void parse_ok(const char *s)
{
	struct famrt_fmapdesc_error e;
	int rc = famrt_fmapdesc_parse(s, strlen(s), &d, &e);

	if (rc)
		fail_msg("[%s]: %u:%u %s", s, e.line, e.col, e.message);
}

static void test_text(void **state)
{
	(void)state;
	parse_ok("# comment only line\r\n"
		 "\n"
		 "type log # trailing comment \xc3\xa9 any bytes\r\n"
		 "size 0x1800000\n"
		 "interleave nbytes=16M chunk=2MiB\n"
		 "\tstrip 0 0 8M\n"
		 "  strip 7 64M 8M\n"
		 "interleave chunk=4194304 nbytes=8M#no space before\n"
		 "strip 1 8M 4M\n"
		 "strip 0 8M 4M"); /* no final newline */
	assert_int_equal(d.file_type, 2);
	assert_int_equal(d.ext_type, FAMRT_FMAP_EXT_INTERLEAVE);
	assert_int_equal(d.file_size, 24 * MiB);
	assert_int_equal(d.nextents, 2);
	assert_int_equal(d.extents[0].nstrips, 2);
	assert_int_equal(d.extents[0].chunk_size, 2 * MiB);
	assert_int_equal(d.extents[0].nbytes, 16 * MiB);
	assert_int_equal(d.extents[0].strips[1].devindex, 7);
	assert_int_equal(d.extents[0].strips[1].offset, 64 * MiB);
	assert_int_equal(d.extents[0].strips[1].len, 8 * MiB);
	assert_int_equal(d.extents[1].chunk_size, 4 * MiB);
	assert_int_equal(d.extents[1].nbytes, 8 * MiB);
	assert_int_equal(d.extents[1].strips[0].devindex, 1);
	assert_int_equal(d.extents[1].strips[1].offset, 8 * MiB);

	parse_ok("size 10M\nsimple 3 4M 2M\nsimple 4294967295 0 6M\n");
	assert_int_equal(d.file_type, 0);
	assert_int_equal(d.ext_type, FAMRT_FMAP_EXT_SIMPLE);
	assert_int_equal(d.nextents, 2);
	assert_int_equal(d.extents[0].nstrips, 1);
	assert_int_equal(d.extents[0].nbytes, 2 * MiB);
	assert_int_equal(d.extents[0].chunk_size, 0);
	assert_int_equal(d.extents[0].strips[0].devindex, 3);
	assert_int_equal(d.extents[1].strips[0].devindex, UINT32_MAX);

	/* Syntax only: empty, odd and invalid maps parse. */
	parse_ok("size 0");
	assert_int_equal(d.nextents, 0);
	parse_ok("type 255\nsize 1\ninterleave chunk=0 nbytes=0\n");
	assert_int_equal(d.file_type, 255);
	assert_int_equal(d.extents[0].nstrips, 0);
}

static void test_limits(void **state)
{
	char buf[8192];
	size_t n = 0;
	struct famrt_fmapdesc_error e;

	(void)state;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "size 1G\n");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "simple 0 %dM 2M\n", 2 * i);
	parse_ok(buf);
	assert_int_equal(d.nextents, 32);
	snprintf(buf + n, sizeof(buf) - n, "simple 0 0 2M\n");
	assert_int_equal(famrt_fmapdesc_parse(buf, strlen(buf), &d, &e),
			 -EINVAL);
	assert_int_equal(e.line, 34);
	assert_int_equal(e.col, 1);
	assert_non_null(strstr(e.message, "more than 32 extents"));

	n = (size_t)snprintf(buf, sizeof(buf),
			     "size 1G\ninterleave chunk=2M nbytes=2M\n");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      " strip %d 0 2M\n", i);
	parse_ok(buf);
	assert_int_equal(d.extents[0].nstrips, 32);
	snprintf(buf + n, sizeof(buf) - n, " strip 0 0 2M\n");
	assert_int_equal(famrt_fmapdesc_parse(buf, strlen(buf), &d, &e),
			 -EINVAL);
	assert_int_equal(e.line, 35);
	assert_int_equal(e.col, 2);
	assert_non_null(strstr(e.message, "more than 32 strips"));
}

struct bad {
	const char *in;
	uint32_t line, col;
	const char *msg;
};

static const struct bad bad_text[] = {
	{ "size 10M\nsimple 0 0 4X\n", 2, 12, "length \"4X\" is not a size" },
	{ "size 10M\nsimple 0 0\n", 2, 1, "needs 3 values" },
	{ "size 10M\nsimple 0 0 2M 1\n", 2, 15, "unexpected \"1\"" },
	{ "size 10M\nfoo\n", 2, 1, "unknown directive \"foo\"" },
	{ "Size 10M\n", 1, 1, "unknown directive" },
	{ "size\n", 1, 1, "needs 1 values" },
	{ "size 1M\nsize 2M\n", 2, 1, "second 'size' line (the first is line 1)" },
	{ "type log\ntype log\nsize 0\n", 2, 1, "second 'type'" },
	{ "type folder\nsize 0\n", 1, 6, "unknown file type \"folder\"" },
	{ "type 256\nsize 0\n", 1, 6, "unknown file type" },
	{ "simple 0 0 2M\n", 0, 0, "no 'size' line" },
	{ "", 0, 0, "no 'size' line" },
	{ "size 4M\nstrip 0 0 2M\n", 2, 1, "must follow an 'interleave'" },
	{ "size 4M\nsimple 0 0 2M\nstrip 0 0 2M\n", 3, 1, "must follow" },
	{ "size 4M\nsimple 0 0 2M\ninterleave chunk=2M nbytes=2M\n", 3, 1,
	  "cannot be mixed (a simple extent is on line 2)" },
	{ "size 4M\ninterleave chunk=2M nbytes=2M\nsimple 0 0 2M\n", 3, 1,
	  "cannot be mixed (an interleaved extent is on line 2)" },
	{ "size 4M\ninterleave chunk=2M\n", 2, 1, "nbytes= missing" },
	{ "size 4M\ninterleave nbytes=2M\n", 2, 1, "chunk= missing" },
	{ "size 4M\ninterleave chunk=2M chunk=2M nbytes=1\n", 2, 21,
	  "chunk= given twice" },
	{ "size 4M\ninterleave chunk=4G nbytes=2M\n", 2, 18,
	  "chunk size \"4G\" is more than 4294967295" },
	{ "size 4M\ninterleave chunk= nbytes=2M\n", 2, 18, "chunk size \"\"" },
	{ "size 4M\ninterleave chunk=2M nbytes=2M stripes=2\n", 2, 31,
	  "unknown setting \"stripes\"" },
	{ "size 4M\ninterleave 2M\n", 2, 12, "expected chunk=BYTES" },
	{ "size 4M\nsimple 4294967296 0 2M\n", 2, 8, "devindex" },
	{ "size 4M\nsimple 0 -1 2M\n", 2, 10, "offset \"-1\"" },
	{ "size 18446744073709551616\n", 1, 6, "does not fit in 64 bits" },
	{ "size 4M\nsimple 0 0 2M \xc3\xa9\n", 2, 15, "byte 0xc3" },
	{ "size 4M\x01\n", 1, 8, "byte 0x01" },
	{ "size 4M # x\0y\n", 1, 12, "NUL byte in a comment" },
	{ "a b c d e f g h i\n", 1, 17, "too many words" },
};

static void test_text_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		const struct bad *b = &bad_text[i];
		struct famrt_fmapdesc_error e;
		/* Include an embedded NUL where the case has one. */
		size_t n = strlen(b->in);
		int rc;

		if (strstr(b->msg, "NUL"))
			n = 14;
		rc = famrt_fmapdesc_parse_text(b->in, n, &d, &e);
		if (rc != -EINVAL || e.line != b->line || e.col != b->col ||
		    !strstr(e.message, b->msg))
			fail_msg("case %zu: rc %d at %u:%u [%s], want %u:%u [%s]",
				 i, rc, e.line, e.col, e.message, b->line,
				 b->col, b->msg);
	}
}

static const char good_json[] =
	"{\n"
	"  \"file_type\": \"superblock\",\n"
	"  \"fmap_version\": 1,\n"
	"  \"ext_type\": \"interleaved\",\n"
	"  \"file_size\": 18446744073709551615,\n"
	"  \"nextents\": 1,\n"
	"  \"extents\": [\n"
	"    {\"file_offset\": 5, \"file_bytes\": [\"ignored\"],\n"
	"     \"nstrips\": 2, \"chunk_size\": 4294967295,\n"
	"     \"nbytes\": 9007199254740993,\n"
	"     \"strips\": [ {\"devindex\": 4294967295, \"offset\": 1, "
	"\"len\": 2},\n"
	"                 {\"devindex\": 0, \"offset\": 3, \"len\": 4, "
	"\"extra\": null} ] }\n"
	"  ],\n"
	"  \"resolve\": [ {\"off\": 0, \"len\": 1, \"runs\": []} ],\n"
	"  \"anything\": {\"else\": [1, 2.5, -3]}\n"
	"}\n";

static void test_json(void **state)
{
	(void)state;
	assert_int_equal(famrt_fmapdesc_detect(good_json, strlen(good_json)),
			 FAMRT_FMAPDESC_JSON);
	parse_ok(good_json);
	assert_int_equal(d.file_type, 1);
	assert_int_equal(d.ext_type, 1);
	assert_true(d.file_size == UINT64_MAX);
	assert_int_equal(d.nextents, 1);
	assert_int_equal(d.extents[0].nstrips, 2);
	assert_int_equal(d.extents[0].chunk_size, UINT32_MAX);
	assert_true(d.extents[0].nbytes == 9007199254740993ull);
	assert_int_equal(d.extents[0].strips[0].devindex, UINT32_MAX);
	assert_int_equal(d.extents[0].strips[1].len, 4);

	/* Numeric types, for messages that are invalid on purpose. */
	parse_ok("{\"file_type\": 200, \"fmap_version\": 1, \"ext_type\": 0,"
		 "\"file_size\": 0, \"nextents\": 0, \"extents\": []}");
	assert_int_equal(d.file_type, 200);
	assert_int_equal(d.nextents, 0);
}

/* good_json with one piece replaced. */
static char *patched(const char *from, const char *to)
{
	const char *p = strstr(good_json, from);
	size_t n = strlen(good_json) - strlen(from) + strlen(to) + 1;
	char *s = malloc(n);

	assert_non_null(p);
	assert_non_null(s);
	snprintf(s, n, "%.*s%s%s", (int)(p - good_json), good_json, to,
		 p + strlen(from));
	return s;
}

static void test_json_errors(void **state)
{
	static const struct {
		const char *from, *to;
		uint32_t line, col;
		const char *msg;
	} cases[] = {
		{ "\"superblock\"", "\"folder\"", 2, 16,
		  "\"file_type\" \"folder\" is unknown" },
		{ "\"superblock\"", "3.0", 2, 16, "not an integer" },
		{ "\"superblock\"", "256", 2, 16, "more than 255" },
		{ "\"superblock\"", "true", 2, 16,
		  "must be an unsigned integer, not a true" },
		{ "\"fmap_version\": 1", "\"fmap_version\": 2", 3, 19,
		  "only fmap_version 1" },
		{ "\"fmap_version\": 1,", "", 1, 1,
		  "missing key \"fmap_version\"" },
		{ "\"interleaved\"", "\"striped\"", 4, 15, "is unknown" },
		{ "\"interleaved\"", "2", 4, 15, "more than 1" },
		{ "18446744073709551615", "18446744073709551616", 5, 16,
		  "does not fit in 64 bits" },
		{ "18446744073709551615", "-5", 5, 16, "negative" },
		{ "18446744073709551615", "1e3", 5, 16, "not an integer" },
		{ "18446744073709551615", "\"1\"", 5, 16,
		  "must be an unsigned integer, not a string" },
		{ "\"nextents\": 1", "\"nextents\": 2", 6, 15,
		  "\"nextents\" is 2 but \"extents\" has 1 entries" },
		{ "\"extents\": [", "\"extents\": {}, \"x\": [", 7, 14,
		  "\"extents\" must be an array, not an object" },
		{ "\"nstrips\": 2", "\"nstrips\": 3", 9, 17,
		  "extents[0]: \"nstrips\" is 3" },
		{ "\"chunk_size\": 4294967295", "\"chunk_size\": 4294967296", 9,
		  34, "extents[0]: \"chunk_size\" is \"4294967296\": more than" },
		{ "\"devindex\": 4294967295", "\"devindex\": 4294967296", 11, 31,
		  "extents[0].strips[0]: \"devindex\"" },
		{ "\"offset\": 3, \"len\": 4", "\"offset\": 3", 12, 18,
		  "extents[0].strips[1]: missing key \"len\"" },
		{ "{\"devindex\": 0", "{\"devindex\": 0x", 12, 32,
		  "JSON: unexpected 'x' in an object" },
		{ "\"nbytes\": 9007199254740993", "\"nbytes\": 0.5", 10, 16,
		  "extents[0]: \"nbytes\" is \"0.5\"" },
		/* Only '{' makes it JSON: this is read as text. */
		{ "{\n  \"file_type\"", "[{\n  \"file_type\"", 1, 1,
		  "unknown directive \"[{\"" },
		{ "\"resolve\"", "\"file_size\"", 14, 3,
		  "JSON: duplicate key \"file_size\" (first at line 5 column 3)" },
		{ "\"anything\": {\"else\": [1, 2.5, -3]}",
		  "\"anything\": {\"else\": [1, 2.5, -03]}", 15, 33,
		  "JSON: number with a leading zero" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = patched(cases[i].from, cases[i].to);
		struct famrt_fmapdesc_error e;
		int rc = famrt_fmapdesc_parse(s, strlen(s), &d, &e);

		if (rc == 0 || e.line != cases[i].line ||
		    e.col != cases[i].col || !strstr(e.message, cases[i].msg))
			fail_msg("case %zu: rc %d at %u:%u [%s], want %u:%u [%s]",
				 i, rc, e.line, e.col, e.message,
				 cases[i].line, cases[i].col, cases[i].msg);
		free(s);
	}
}

static void test_json_simple_rules(void **state)
{
	static const struct {
		const char *ext;
		const char *msg;
	} cases[] = {
		{ "{\"nstrips\": 2, \"chunk_size\": 0, \"nbytes\": 2,"
		  "\"strips\": [{\"devindex\":0,\"offset\":0,\"len\":2},"
		  "{\"devindex\":0,\"offset\":0,\"len\":2}]}",
		  "exactly one strip" },
		{ "{\"nstrips\": 1, \"chunk_size\": 2, \"nbytes\": 2,"
		  "\"strips\": [{\"devindex\":0,\"offset\":0,\"len\":2}]}",
		  "chunk_size 0" },
		{ "{\"nstrips\": 1, \"chunk_size\": 0, \"nbytes\": 3,"
		  "\"strips\": [{\"devindex\":0,\"offset\":0,\"len\":2}]}",
		  "nbytes is its strip's len" },
		{ "7", "an extent must be an object" },
		{ "{\"nstrips\": 1, \"chunk_size\": 0, \"nbytes\": 2,"
		  "\"strips\": [5]}",
		  "a strip must be an object" },
	};
	char buf[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct famrt_fmapdesc_error e;

		snprintf(buf, sizeof(buf),
			 "{\"file_type\":\"regular\",\"fmap_version\":1,"
			 "\"ext_type\":\"simple\",\"file_size\":2,"
			 "\"nextents\":1,\"extents\":[%s]}",
			 cases[i].ext);
		assert_int_equal(famrt_fmapdesc_parse(buf, strlen(buf), &d, &e),
				 -EINVAL);
		if (!strstr(e.message, cases[i].msg))
			fail_msg("case %zu: [%s]", i, e.message);
	}
	/* Not an object at all: text form, then, and a text error. */
	{
		struct famrt_fmapdesc_error e;

		assert_int_equal(famrt_fmapdesc_detect("  [1]", 5),
				 FAMRT_FMAPDESC_TEXT);
		assert_int_equal(famrt_fmapdesc_parse_json("[1]", 3, &d, &e),
				 -EINVAL);
		assert_non_null(strstr(e.message, "must be a JSON object"));
		assert_int_equal(famrt_fmapdesc_detect(" \n# {", 5),
				 FAMRT_FMAPDESC_TEXT);
		assert_int_equal(famrt_fmapdesc_detect(" \r\n\t{", 5),
				 FAMRT_FMAPDESC_JSON);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_json_simple_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
