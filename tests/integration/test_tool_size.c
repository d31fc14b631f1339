/* SPDX-License-Identifier: Apache-2.0 */
/* Size parsing and printing of the tools (tools/util/size.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "size.h"

static void test_valid(void **state)
{
	static const struct {
		const char *in;
		uint64_t v;
	} cases[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "007", 7 },
		{ "0x1000", 4096 },
		{ "0X1f", 31 },
		{ "0xABCdef", 0xabcdef },
		{ "1K", 1024 },
		{ "1k", 1024 },
		{ "2M", 2097152 },
		{ "2m", 2097152 },
		{ "2MiB", 2097152 },
		{ "2Mib", 2097152 },
		{ "3G", 3221225472ull },
		{ "1T", 1099511627776ull },
		{ "1P", 1125899906842624ull },
		{ "1E", 1152921504606846976ull },
		{ "15E", 15ull << 60 },
		{ "0M", 0 },
		{ "17179869183G", 17179869183ull << 30 },
		{ "18446744073709551615", UINT64_MAX },
		{ "0xffffffffffffffff", UINT64_MAX },
		{ "0x0000000000000000000001", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int rc = famrt_size_parse(cases[i].in, &v);

		if (rc || v != cases[i].v)
			fail_msg("%s: rc %d value %llu", cases[i].in, rc,
				 (unsigned long long)v);
	}
}

static void test_invalid(void **state)
{
	static const struct {
		const char *in;
		int rc;
	} cases[] = {
		{ "", -EINVAL },
		{ "-1", -EINVAL },
		{ "+1", -EINVAL },
		{ " 1", -EINVAL },
		{ "1 ", -EINVAL },
		{ "1.5M", -EINVAL },
		{ "M", -EINVAL },
		{ "0x", -EINVAL },
		{ "0xg", -EINVAL },
		{ "0x1M", -EINVAL },
		{ "1MB", -EINVAL },
		{ "1Mi", -EINVAL },
		{ "1MiBx", -EINVAL },
		{ "1KK", -EINVAL },
		{ "1Q", -EINVAL },
		{ "1e3", -EINVAL }, /* suffix E, then junk */
		{ "16E", -ERANGE },
		{ "17179869184G", -ERANGE },
		{ "18446744073709551616", -ERANGE },
		{ "99999999999999999999999", -ERANGE },
		{ "99999999999999999999Q", -EINVAL },
		{ "0x10000000000000000", -ERANGE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		int rc = famrt_size_parse(cases[i].in, &v);
		int want = cases[i].rc;

		if (rc != want || v != 12345)
			fail_msg("%s: rc %d value %llu, want rc %d",
				 cases[i].in, rc, (unsigned long long)v, want);
	}
	assert_int_equal(famrt_size_parse(NULL, NULL), -EINVAL);
	assert_non_null(strstr(famrt_size_strerror(-ERANGE), "64 bits"));
	assert_non_null(strstr(famrt_size_strerror(-EINVAL), "not a size"));
}

static void test_parse_n(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(famrt_size_parse_n("4096abc", 4, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(famrt_size_parse_n("2M:1M", 2, &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(famrt_size_parse_n("2M:1M", 3, &v), -EINVAL);
	assert_int_equal(famrt_size_parse_n("12", 0, &v), -EINVAL);
	assert_int_equal(famrt_size_parse_n("0x10", 2, &v), -EINVAL);
}

static void test_human(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0 B" },
		{ 1, "1 B" },
		{ 1023, "1023 B" },
		{ 1024, "1 KiB" },
		{ 1536, "1.50 KiB" },
		{ 1025, "1.00 KiB" },
		{ 2047, "1.99 KiB" },
		{ 10485760, "10 MiB" },
		{ 7340032 + 12345, "7.01 MiB" },
		{ 1ull << 30, "1 GiB" },
		{ 3ull << 40, "3 TiB" },
		{ 1ull << 50, "1 PiB" },
		{ 15ull << 60, "15 EiB" },
		{ UINT64_MAX, "15.99 EiB" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[FAMRT_SIZE_HUMAN_MAX];

		assert_string_equal(famrt_size_human(cases[i].v, buf),
				    cases[i].s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_parse_n),
		cmocka_unit_test(test_human),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
