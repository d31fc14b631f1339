/* SPDX-License-Identifier: Apache-2.0 */
/* libfamrt internals shared by its files (and the preload shim). */
#ifndef FAMRT_CLIENT_INTERNAL_H
#define FAMRT_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <famrt/famrt.h>

#include "dax/dax.h"
#include "proto/client.h"

/* A cached file: its attributes and map, shared by every open of it. */
struct famrt_inode {
	char *path;
	uint64_t ino;
	struct famrt_proto_attr attr;
	struct famrt_fmap *map;
	uint32_t granted;   /* FAMRT_OPEN_* the service allowed us */
	uint8_t *direct;    /* the whole file in one run: its address */
	uint32_t nopen;     /* open handles (under fs->lock) */
	struct famrt_inode *next;
};

struct famrt_mapping {
	void *base;        /* what famrt_munmap gets (the address returned) */
	void *region;      /* reserved region (NULL: device mapping itself) */
	size_t region_len;
	uint64_t pieces;
	struct famrt_mapping *next;
};

struct shared_dev;

struct famrt {
	pthread_mutex_t lock; /* client, cache, mapping list, counters */
	struct famrt_client *client;
	pid_t pid;            /* the process the connection belongs to */
	char socket[108];
	uint32_t ndevs;
	struct famrt_dev dev[32]; /* copies: the descriptors and mappings
				   * belong to sdev[], shared in the process */
	struct shared_dev *sdev[32];
	uint8_t *base[32];    /* device mappings, NULL when not accessible */
	bool writable[32];
	bool noncoherent;
	/* File cache: a hash of paths. */
	struct famrt_inode **cache;
	size_t nbuckets, ncached;
	uint64_t open_files;
	/* famrt_mmap bookkeeping. */
	struct famrt_mapping *maps;
	uint64_t map_pieces, map_budget;
	struct famrt *reg_next; /* registry for fork handling */
};

/* A file created by writing, until it is committed. */
struct famrt_growing {
	pthread_mutex_t lock;   /* growth and size */
	pid_t owner;            /* the process creating it (not its children) */
	uint64_t handle;        /* the service's name for it */
	char *path;
	uint32_t mode;
	uint64_t capacity;      /* bytes reserved */
	uint64_t size;          /* bytes written so far (high-water mark) */
	uint32_t n;             /* extents reserved */
	struct famrt_fmap_strip ext[FAMRT_FMAP_MAX_EXTENTS];
	uint64_t start[FAMRT_FMAP_MAX_EXTENTS + 1]; /* file offset of each */
};

struct famrt_file {
	struct famrt *fs;
	struct famrt_growing *grow; /* not NULL until committed */
	struct famrt_inode *ino;
	const struct famrt_fmap *map;
	uint8_t *const *base;
	uint64_t size;
	uint8_t *direct;     /* one-run file: the bytes, else NULL */
	bool writable;
	bool noncoherent;
};

/* Record a failure for famrt_errmsg(); returns -code. */
__attribute__((format(printf, 2, 3))) int famrt_fail(int code,
						     const char *fmt, ...);
/* Record e's message; returns -e->code. */
int famrt_fail_err(const struct famrt_err *e);

/* Reconnect to the service if this is a forked child (lock held). */
int famrt_ensure_conn(struct famrt *fs);

/* Growing files (grow.c). */
ssize_t famrt_grow_pread(struct famrt_file *f, void *buf, size_t len,
			 uint64_t off);
ssize_t famrt_grow_pwrite(struct famrt_file *f, const void *buf, size_t len,
			  uint64_t off);
/* Flush, commit to the log and turn f into an ordinary open file. */
int famrt_grow_commit(struct famrt_file *f);
/* Give the space back (after a failure, or a close that cannot commit). */
void famrt_grow_abort(struct famrt_file *f);
/* Open a cached inode as an ordinary file (famrt.c; lock held). */
int famrt_file_attach(struct famrt_file *f, const char *path);

/* Copy routines chosen once by CPU features (io.c). */
void famrt_copy_to_dev(void *dst, const void *src, size_t len);
void famrt_copy_from_dev(void *dst, const void *src, size_t len);
/* Bytes from which writes use non-temporal stores (0: never). */
size_t famrt_nt_threshold(void);
/*
 * Choose the copy routines again, reading FAMRT_NT_THRESHOLD anew (for
 * benchmarks and tests: not safe while another thread writes).
 */
void famrt_copy_rechoose(void);

#endif
