/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A famrt file system on its devices: make it, open it, follow its log,
 * and (on the master host) change it. The namespace and the allocator are
 * derived from the log; this object keeps them current.
 *
 * One thread at a time per struct famrt_fs. Several processes may open the
 * same file system; on the master host their appends are serialized by an
 * flock on device 0, and each catches up with the log before it allocates.
 */
#ifndef FAMRT_META_FS_H
#define FAMRT_META_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "dax/dax.h"
#include "meta/alloc.h"
#include "meta/format.h"
#include "meta/probe.h"
#include "meta/ns.h"
#include "util/err.h"

#define FAMRT_DEFAULT_UNIT (2ull * 1024 * 1024)

struct famrt_mkfs_opts {
	const char *name;     /* default "famrt" */
	uint64_t alloc_unit;  /* 0: 2 MiB; a power of two >= every alignment */
	uint64_t log_size;    /* 0: min(64 MiB, device 0 / 8) */
	const char *master;   /* 0: this host (famrt_host_id) */
	bool noncoherent;     /* readers invalidate before reading data */
	bool force;           /* overwrite an existing file system or label */
	uint64_t dev_align;   /* 0: the device's own; else raise it (files) */
};

struct famrt_fs_opts {
	const char *host_id;  /* NULL: famrt_host_id() */
	bool readonly;        /* map read-only; refuse every change */
};

/* What fsck and replay found wrong but could live with. */
#define FAMRT_DAMAGE_SB_PRIMARY 0x1u /* primary superblock bad: backup used */
#define FAMRT_DAMAGE_SB_BACKUP 0x2u  /* backup superblock bad */
#define FAMRT_DAMAGE_TAIL0 0x4u      /* tail slot 0 bad */
#define FAMRT_DAMAGE_TAIL1 0x8u      /* tail slot 1 bad */
#define FAMRT_DAMAGE_SKIPPED 0x10u   /* a valid entry could not be applied */
#define FAMRT_DAMAGE_LOG 0x20u       /* a committed entry is unreadable */
#define FAMRT_DAMAGE_DEVICE 0x40u    /* a device the log adds is missing */

struct famrt_fs {
	struct famrt_sb sb;
	uint32_t ndevs;                       /* devices of the fs (sb + log) */
	struct famrt_sb_dev devs[FAMRT_MAX_DEVS];
	struct famrt_dev dev[FAMRT_MAX_DEVS]; /* open devices (fd -1: none) */
	uint32_t nopen;                       /* devices given at open */
	char host_id[FAMRT_HOSTID_MAX + 1];
	bool is_master;
	bool readonly;
	/* Log follower state. */
	uint8_t *log;         /* device 0 mapping + log offset */
	uint64_t pos;         /* log-relative offset of the next entry */
	uint64_t next_seq;
	struct famrt_tail tail;
	uint64_t nentries;
	uint64_t nskipped;
	uint32_t damage;      /* FAMRT_DAMAGE_* */
	struct famrt_err first_problem; /* first thing that set damage */
	struct famrt_err last_skip;     /* why the last skipped entry was */
	struct famrt_ns *ns;
	struct famrt_alloc *alloc;
	/* Test hook: 0 off; else the next append stores only debug_cut - 1
	 * bytes, in its write order, and fails with EINTR (a crash). */
	uint64_t debug_cut;
};

/* This host's identity: $FAMRT_HOST_ID, /etc/machine-id, or hostname. */
int famrt_host_id(char *buf, size_t len, struct famrt_err *e);

/*
 * Make a file system on devices paths[0..n): superblock and log on device
 * 0, a label on each other device. Refuses (EEXIST) to overwrite an
 * existing famrt file system or label unless o->force. uuid_out may be NULL.
 */
int famrt_mkfs(const char *const *paths, uint32_t n,
	       const struct famrt_mkfs_opts *o, uint8_t *uuid_out,
	       struct famrt_err *e);

/*
 * Open the file system whose devices are paths[0..n) (device 0 first),
 * check the superblock and every label (a wrong or reordered device is
 * named), map the devices and replay the whole log.
 */
int famrt_fs_open(struct famrt_fs **out, const char *const *paths, uint32_t n,
		  const struct famrt_fs_opts *o, struct famrt_err *e);
void famrt_fs_close(struct famrt_fs *fs);

/*
 * Apply the entries appended since the last call. *applied (may be NULL)
 * gets their number. -EUCLEAN when a committed entry is damaged (the state
 * stays at the last good entry), -EPROTONOSUPPORT for an entry type this
 * version must not skip.
 */
int famrt_fs_follow(struct famrt_fs *fs, uint64_t *applied,
		    struct famrt_err *e);

/* Changes: only on the master host (EROFS otherwise, naming the master). */
int famrt_fs_mkdir(struct famrt_fs *fs, const char *path, uint32_t mode,
		   uint32_t uid, uint32_t gid, const struct famrt_node **out,
		   struct famrt_err *e);
int famrt_fs_create(struct famrt_fs *fs, const char *path, uint32_t mode,
		    uint32_t uid, uint32_t gid, uint64_t size,
		    const struct famrt_alloc_layout *lay,
		    const struct famrt_node **out, struct famrt_err *e);
/* Change mode and/or owner (FAMRT_SETATTR_KEEP keeps a field). */
int famrt_fs_setattr(struct famrt_fs *fs, const char *path, uint32_t mode,
		     uint32_t uid, uint32_t gid, const struct famrt_node **out,
		     struct famrt_err *e);
/* Add a device (labelled here) as the next index; logged. */
int famrt_fs_add_device(struct famrt_fs *fs, const char *path,
			struct famrt_err *e);

/*
 * Files created by writing (grow.c): space is reserved as a file grows,
 * in the allocator only (never logged, so a crash leaks nothing), and the
 * file is committed to the log in one create entry at the end.
 */
struct famrt_reservation {
	uint32_t n;
	struct famrt_fmap_strip ext[FAMRT_FMAP_MAX_EXTENTS];
	uint64_t bytes; /* reserved in all */
};
/*
 * Reserve at least `bytes` more (rounded up to the unit), appended to r as
 * one or more extents; *added gets how many. E2BIG when the file would need
 * more than 32 extents; ENOSPC when there is no room; EROFS off the master.
 */
int famrt_fs_reserve(struct famrt_fs *fs, struct famrt_reservation *r,
		     uint64_t bytes, uint32_t *added, struct famrt_err *e);
/* Give back everything r holds. */
void famrt_fs_unreserve(struct famrt_fs *fs, struct famrt_reservation *r);
/*
 * Log path as a regular file of `size` bytes made of r's extents in order
 * (trimmed to what size needs; the rest returns to free space). On success
 * r is empty; on failure r still holds everything.
 */
int famrt_fs_commit(struct famrt_fs *fs, const char *path, uint32_t mode,
		    uint32_t uid, uint32_t gid, uint64_t size,
		    struct famrt_reservation *r, const struct famrt_node **out,
		    struct famrt_err *e);

/* Internal to the meta module: the append lock and appending. */
int famrt_fs_lock(struct famrt_fs *fs, struct famrt_err *e);
void famrt_fs_unlock(struct famrt_fs *fs);
int famrt_fs_append(struct famrt_fs *fs, uint16_t type, const uint8_t *payload,
		    uint32_t len, struct famrt_err *e);

/* Lookup through the namespace (no follow). */
const struct famrt_node *famrt_fs_lookup(struct famrt_fs *fs, const char *path,
					 int *rc, struct famrt_err *e);

/* Limits for decoding this file system's fmaps (points into fs). */
void famrt_fs_fmap_limits(const struct famrt_fs *fs,
			  struct famrt_fmap_limits *lim, uint64_t *sizes,
			  uint64_t *aligns);

/* The log entry at log-relative offset pos, for dumps (no apply). */
struct famrt_log_cursor {
	uint64_t pos;
	uint64_t seq;
};
/*
 * Read the next entry for a dump: 1 and *h / *payload filled, 0 at the end
 * of the log, -EUCLEAN when a committed entry is damaged.
 */
int famrt_fs_log_next(struct famrt_fs *fs, struct famrt_log_cursor *c,
		      struct famrt_entry_hdr *h, const uint8_t **payload,
		      struct famrt_err *e);

#endif
