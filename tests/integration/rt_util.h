/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the libfamrt integration tests (test_runtime_*.c):
 * a file system on emulated devices with a real famrtd, patterns, the
 * test's own view of the device files, and an independent model of where
 * each byte of a file lives (written from docs/fmap-format.md, not from the
 * library's resolver), so that tests check placement, not only that what
 * was written reads back.
 */
#ifndef FAMRT_TEST_RT_UTIL_H
#define FAMRT_TEST_RT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <famrt/famrt.h>

#include "famrtd_harness.h"

#include "rt_mkfs.h"

struct rt_env {
	struct h_fs fs;
	struct h_famrtd d;      /* the master's service */
	struct famrt *c;        /* a connection to it */
	uint8_t *dev[H_MAX_DEVS]; /* the test's own mapping of each device */
	size_t dev_len[H_MAX_DEVS];
};

/*
 * Devices of devsize bytes, a file system on them (mk: NULL for the
 * harness's defaults), famrtd
 * as host "host-a" (the master), a connection with map budget `budget`
 * (0: the default) and the test's own device mappings. 0 or -1 (printed).
 */
int rt_env_start(struct rt_env *v, uint32_t ndevs, uint64_t devsize,
		 const struct rt_mkfs *mk, uint32_t budget);
void rt_env_stop(struct rt_env *v);
/* For cmocka setups: rt_env_start with the defaults on a new rt_env (NULL
 * on failure, printed), and rt_env_stop and free (NULL: nothing). */
struct rt_env *rt_env_new(uint32_t ndevs, uint64_t devsize);
void rt_env_free(struct rt_env *v);

/* A connection to a socket; NULL on failure (printed). */
struct famrt *rt_connect(const char *socket, uint32_t budget);

/* Deterministic bytes from seed. */
void rt_fill(uint8_t *p, size_t n, uint64_t seed);
/* Cheap per-thread random numbers. */
uint64_t rt_rand(uint64_t *state);

/* Where file offset x lives, by the spec's arithmetic. */
struct rt_place {
	uint32_t dev;
	uint64_t off;  /* device offset */
	uint64_t run;  /* bytes from here that are contiguous on the device
			* by the model (to the end of the chunk or extent,
			* clipped at the file size) */
};
/* false when x is at or past the end of the file. */
bool rt_model(const struct famrt_fmap *m, uint64_t x, struct rt_place *p);

/*
 * Check with rt_model that every byte of ref (the file's contents, size
 * bytes) is where the map says on the devices dev[] (the test's mappings).
 * Returns the number of bytes that differ (0: all in place); prints the
 * first difference.
 */
uint64_t rt_check_placement(const struct famrt_fmap *m, uint8_t *const *dev,
			    const uint8_t *ref, uint64_t size);

/*
 * File offsets where the model's runs end (chunk, strip, stripe, extent
 * and device changes), in order, excluding 0 and the file size. Returns
 * how many there are; fills at most max.
 */
size_t rt_boundaries(const struct famrt_fmap *m, uint64_t *out, size_t max);

/* Open descriptors of this process (to check nothing leaked). */
int rt_count_fds(void);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t rt_now_ms(void);

#endif
