/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FAMRT_TEST_RT_MKFS_H
#define FAMRT_TEST_RT_MKFS_H

#include <stdint.h>

#include <stdbool.h>

/* famrt_mkfs options the tests change (the rest: the harness's). */
struct rt_mkfs {
	bool noncoherent;
	uint64_t alloc_unit; /* 0: 2 MiB */
};

/*
 * famrt_mkfs over existing devices (force; name "testfs", master
 * "host-a"). 0 or -1 (printed).
 */
int rt_mkfs(const char *const *paths, uint32_t n, const struct rt_mkfs *mk,
	    uint8_t *uuid);

#endif
