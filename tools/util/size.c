/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "size.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static unsigned suffix_shift(char c)
{
	switch (c) {
	case 'k': case 'K': return 10;
	case 'm': case 'M': return 20;
	case 'g': case 'G': return 30;
	case 't': case 'T': return 40;
	case 'p': case 'P': return 50;
	case 'e': case 'E': return 60;
	default: return 0;
	}
}

int famrt_size_parse_n(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	unsigned shift;

	if (!s || n == 0)
		return -EINVAL;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (i = 2; i < n; i++) {
			int d = hexval(s[i]);

			if (d < 0)
				return -EINVAL;
			if (v >> 60)
				return -ERANGE;
			v = v << 4 | (uint64_t)d;
		}
		*out = v;
		return 0;
	}
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v)) {
			/* Still tell a malformed tail from a mere overflow. */
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i < n && !suffix_shift(s[i]))
				return -EINVAL;
			return -ERANGE;
		}
	}
	if (i == 0)
		return -EINVAL;
	if (i == n) {
		*out = v;
		return 0;
	}
	shift = suffix_shift(s[i]);
	if (!shift)
		return -EINVAL;
	i++;
	if (i < n) {
		if (n - i != 2 || s[i] != 'i' ||
		    (s[i + 1] != 'B' && s[i + 1] != 'b'))
			return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int famrt_size_parse(const char *s, uint64_t *out)
{
	if (!s)
		return -EINVAL;
	return famrt_size_parse_n(s, strlen(s), out);
}

const char *famrt_size_strerror(int rc)
{
	if (rc == -ERANGE)
		return "does not fit in 64 bits";
	if (rc == -EINVAL)
		return "is not a size (digits with an optional K/M/G/T/P/E "
		       "suffix, or 0x and hex digits)";
	return "is not a size";
}

const char *famrt_size_human(uint64_t v, char buf[FAMRT_SIZE_HUMAN_MAX])
{
	static const char *const unit[] = { "B",   "KiB", "MiB", "GiB",
					    "TiB", "PiB", "EiB" };
	unsigned u = 0;

	while (u < 6 && v >> (10 * (u + 1)))
		u++;
	if (u == 0) {
		snprintf(buf, FAMRT_SIZE_HUMAN_MAX, "%llu B",
			 (unsigned long long)v);
	} else if (!(v & ((1ull << (10 * u)) - 1))) {
		snprintf(buf, FAMRT_SIZE_HUMAN_MAX, "%llu %s",
			 (unsigned long long)(v >> (10 * u)), unit[u]);
	} else {
		/* Two decimals, truncated, in integer arithmetic. */
		uint64_t whole = v >> (10 * u);
		uint64_t rest = v & ((1ull << (10 * u)) - 1);
		uint64_t cents = (uint64_t)(((unsigned __int128)rest * 100) >>
					    (10 * u));

		/* whole < 1024 and cents < 100; the masks tell the compiler. */
		snprintf(buf, FAMRT_SIZE_HUMAN_MAX, "%u.%02u %s",
			 (unsigned)(whole & 1023), (unsigned)(cents % 100),
			 unit[u]);
	}
	return buf;
}
