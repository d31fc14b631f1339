/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation shared by the JSON parser and writer. */
#ifndef FAMRT_TOOLS_UTF8_H
#define FAMRT_TOOLS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) (n >= 1): 1 to 4;
 * 0 if it is ill-formed (overlong, surrogate, above U+10FFFF, stray
 * continuation byte); -1 if it is well-formed so far but cut off by n.
 */
static inline int famrt_utf8_check(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		need = 1;
	} else if (c < 0xF0) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (size_t i = 1; i <= need; i++) {
		uint8_t b;

		if (i >= n)
			return -1;
		b = p[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return 0;
	}
	return (int)need + 1;
}

#endif
