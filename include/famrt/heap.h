/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt heaps: malloc-style allocation out of one famrt file.
 *
 * A heap is a famrt file mapped once, read-write, and handed to a jemalloc
 * arena of its own: every block the heap returns lies inside that mapping,
 * so it is memory of the file's devices (interleaved over them when the
 * file is), and the usual jemalloc machinery (size classes, per-thread
 * caches, extent reuse) works on it. docs/heap.md has the details, the
 * LD_PRELOAD mode and the limits.
 *
 * Contracts, in short:
 *  - A heap belongs to the process that created it. Its blocks are ordinary
 *    pointers in this process; another process mapping the same file sees
 *    the same bytes at another address, so pointers stored inside blocks
 *    mean nothing there. The heap's bookkeeping lives in this process, not
 *    in the file: nothing about the heap persists beyond the bytes.
 *  - Memory freed to a heap is reused by the heap, never returned to the
 *    devices (a dax device cannot take pages back); only
 *    famrt_heap_destroy releases the file's mapping.
 *  - Every function is thread-safe: any thread may allocate, and any thread
 *    may free or resize a block another thread allocated. famrt_heap_destroy
 *    must not run concurrently with any other use of the same heap.
 *  - Allocation functions return NULL and set errno (ENOMEM when the heap
 *    is full, EINVAL for bad arguments); the heap stays usable after a
 *    failure. Functions returning int return 0 or a negative errno, with a
 *    message in famrt_errmsg().
 *  - After fork(), the child inherits the mapping, which is MAP_SHARED:
 *    parent and child would write the same bytes. Unless the heap was
 *    created with FAMRT_HEAP_FORK_PRIVATE, only one of them may go on
 *    using the heap (allocating, freeing, writing blocks).
 */
#ifndef FAMRT_HEAP_H
#define FAMRT_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <famrt/common.h>
#include <famrt/famrt.h>

FAMRT_BEGIN_DECLS

struct famrt_heap; /* a heap over one famrt file */

/* Flags of famrt_heap_create. */
/* Use the existing file at path instead of creating it. */
#define FAMRT_HEAP_OPEN 0x1u
/*
 * No per-thread caches: every allocation and free goes to the heap's arena
 * (under its locks). Slower with many threads; uses no cache memory.
 */
#define FAMRT_HEAP_NO_TCACHE 0x2u
/*
 * At fork(), give the child a private copy of the heap (copied from the
 * file's memory before fork returns, then never shared), so that parent
 * and child both go on using their heap as with ordinary malloc memory.
 * The copy costs time and memory in proportion to the heap's high-water
 * mark (famrt_heap_stats: highwater), at every fork (vfork and posix_spawn
 * are not affected). The child's heap is then ordinary private memory, no
 * longer the file's.
 */
#define FAMRT_HEAP_FORK_PRIVATE 0x4u

/*
 * Create a heap over a new file of `size` bytes at path (famrt_create, mode
 * 0600, layout lay or simple extents when NULL): the file is mapped whole,
 * read-write, and its bytes become the heap. With FAMRT_HEAP_OPEN the file
 * must exist and is used as it is (size 0, or the file's size; lay must be
 * NULL): its old contents are overwritten as blocks are handed out. The
 * file must not be used as a heap by anyone else at the same time. size is
 * at least 2 MiB. fs must stay connected until the heap is destroyed.
 */
FAMRT_API int famrt_heap_create(struct famrt *fs, const char *path,
				uint64_t size, const struct famrt_layout *lay,
				unsigned flags, struct famrt_heap **out);

/*
 * Release everything the heap handed out, unmap the file and close it. The
 * file stays in the file system, with whatever bytes the blocks held.
 * Every block becomes invalid. 0 or -errno (NULL: 0).
 */
FAMRT_API int famrt_heap_destroy(struct famrt_heap *h);

/* At least size bytes (size 0: a unique minimal block), 16-byte aligned. */
FAMRT_API void *famrt_heap_malloc(struct famrt_heap *h, size_t size);
/* n * size bytes, zeroed (ENOMEM when n * size overflows). */
FAMRT_API void *famrt_heap_calloc(struct famrt_heap *h, size_t n,
				  size_t size);
/*
 * Resize p (a block of this heap, or NULL for famrt_heap_malloc) keeping
 * its contents up to the smaller size; the block may move. size 0 frees p
 * and returns NULL. On failure p is untouched. EINVAL if p is not a block
 * of this heap.
 */
FAMRT_API void *famrt_heap_realloc(struct famrt_heap *h, void *p,
				   size_t size);
/*
 * At least size bytes at an address that is a multiple of align (a power
 * of two; EINVAL otherwise). size need not be a multiple of align.
 */
FAMRT_API void *famrt_heap_aligned_alloc(struct famrt_heap *h, size_t align,
					 size_t size);
/*
 * Free a block of this heap (NULL: nothing). A pointer outside the heap is
 * ignored; freeing anything else (an interior pointer, a block twice) is
 * undefined, as with free().
 */
FAMRT_API void famrt_heap_free(struct famrt_heap *h, void *p);
/* The usable bytes of block p (>= the size asked), 0 if p is not in h. */
FAMRT_API size_t famrt_heap_usable_size(struct famrt_heap *h, const void *p);
/* Whether p points into the heap's mapping (a constant-time range check). */
FAMRT_API bool famrt_heap_contains(const struct famrt_heap *h, const void *p);

/* The heap's mapping: its first byte, and its length in *len (if len). */
FAMRT_API void *famrt_heap_base(const struct famrt_heap *h, size_t *len);
/*
 * The heap's file, owned by the heap (do not close it): for famrt_flush,
 * famrt_bind_near, famrt_fstat. Byte p of the heap is byte
 * (p - famrt_heap_base(h)) of the file.
 */
FAMRT_API struct famrt_file *famrt_heap_file(struct famrt_heap *h);

/*
 * The NUMA node of the heap's memory (the node holding most of the file),
 * or -ENOENT when unknown (emulated devices); see famrt_numa_node.
 */
FAMRT_API int famrt_heap_numa_node(struct famrt_heap *h);

struct famrt_heap_stats {
	size_t size;          /* sizeof(struct famrt_heap_stats), set by caller */
	uint64_t mapped;      /* bytes of the file mapped: the heap's capacity */
	uint64_t reserved;    /* bytes of the mapping handed to jemalloc (most
			       * of it at once, at creation; never goes down) */
	uint64_t highwater;   /* end of the highest block ever handed out, as
			       * an offset in the file: the part in use */
	uint64_t allocated;   /* bytes in blocks jemalloc has handed out (usable
			       * sizes), blocks kept in other threads'
			       * caches for reuse included */
	uint64_t live;        /* live blocks */
	uint64_t nmalloc;     /* blocks handed out since creation (a realloc
			       * counts as a free and a new block) */
	uint64_t total_bytes; /* bytes asked for by those, since creation */
	uint64_t nfailed;     /* requests refused for want of space */
};

/*
 * Fill st (st->size set by the caller; a larger, future struct is filled as
 * far as this version knows). The calling thread's cache for the heap is
 * emptied first, so with one thread allocated is the usable bytes of the
 * live blocks exactly. Counts are exact when no other thread allocates or
 * frees at the same time.
 */
FAMRT_API int famrt_heap_stats(struct famrt_heap *h,
			       struct famrt_heap_stats *st);

FAMRT_END_DECLS

#endif /* FAMRT_HEAP_H */
