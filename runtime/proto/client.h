/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small synchronous famrtd client: one request at a time on one
 * connection (a mutex serializes callers). Used by the CLI, the tests and
 * the runtime. It trusts nothing it receives: the service must run as root,
 * as this user, or as the configured service user, and every fmap is
 * validated against the device table before it is returned.
 */
#ifndef FAMRT_PROTO_CLIENT_H
#define FAMRT_PROTO_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include <famrt/fmap.h>

#include "proto/proto.h"
#include "util/err.h"

struct famrt_client;

/*
 * The socket path for file system uuid: $FAMRT_RUN_DIR (default /run/famrt)
 * + "/<uuid>.sock". Returns 0 or -ENAMETOOLONG.
 */
int famrt_client_socket_path(const uint8_t *fs_uuid, char *buf, size_t len);

/*
 * The name famrtd also publishes for its file system, derived from device
 * 0's identity (its device number, or a file's device and inode) which any
 * user can stat: $FAMRT_RUN_DIR/dev-MAJ-MIN.sock or file-DEV-INO.sock. For
 * users who may not read device 0's superblock. If dir is not NULL it is
 * used instead of the run directory. Returns 0 or -errno.
 */
int famrt_client_socket_alias(const char *dev0, const char *dir, char *buf,
			      size_t len);

/*
 * Connect to the service at path, check who it is (SO_PEERCRED: root, our
 * own uid, or $FAMRT_SERVICE_UID), say hello and fetch the device table.
 * ENOENT/ECONNREFUSED when no service listens there; EPERM when the peer is
 * not trusted.
 */
int famrt_client_connect(struct famrt_client **out, const char *path,
			 struct famrt_err *e);
void famrt_client_close(struct famrt_client *c);

/* What the service said at hello, and its device table. */
const struct famrt_proto_hello_rep *
famrt_client_hello(const struct famrt_client *c);
const struct famrt_proto_devices_rep *
famrt_client_devtable(const struct famrt_client *c);

/* Limits for validating this file system's fmaps (points into c). */
void famrt_client_fmap_limits(const struct famrt_client *c,
			      struct famrt_fmap_limits *lim);

/*
 * Ask for the device descriptors: fds[i] gets the descriptor of device i
 * (the caller owns it) or -1; access[i] FAMRT_DEV_ACCESS_*. EACCES when the
 * service gives this client none.
 */
int famrt_client_device_fds(struct famrt_client *c, int *fds, uint32_t *access,
			    struct famrt_err *e);

int famrt_client_lookup(struct famrt_client *c, const char *path,
			struct famrt_proto_attr *a, struct famrt_err *e);
int famrt_client_getattr(struct famrt_client *c, uint64_t ino,
			 struct famrt_proto_attr *a, struct famrt_err *e);
/*
 * One page of a directory: fn for each entry; *next gets the cookie to
 * continue from (UINT64_MAX at the end).
 */
int famrt_client_readdir(struct famrt_client *c, uint64_t ino, uint64_t cookie,
			 uint32_t max,
			 int (*fn)(const struct famrt_proto_dirent *, void *),
			 void *arg, uint64_t *next, struct famrt_err *e);
/*
 * The file's fmap, validated against the device table: *map (caller frees
 * with famrt_fmap_free) and, if raw is not NULL, the message bytes (raw
 * holds at least FAMRT_FMAP_MSG_MAX bytes; *rawlen gets the length).
 */
int famrt_client_get_fmap(struct famrt_client *c, uint64_t ino,
			  struct famrt_fmap **map, uint8_t *raw, size_t *rawlen,
			  struct famrt_err *e);
/*
 * Look up path and, for a file, fetch and validate its map, in one round
 * trip; access is FAMRT_OPEN_READ and/or FAMRT_OPEN_WRITE (checked by the
 * service). *map is NULL for a directory.
 */
int famrt_client_open(struct famrt_client *c, const char *path,
		      uint32_t access, struct famrt_proto_attr *a,
		      struct famrt_fmap **map, struct famrt_err *e);
/* Files created by writing (see FAMRT_OP_BEGIN in proto.h). */
int famrt_client_begin(struct famrt_client *c, const char *path, uint32_t mode,
		       uint64_t *handle, struct famrt_err *e);
/*
 * Reserve at least bytes more; x (32 entries) gets the new extents, *n how
 * many. Each is checked against the device table.
 */
int famrt_client_alloc(struct famrt_client *c, uint64_t handle, uint64_t bytes,
		       struct famrt_fmap_strip *x, uint32_t *n,
		       struct famrt_err *e);
int famrt_client_commit(struct famrt_client *c, uint64_t handle, uint64_t size,
			uint32_t mode, struct famrt_proto_attr *a,
			struct famrt_err *e);
int famrt_client_abort(struct famrt_client *c, uint64_t handle,
		       struct famrt_err *e);
int famrt_client_create(struct famrt_client *c, const char *path,
			const struct famrt_proto_create_req *req,
			struct famrt_proto_attr *a, struct famrt_err *e);
int famrt_client_mkdir(struct famrt_client *c, const char *path, uint32_t mode,
		       struct famrt_proto_attr *a, struct famrt_err *e);
int famrt_client_setattr(struct famrt_client *c, const char *path,
			 uint32_t mode, uint32_t uid, uint32_t gid,
			 struct famrt_proto_attr *a, struct famrt_err *e);
int famrt_client_statfs(struct famrt_client *c,
			struct famrt_proto_statfs_rep *s, struct famrt_err *e);

#endif
