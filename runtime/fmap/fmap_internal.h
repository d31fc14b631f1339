/* SPDX-License-Identifier: Apache-2.0 */
/* fmap internals visible to the library's own tests, never exported. */
#ifndef FAMRT_FMAP_INTERNAL_H
#define FAMRT_FMAP_INTERNAL_H

#include <stdbool.h>
#include <famrt/fmap.h>

/* How the resolver finds the extent holding an offset. */
enum famrt_fmap_find {
	FAMRT_FMAP_FIND_ONE = 0,    /* a single extent */
	FAMRT_FMAP_FIND_SHIFT = 1,  /* every extent one power-of-two length */
	FAMRT_FMAP_FIND_SEARCH = 2, /* binary search of prefix sums */
};

enum famrt_fmap_find famrt_fmap_debug_find(const struct famrt_fmap *map);
/* True when interleaved extent idx resolves with shifts and masks. */
bool famrt_fmap_debug_ext_pow2(const struct famrt_fmap *map, uint32_t idx);
/* Turn every fast path off: binary search and division only. */
void famrt_fmap_debug_force_general(struct famrt_fmap *map);

#endif
