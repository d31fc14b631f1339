/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every fuzz target provides. The same source links either with
 * libFuzzer (-fsanitize=fuzzer, FAMRT_FUZZ=ON) or with standalone_main.c,
 * which replays a corpus so that every build, sanitized or not, runs it.
 * A target reports a broken invariant with FUZZ_CHECK, which prints where
 * and aborts: libFuzzer then saves the input as a crash.
 */
#ifndef FAMRT_FUZZ_H
#define FAMRT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",      \
				__FILE__, __LINE__, #cond);                   \
			abort();                                              \
		}                                                             \
	} while (0)

#endif
