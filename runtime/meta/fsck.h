/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrt fsck: check a file system on its devices without changing a byte.
 *
 * Every device is opened O_RDONLY and mapped PROT_READ. fsck reads the
 * on-media structures itself (format.c) and replays the log into its own
 * namespace and allocator (ns.c, alloc.c), so damage that makes
 * famrt_fs_open() refuse the file system is still reported in full: a bad
 * primary superblock is an error and the backup is used; a damaged entry is
 * an error, the entries after it are counted as lost; an entry that cannot
 * be applied is an error naming its seq and path, and the check goes on.
 * When it found no error, fsck finally opens the file system with
 * famrt_fs_open() (read-only) and reports any disagreement with its own
 * replay.
 *
 * Run it on a quiescent file system. On the master host it holds a shared
 * flock on device 0 while it reads, so local appends wait for it.
 *
 * Finding codes (stable; the message says what and where):
 *   superblocks   sb-primary-{missing,crc,unsupported,invalid},
 *                 sb-backup-{missing,crc,unsupported,invalid},
 *                 sb-mismatch (both valid, different), sb-none (no usable
 *                 superblock: nothing else can be checked)
 *   devices       dev-duplicate, dev-size, dev-align, dev-missing, dev-extra
 *   labels        label-{missing,crc,unsupported,invalid}, label-fs (another
 *                 file system's), label-index (given in the wrong place),
 *                 label-uuid, label-size
 *   log tail      tail-damaged, tail-parity, tail-end (error); tail-torn
 *                 (warning: a crash while recording the tail; harmless)
 *   log entries   log-entry-damaged (a committed entry that does not check;
 *                 replay stops there), log-garbage (a non-zero commit word
 *                 just past the last entry), log-torn (warning: an append
 *                 cut short while storing its commit word; harmless),
 *                 log-full (warning: less room left than one small entry)
 *   replay        entry-unsupported (unknown type without the skippable
 *                 flag, or unknown flags: replay stops), entry-skippable
 *                 (warning: an unknown type that replay skips),
 *                 entry-invalid, entry-parent (parent missing or not a
 *                 directory), entry-exists, entry-fmap (map invalid against
 *                 the device table), entry-add-device, entry-inode (a
 *                 setattr of an inode that does not exist), extent-outside (not
 *                 inside a device's data region), extent-unaligned (not on
 *                 an allocation unit), overlap (two files share space: both
 *                 paths named)
 *   cross-check   replay-failed, replay-mismatch
 */
#ifndef FAMRT_META_FSCK_H
#define FAMRT_META_FSCK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

enum famrt_fsck_severity {
	FAMRT_FSCK_WARNING = 1,
	FAMRT_FSCK_ERROR = 2,
};

#define FAMRT_FSCK_NO_DEV UINT32_MAX    /* finding is not about a device */
#define FAMRT_FSCK_NO_OFFSET UINT64_MAX /* ... or not about a place on it */

/* One finding; every pointer is valid only during the callback. */
struct famrt_fsck_finding {
	enum famrt_fsck_severity severity;
	const char *code;    /* short stable code (see above), static */
	uint32_t dev;        /* device index or FAMRT_FSCK_NO_DEV */
	uint64_t offset;     /* byte offset on dev or FAMRT_FSCK_NO_OFFSET */
	uint64_t seq;        /* log entry concerned, 0 if none */
	const char *path;    /* file or directory concerned, or NULL */
	const char *message; /* one line: what, and where */
};

typedef void (*famrt_fsck_report_fn)(const struct famrt_fsck_finding *f,
				     void *arg);

struct famrt_fsck_opts {
	famrt_fsck_report_fn report; /* NULL: only count findings */
	void *arg;
};

struct famrt_fsck_summary {
	bool complete;          /* every check could run */
	bool operational_error; /* a device could not be opened or mapped,
				 * or memory ran out: the check is partial */
	char name[64];          /* file system name ("" if no superblock) */
	uint8_t uuid[16];
	uint32_t ndevs;         /* devices of the file system (sb + log) */
	uint32_t ndevs_given;
	uint64_t entries;       /* valid entries replay reaches */
	uint64_t entries_lost;  /* valid entries after a damaged one */
	uint64_t skipped;       /* valid entries that could not be applied */
	uint64_t files, dirs;   /* not counting the root */
	uint64_t file_bytes;    /* sum of file sizes */
	uint64_t bytes_total;   /* data regions of all devices */
	uint64_t bytes_used;    /* allocated to files */
	uint64_t bytes_free;
	uint64_t log_size;      /* bytes */
	uint64_t log_used;      /* bytes up to the end of the last entry */
	uint64_t errors, warnings;
};

/*
 * Check the file system on devices paths[0..n) (device 0 first). Findings
 * go to o->report (o may be NULL) and are counted in *s. Returns 0 when the
 * check ran (even if it found errors or had to stop early: see
 * s->complete), or -errno for an operational error (a device that cannot
 * be opened or mapped, out of memory), with the reason in e and
 * s->operational_error set. Never writes to any device.
 */
int famrt_fsck(const char *const *paths, uint32_t n,
	       const struct famrt_fsck_opts *o, struct famrt_fsck_summary *s,
	       struct famrt_err *e);

/*
 * Exit status in the manner of fsck(8), as a bit mask: 0 no error found
 * (warnings allowed), 4 errors left uncorrected, 8 operational error.
 */
int famrt_fsck_exit_code(const struct famrt_fsck_summary *s);

/* "error" or "warning". */
const char *famrt_fsck_severity_name(enum famrt_fsck_severity sev);

#endif
