/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Sizes on the command line and in descriptions: "4096", "0x1000", "2M",
 * "1GiB". Private to the tools.
 */
#ifndef FAMRT_TOOLS_SIZE_H
#define FAMRT_TOOLS_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Enough for famrt_size_human() of any u64, with its NUL. */
#define FAMRT_SIZE_HUMAN_MAX 32

/*
 * Parse s[0..n) as a size: decimal digits with an optional binary suffix
 * K, M, G, T, P or E (any case, optionally followed by "iB": 2M == 2MiB ==
 * 2097152), or "0x" and hex digits (no suffix). Nothing else: no sign, no
 * spaces, no fraction. Returns 0, -EINVAL (not a size) or -ERANGE (does not
 * fit in 64 bits).
 */
int famrt_size_parse_n(const char *s, size_t n, uint64_t *out);

/* The same for a NUL-terminated string. */
int famrt_size_parse(const char *s, uint64_t *out);

/* What a non-zero result of famrt_size_parse() means, for messages. */
const char *famrt_size_strerror(int rc);

/*
 * v for people: "0 B", "4 KiB", "24 MiB" when v is a whole number of the
 * largest binary unit not above it, otherwise that unit with two decimals
 * ("1.50 GiB"). Writes buf and returns it.
 */
const char *famrt_size_human(uint64_t v, char buf[FAMRT_SIZE_HUMAN_MAX]);

#endif
