/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FAMRT_META_PROBE_H
#define FAMRT_META_PROBE_H

#include "meta/format.h"
#include "util/err.h"

/*
 * Read the superblock of device path (primary, else backup), opening it
 * read-only: what a tool needs to find the file system's uuid (and so its
 * service socket) without opening the whole file system.
 */
int famrt_fs_probe(const char *path, struct famrt_sb *sb, struct famrt_err *e);

#endif
