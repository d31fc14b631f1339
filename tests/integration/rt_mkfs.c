/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rt_mkfs: famrt_mkfs for the runtime tests. Its own file because
 * meta/fs.h (through meta/alloc.h) defines an internal struct famrt_alloc_layout
 * that clashes with the public one in famrt/famrt.h.
 */
#include <stdbool.h>
#include <stdio.h>

#include "meta/fs.h"
#include "rt_mkfs.h"

int rt_mkfs(const char *const *paths, uint32_t n, const struct rt_mkfs *mk,
	    uint8_t *uuid)
{
	struct famrt_mkfs_opts o = { .name = "testfs",
				     .master = "host-a",
				     .alloc_unit = mk->alloc_unit ?
							   mk->alloc_unit :
							   2u << 20,
				     .noncoherent = mk->noncoherent,
				     .force = true };
	struct famrt_err e;

	if (famrt_mkfs(paths, n, &o, uuid, &e)) {
		fprintf(stderr, "mkfs: %s\n", e.msg);
		return -1;
	}
	return 0;
}
