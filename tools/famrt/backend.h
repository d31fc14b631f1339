/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How the famrt commands reach a file system: a small table of operations
 * behind one handle, with two implementations: "direct" opens the devices
 * with famrt_fs_open() and acts on them (changes append to the log under
 * its lock; read-only commands open read-only), "service" talks to the
 * famrtd serving the file system on this host. famrt_backend_open() is the
 * one place that chooses (changes go through famrtd when one runs).
 *
 * The currency is the service protocol's: attributes are struct
 * famrt_proto_attr, statfs is struct famrt_proto_statfs_rep, directory
 * entries are struct famrt_proto_dirent, a file's map is the GET_FMAP
 * message bytes. Every operation returns 0 or -errno and, on failure, one
 * line in *e that says what and where.
 *
 * Not thread-safe: one thread at a time per handle.
 */
#ifndef FAMRT_TOOL_BACKEND_H
#define FAMRT_TOOL_BACKEND_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/alloc.h"
#include "meta/format.h"
#include "meta/fs.h"
#include "proto/proto.h"
#include "util/err.h"

/* A file system named by its devices: "DEV0[,DEV1...]", device 0 first. */
struct famrt_fs_spec {
	uint32_t n;
	const char *paths[FAMRT_MAX_DEVS];
	char *buf_; /* private: the copy the paths point into */
};

/*
 * Split spec at commas into s (paths point into a private copy). Refuses
 * with EINVAL an empty spec or an empty path, with E2BIG more than 32
 * devices. Free with famrt_fs_spec_free() (also after a failure).
 */
int famrt_fs_spec_parse(struct famrt_fs_spec *s, const char *spec,
			struct famrt_err *e);
void famrt_fs_spec_free(struct famrt_fs_spec *s);

struct famrt_backend_opts {
	const char *fs;      /* "DEV0[,DEV1...]" (required) */
	const char *host_id; /* NULL: famrt_host_id() ($FAMRT_HOST_ID,
			      * /etc/machine-id, ...) */
	bool readonly;       /* map read-only; refuse every change */
};

/* One device, as HELLO + DEVICES would describe it. */
struct famrt_backend_dev {
	char path[PATH_MAX];
	uint64_t size;
	uint64_t align;
	uint8_t uuid[16];
};

/* The file system, as HELLO + DEVICES would describe it. */
struct famrt_backend_info {
	const char *kind;                 /* "direct" or "service" */
	uint8_t fs_uuid[16];
	char fs_name[FAMRT_NAME_MAX + 1];
	char host_id[FAMRT_HOSTID_MAX + 1];
	char master[FAMRT_HOSTID_MAX + 1];
	bool is_master;                   /* this host may change metadata */
	bool noncoherent;                 /* invalidate before reading data */
	bool readonly;
	uint64_t alloc_unit;
	uint32_t ndevs;
	struct famrt_backend_dev dev[FAMRT_MAX_DEVS];
};

/* A device's mapping in this process. */
struct famrt_backend_map {
	void *base;
	uint64_t size;
	bool writable;
};

/*
 * Called for each directory entry; return non-zero to stop (the entry it
 * was called with still counts as given: the next cookie is after it).
 */
typedef int (*famrt_backend_dirent_fn)(const struct famrt_proto_dirent *d,
				       void *arg);

struct famrt_backend;

struct famrt_backend_ops {
	void (*close)(struct famrt_backend *be);
	int (*lookup)(struct famrt_backend *be, const char *path,
		      struct famrt_proto_attr *a, struct famrt_err *e);
	int (*getattr)(struct famrt_backend *be, uint64_t ino,
		       struct famrt_proto_attr *a, struct famrt_err *e);
	int (*readdir)(struct famrt_backend *be, uint64_t ino, uint64_t cookie,
		       uint32_t max, famrt_backend_dirent_fn fn, void *arg,
		       uint64_t *next_cookie, struct famrt_err *e);
	int (*get_fmap)(struct famrt_backend *be, uint64_t ino, uint8_t *buf,
			size_t cap, size_t *len, struct famrt_err *e);
	int (*create)(struct famrt_backend *be, const char *path,
		      uint32_t mode, uint64_t size,
		      const struct famrt_alloc_layout *lay,
		      struct famrt_proto_attr *a, struct famrt_err *e);
	int (*mkdir)(struct famrt_backend *be, const char *path,
		     uint32_t mode, struct famrt_proto_attr *a,
		     struct famrt_err *e);
	int (*statfs)(struct famrt_backend *be,
		      struct famrt_proto_statfs_rep *s, struct famrt_err *e);
	int (*device_map)(struct famrt_backend *be, uint32_t index,
			  struct famrt_backend_map *m, struct famrt_err *e);
	/* Optional (NULL: -EOPNOTSUPP): per-device free space. */
	int (*alloc_stats)(struct famrt_backend *be,
			   struct famrt_alloc_stats *s, struct famrt_err *e);
	/* Optional: the log as it is on the media (see famrt_fs_log_next). */
	int (*log_next)(struct famrt_backend *be, struct famrt_log_cursor *c,
			struct famrt_entry_hdr *h, const uint8_t **payload,
			struct famrt_err *e);
	/* Optional: add a device as the next index (logged). */
	int (*add_device)(struct famrt_backend *be, const char *path,
			  struct famrt_err *e);
};

struct famrt_backend {
	const struct famrt_backend_ops *ops;
	struct famrt_backend_info info;
};

/*
 * Open the file system o->fs the best way there is. Today: always the
 * direct backend. (Lead: "if a service is running for this fs, use it"
 * goes here.) Returns 0 and *out, or -errno with the message in e.
 */
int famrt_backend_open(struct famrt_backend **out,
		       const struct famrt_backend_opts *o, struct famrt_err *e);

/* The service backend: the famrtd serving spec's file system. */
int famrt_backend_open_service(struct famrt_backend **out, const char *spec,
			       struct famrt_err *e);

/* The pid of a famrtd serving spec's file system on this host, or 0. */
int famrt_backend_service_pid(const char *spec);

/* The direct backend: famrt_fs_open() on the devices of o->fs. */
int famrt_backend_open_direct(struct famrt_backend **out,
			      const struct famrt_backend_opts *o,
			      struct famrt_err *e);

void famrt_backend_close(struct famrt_backend *be);

/*
 * The operations (see struct famrt_backend_ops). Paths are absolute famrt
 * paths ("/dir/file"). Attributes: mode carries S_IFDIR or S_IFREG;
 * alloc_bytes is the space the file's map holds.
 */
int famrt_backend_lookup(struct famrt_backend *be, const char *path,
			 struct famrt_proto_attr *a, struct famrt_err *e);
int famrt_backend_getattr(struct famrt_backend *be, uint64_t ino,
			  struct famrt_proto_attr *a, struct famrt_err *e);
/*
 * At most max (1..FAMRT_PROTO_READDIR_MAX) entries of directory ino from
 * cookie (0: the start), in creation order; *next_cookie is where to go on
 * from, UINT64_MAX when the directory is done. ENOTDIR for a file.
 */
int famrt_backend_readdir(struct famrt_backend *be, uint64_t ino,
			  uint64_t cookie, uint32_t max,
			  famrt_backend_dirent_fn fn, void *arg,
			  uint64_t *next_cookie, struct famrt_err *e);
/* The GET_FMAP message of file ino into buf (cap >= FAMRT_FMAP_MSG_MAX). */
int famrt_backend_get_fmap(struct famrt_backend *be, uint64_t ino,
			   uint8_t *buf, size_t cap, size_t *len,
			   struct famrt_err *e);
/*
 * Make a file of size bytes (allocated whole; immutable once made) or a
 * directory. mode is permission bits (<= 07777), used as given; the owner
 * is the caller (direct: effective uid/gid; service: SO_PEERCRED). lay NULL
 * is simple on every device. a may be NULL.
 */
int famrt_backend_create(struct famrt_backend *be, const char *path,
			 uint32_t mode, uint64_t size,
			 const struct famrt_alloc_layout *lay,
			 struct famrt_proto_attr *a, struct famrt_err *e);
int famrt_backend_mkdir(struct famrt_backend *be, const char *path,
			uint32_t mode, struct famrt_proto_attr *a,
			struct famrt_err *e);
int famrt_backend_statfs(struct famrt_backend *be,
			 struct famrt_proto_statfs_rep *s, struct famrt_err *e);
/* Device index's whole mapping (mapped once, kept until close). */
int famrt_backend_device_map(struct famrt_backend *be, uint32_t index,
			     struct famrt_backend_map *m,
			     struct famrt_err *e);
int famrt_backend_alloc_stats(struct famrt_backend *be,
			      struct famrt_alloc_stats *s,
			      struct famrt_err *e);
/* 1 and an entry, 0 at the end of the log, or -errno. */
int famrt_backend_log_next(struct famrt_backend *be,
			   struct famrt_log_cursor *c,
			   struct famrt_entry_hdr *h, const uint8_t **payload,
			   struct famrt_err *e);
int famrt_backend_add_device(struct famrt_backend *be, const char *path,
			     struct famrt_err *e);

/*
 * The default permission bits of a new file (0644) or directory (0755)
 * with the process umask applied.
 */
uint32_t famrt_backend_default_mode(bool dir);

/* Limits for decoding this file system's fmaps (sizes/aligns: 32 each). */
void famrt_backend_fmap_limits(const struct famrt_backend *be,
			       struct famrt_fmap_limits *lim,
			       uint64_t *sizes, uint64_t *aligns);

#endif
