/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FAMRT_META_PROBE_H
#define FAMRT_META_PROBE_H

#include <stdint.h>

#include "meta/format.h"
#include "util/err.h"

/*
 * Read the superblock of device path (primary, else backup), opening it
 * read-only: what a tool needs to find the file system's uuid (and so its
 * service socket) without opening the whole file system.
 */
int famrt_fs_probe(const char *path, struct famrt_sb *sb, struct famrt_err *e);

/*
 * Which famrt file system device path belongs to: its uuid and this
 * device's index (0 for the superblock's device). -ENOENT when none.
 */
int famrt_fs_probe_device(const char *path, uint8_t *fs_uuid, uint32_t *index,
			  struct famrt_err *e);

#endif
