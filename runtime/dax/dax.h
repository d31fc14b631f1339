/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Devices: a real device-dax character device or an emulated one (a regular
 * file, best on tmpfs or hugetlbfs), used through exactly the same code:
 * open, learn size and alignment, mmap(MAP_SHARED) whole. Never pread.
 *
 * Internal to famrt (not exported from libfamrt.so). Every function that can
 * fail returns 0 or -errno and, when e is not NULL, a one-line message in e
 * that names the path or device.
 */
#ifndef FAMRT_DAX_H
#define FAMRT_DAX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

enum famrt_dev_kind {
	FAMRT_DEV_NONE = 0,   /* closed, or a zeroed struct */
	FAMRT_DEV_DEVDAX = 1, /* /dev/daxX.Y character device */
	FAMRT_DEV_FILE = 2,   /* regular file standing in for a device */
};

#define FAMRT_FILE_DEV_ALIGN 4096u /* alignment of an emulated device */

struct famrt_dev {
	char path[PATH_MAX];
	char devname[32];   /* "dax0.0" for devdax, file name otherwise */
	int fd;             /* -1 when closed */
	enum famrt_dev_kind kind; /* FAMRT_DEV_NONE when closed */
	bool writable;
	uint64_t size;      /* bytes */
	/*
	 * Mapping alignment in bytes, a power of two. For a file the caller
	 * may raise it before famrt_dev_map (e.g. to the file system's
	 * allocation unit); it must still divide size.
	 */
	uint64_t align;
	int numa_node;      /* node of the device's CPUs; -1 when unknown */
	int target_node;    /* node its memory would join; -1 when unknown */
	void *base;         /* whole-device mapping, NULL until mapped */
	size_t map_len;     /* bytes mapped at base (== size), 0 if unmapped */
};

/*
 * Open path read-only (oflags O_RDONLY) or read-write (O_RDWR; O_CLOEXEC is
 * always added, other flags are refused with EINVAL) and learn its kind,
 * size, alignment and NUMA node. Does not map. *d is overwritten; on failure
 * it is left closed (famrt_dev_close is still safe). Refusals, each with a
 * message naming the path:
 *   ENOENT (or another stat errno)  the path does not exist
 *   ENODEV   neither a devdax device nor a regular file (directory, FIFO,
 *            socket, block device, another character device like /dev/null)
 *   EBUSY    a devdax device bound to a driver other than device_dax, e.g.
 *            fsdev_dax (famfs mode, raw mmap forbidden) or kmem; the message
 *            names the driver and the daxctl command that fixes it
 *   ENXIO    a devdax device with no driver bound (disabled)
 *   EINVAL   size 0, size not a multiple of the alignment, a bad alignment
 *   EACCES/EPERM  from open(2); the message says who may open the path
 * The path is never read with read(2)/pread(2).
 */
int famrt_dev_open(struct famrt_dev *d, const char *path, int oflags,
		   struct famrt_err *e);

/*
 * Same, for a descriptor already open (e.g. received over SCM_RIGHTS). Takes
 * ownership of fd: it is closed on failure and by famrt_dev_close. name is
 * used in messages (and as path). writable must match how fd was opened.
 */
int famrt_dev_open_fd(struct famrt_dev *d, int fd, const char *name,
		      bool writable, struct famrt_err *e);

/*
 * Map the whole device MAP_SHARED (PROT_READ, plus PROT_WRITE if opened
 * read-write) at an address aligned to d->align; sets base and map_len.
 * Returns 0 at once if already mapped. Errors: EBADF (not open), EINVAL
 * (align not a power of two >= 4 KiB or not dividing size), ENOMEM (no
 * address space), or mmap's errno with an explanation (on a devdax device
 * EINVAL usually means an alignment mismatch or a device not in devdax
 * mode; the message names the bound driver).
 */
int famrt_dev_map(struct famrt_dev *d, struct famrt_err *e);

/*
 * Unmap (if mapped) and close; leaves kind NONE, fd -1, base NULL. Safe on a
 * closed or zeroed device, and safe to call twice.
 */
void famrt_dev_close(struct famrt_dev *d);

/*
 * Create (or resize) a regular file to stand in for a device of `size`
 * bytes, with ftruncate: new bytes read as zero, existing bytes below size
 * are kept, mode applies only when the file is created. Refuses: size 0 or
 * not a multiple of 4 KiB (EINVAL), size beyond off_t (EFBIG), a path that
 * exists (after following symlinks) and is not a regular file (EEXIST; it is
 * not opened).
 */
int famrt_dev_create_file(const char *path, uint64_t size, mode_t mode,
			  struct famrt_err *e);

/*
 * Check that [off, off+len) lies inside the device and that off and len are
 * multiples of its alignment. len 0 is fine if off <= size. Errors, checked
 * in this order: EOVERFLOW (off+len wraps), ERANGE (past the end), EINVAL
 * (unaligned).
 */
int famrt_dev_check_range(const struct famrt_dev *d, uint64_t off,
			  uint64_t len, struct famrt_err *e);

/*
 * Cache maintenance, chosen once (lazily, thread-safe) by CPUID, or by the
 * environment variable FAMRT_FLUSH=clwb|clflushopt|clflush read at that
 * moment (an instruction the CPU lacks is not used: the choice falls back to
 * the best one it has). famrt_flush writes back the lines of [p, p+len)
 * (clwb, else clflushopt, else clflush) and ends with sfence: after it
 * returns the bytes are in the memory device. famrt_invalidate drops the
 * lines (clflushopt, else clflush; clflush when FAMRT_FLUSH=clflush) so the
 * next load reads memory; ends with mfence. len 0 only fences.
 */
void famrt_flush_range(const void *p, size_t len);
void famrt_invalidate_range(const void *p, size_t len);
/* Name of the flush instruction in use: "clwb", "clflushopt", "clflush". */
const char *famrt_flush_method(void);
/* Name of the invalidate instruction in use: "clflushopt" or "clflush". */
const char *famrt_invalidate_method(void);

/* One device-dax device found on this host. */
struct famrt_daxinfo {
	char devname[32];  /* "dax0.0" */
	char path[64];     /* "/dev/dax0.0" (may not exist, e.g. system-ram) */
	/* "devdax", "system-ram", "fsdev", "disabled", "unknown" */
	char mode[16];
	char driver[32];   /* bound driver ("device_dax", "fsdev_dax"...), "" */
	uint64_t size;
	uint64_t align;
	int numa_node;     /* -1 when unknown */
	int target_node;   /* -1 when unknown */
	char region[32];   /* "region0" */
	char near_cpus[256]; /* CPU list near numa_node ("0-3,8"), "" unknown */
};

/*
 * Every device-dax device on this host with a non-zero size, through
 * libdaxctl, in libdaxctl's order. *out is a malloc'd array the caller frees
 * (NULL when *n is 0); *n may be 0 (no devices is not an error). Errors:
 * ENOMEM, or libdaxctl's error creating its context.
 */
int famrt_dax_list(struct famrt_daxinfo **out, size_t *n, struct famrt_err *e);

/*
 * CPUs near NUMA node `node` (hwloc), as a list string "0-3,8". node < 0
 * gives "" and 0; a node hwloc does not know gives "" and -ENOENT; a node
 * without CPUs gives "" and 0; buf too small gives -ERANGE (buf holds "").
 * Errors setting up hwloc: -errno.
 */
int famrt_numa_node_cpus(int node, char *buf, size_t len);

#endif
