/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Space allocator of a famrt file system. Its state is never stored: it is
 * derived from the log (every file's fmap marks its extents used), so it is
 * rebuilt at replay and kept current while following. Space is handed out
 * in allocation units (a power of two, at least every device's alignment).
 *
 * Not thread-safe: the caller serializes (the metadata writer holds the
 * append lock while it allocates and logs).
 */
#ifndef FAMRT_META_ALLOC_H
#define FAMRT_META_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include <famrt/fmap.h>

#include "util/err.h"

#define FAMRT_MAX_DEVICES 32u

struct famrt_alloc;

/* How a file's bytes are laid out. */
enum famrt_layout_kind {
	FAMRT_LAYOUT_SIMPLE = 0,     /* simple extents */
	FAMRT_LAYOUT_INTERLEAVE = 1, /* interleaved extents */
};

struct famrt_alloc_layout {
	enum famrt_layout_kind kind;
	uint32_t nstrips;  /* interleave: strips per extent; 0 = one per device */
	uint64_t chunk;    /* interleave: chunk size; 0 = the allocation unit */
	uint32_t ndevs;    /* 0 = every device of the file system */
	uint32_t devs[FAMRT_MAX_DEVICES]; /* devices allowed, in strip order */
};

struct famrt_alloc_dev_stats {
	uint64_t size;         /* usable bytes (data region) */
	uint64_t free;         /* free bytes */
	uint64_t largest_free; /* largest contiguous free run */
	uint64_t free_runs;    /* number of free runs (fragmentation) */
};

struct famrt_alloc_stats {
	uint64_t unit;
	uint32_t ndevs;
	uint64_t size, free, largest_free, free_runs; /* over all devices */
	struct famrt_alloc_dev_stats dev[FAMRT_MAX_DEVICES];
};

/* An allocator with unit `unit` and no devices. */
int famrt_alloc_create(struct famrt_alloc **out, uint64_t unit,
		       struct famrt_err *e);
void famrt_alloc_destroy(struct famrt_alloc *a);

/*
 * Add device idx (the next index: devices are added in order 0, 1, ...)
 * whose data region is [start, end) in device bytes, both multiples of
 * unit (start == end: a device with no space); align is the device's
 * mapping alignment (a power of two <= unit).
 */
int famrt_alloc_add_device(struct famrt_alloc *a, uint32_t idx, uint64_t start,
			   uint64_t end, uint64_t align, struct famrt_err *e);

/*
 * Mark [off, off+len) of device dev used (replay). len is rounded up to the
 * unit. Refuses, changing nothing: EEXIST if any byte is already used (the
 * message names the device, the range and the used span holding its first
 * used byte: "[a, b) overlaps space in use [c, d)"; that span is all the
 * allocator knows and may cover several files), EINVAL for a range that is
 * empty, outside the device's data region or not aligned to the unit,
 * ENOMEM.
 */
int famrt_alloc_mark(struct famrt_alloc *a, uint32_t dev, uint64_t off,
		     uint64_t len, struct famrt_err *e);

/* Mark every extent/strip of a map used; all or nothing. */
int famrt_alloc_mark_fmap(struct famrt_alloc *a, const struct famrt_fmap *m,
			  struct famrt_err *e);

/*
 * Return [off, off+len) of dev (len rounded up to the unit) to free space.
 * Refuses, changing nothing: EINVAL if any of it is not in use (the message
 * names the free run it overlaps) or it is outside the region, ENOMEM.
 */
int famrt_alloc_release(struct famrt_alloc *a, uint32_t dev, uint64_t off,
			uint64_t len, struct famrt_err *e);

/*
 * Release every extent/strip of desc: the exact undo of famrt_alloc_file
 * (also of famrt_alloc_mark_fmap of the same map). All or nothing: returns
 * 0, or -EINVAL if some range is not in use (nothing is released), or
 * -ENOMEM (only possible when other files were allocated or released since;
 * nothing is released). Right after famrt_alloc_file it cannot fail.
 */
int famrt_alloc_release_desc(struct famrt_alloc *a,
			     const struct famrt_fmap_desc *d);

/*
 * Allocate space for a file of `size` bytes (0 gets one unit: a map needs
 * one non-empty extent) laid out as `lay` (NULL: simple, every device), mark
 * it used and describe it in *d (file_type regular, file_size = size, and
 * each extent's file_offset/file_bytes), ready for famrt_fmap_build().
 * Only the header, the first d->nextents extents and their first nstrips
 * strips are written.
 * Simple: size rounded up to the unit; one run if some allowed device has
 * one large enough: each device's best fit (its smallest such run), and
 * among devices the one whose run holds the file most tightly, counted in
 * powers of two (an exact fit first; len/need in [1,2), [2,4)... next);
 * equally tight runs are a tie, won by the device with the most free space,
 * so files spread over the devices. Otherwise several extents, the largest
 * runs first (the last piece a best fit), at most 32.
 * Interleave: extents of nstrips (0: one per allowed device) strips of equal
 * length, a multiple of both the unit and the chunk (0: the unit); strip j
 * of every extent on lay->devs[j % ndevs]. One extent when every device has
 * the runs, else each extent as long as the devices allow until the file
 * fits. ie_nbytes is each extent's whole capacity (nstrips x strip length),
 * except the last extent's: exactly the bytes of the file it holds (for an
 * empty file, its whole capacity, since ie_nbytes cannot be 0).
 * A chunk that is a multiple of the devices' alignments but not of the unit
 * gives maps that pass famrt_fmap_build() with limits.align set to the
 * devices' alignment, not to the unit.
 * Refuses without changing anything (d->nextents is then 0): ENOSPC when the
 * space is not there (the message says how much is free in total and per
 * device and the largest free run), E2BIG when the free space is so
 * fragmented that the file would need more than 32 extents, EINVAL for a
 * layout the format cannot express (nstrips > 32, chunk not a multiple of a
 * strip device's alignment or over 4 GiB - 1, unknown or repeated device).
 */
int famrt_alloc_file(struct famrt_alloc *a, uint64_t size,
		     const struct famrt_alloc_layout *lay, struct famrt_fmap_desc *d,
		     struct famrt_err *e);

/* Sizes, free space and fragmentation, per device and in total. */
void famrt_alloc_get_stats(const struct famrt_alloc *a,
			   struct famrt_alloc_stats *s);

#endif
