/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The famrtd protocol (docs/protocol.md): one message per SOCK_SEQPACKET
 * packet, a fixed 32-byte header, then a body whose layout depends on the
 * operation. Encoders and decoders shared by the service and every client;
 * decoders check every length and field before anything is used.
 */
#ifndef FAMRT_PROTO_H
#define FAMRT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <famrt/fmap.h>

#include "util/err.h"

#define FAMRT_PROTO_MAGIC 0x31505246u /* "FRP1" */
#define FAMRT_PROTO_VERSION 1u
#define FAMRT_PROTO_HDR_SIZE 32u
#define FAMRT_PROTO_MSG_MAX 65536u      /* largest message either way */
#define FAMRT_PROTO_REQ_MAX 8192u       /* largest request */
#define FAMRT_PROTO_ERRMSG_MAX 256u     /* error text in a reply */
#define FAMRT_PROTO_READDIR_MAX 240u    /* entries per readdir reply: 240
					 * of the longest name fit a reply */
#define FAMRT_PROTO_FLAG_REPLY 0x1u

enum famrt_op {
	FAMRT_OP_HELLO = 1,
	FAMRT_OP_DEVICES = 2,
	FAMRT_OP_LOOKUP = 3,
	FAMRT_OP_GETATTR = 4,
	FAMRT_OP_READDIR = 5,
	FAMRT_OP_GET_FMAP = 6,
	FAMRT_OP_CREATE = 7,
	FAMRT_OP_MKDIR = 8,
	FAMRT_OP_STATFS = 9,
	FAMRT_OP_OPEN = 10,
	FAMRT_OP_BEGIN = 11,  /* start a file created by writing */
	FAMRT_OP_ALLOC = 12,  /* reserve more space for it */
	FAMRT_OP_COMMIT = 13, /* log it with its final size */
	FAMRT_OP_ABORT = 14,  /* drop it and its space */
	FAMRT_OP_SETATTR = 15, /* change mode or owner */
	FAMRT_OP_COUNT_
};

struct famrt_proto_hdr {
	uint16_t version;
	uint16_t op;
	uint32_t length;  /* whole message, header included */
	uint32_t flags;
	uint64_t req_id;
	int32_t status;   /* replies: 0 or -errno */
};

/* HELLO */
struct famrt_proto_hello_req {
	uint16_t min_version, max_version;
};
#define FAMRT_HELLO_MASTER 0x1u      /* this service's host is the master */
#define FAMRT_HELLO_NONCOHERENT 0x2u /* invalidate before reading */
struct famrt_proto_hello_rep {
	uint16_t version;
	uint32_t flags;
	uint32_t server_pid;
	uint32_t ndevs;
	uint64_t alloc_unit;
	uint8_t fs_uuid[16];
	char fs_name[64];
	char host_id[64];
	char master[64];
};

/*
 * DEVICES: the device table; when the client may use the devices, the reply
 * also carries one descriptor per device (SCM_RIGHTS), in index order.
 */
#define FAMRT_DEV_ACCESS_NONE 0u /* no descriptor sent */
#define FAMRT_DEV_ACCESS_RO 1u   /* an O_RDONLY descriptor */
#define FAMRT_DEV_ACCESS_RW 2u   /* an O_RDWR descriptor */
struct famrt_proto_dev {
	uint32_t index;
	uint32_t access;   /* FAMRT_DEV_ACCESS_* */
	uint64_t size;
	uint64_t align;
	int32_t numa_node;
	uint8_t uuid[16];
};
struct famrt_proto_devices_rep {
	uint32_t ndevs;
	struct famrt_proto_dev dev[32];
};

/* Attributes, as in LOOKUP / GETATTR / CREATE / MKDIR replies. */
struct famrt_proto_attr {
	uint64_t ino;
	uint64_t parent;
	uint32_t mode;
	uint32_t uid, gid;
	uint32_t nlink;
	uint64_t size;
	uint64_t alloc_bytes;
	uint64_t mtime_ns;
};

struct famrt_proto_path_req {
	uint16_t path_len;
	uint32_t access;  /* OPEN: FAMRT_OPEN_READ | FAMRT_OPEN_WRITE */
	const char *path; /* points into the message */
};
#define FAMRT_OPEN_READ 0x1u
#define FAMRT_OPEN_WRITE 0x2u

struct famrt_proto_ino_req {
	uint64_t ino;
};

struct famrt_proto_readdir_req {
	uint64_t ino;
	uint64_t cookie;
	uint32_t max;
};

struct famrt_proto_dirent {
	uint64_t ino;
	uint32_t mode;
	uint16_t name_len;
	const char *name; /* points into the message */
};

struct famrt_proto_create_req {
	uint32_t mode;
	uint32_t layout;  /* 0 simple, 1 interleave */
	uint64_t size;
	uint32_t nstrips; /* 0: one per device */
	uint32_t chunk;   /* 0: allocation unit */
	uint32_t ndevs;   /* 0: every device */
	uint32_t devs[32];
	uint16_t path_len;
	const char *path;
};

struct famrt_proto_mkdir_req {
	uint32_t mode;
	uint16_t path_len;
	const char *path;
};

/* ALLOC and COMMIT; ABORT uses the ino request form for its handle. */
struct famrt_proto_alloc_req {
	uint64_t handle;
	uint64_t bytes;
};
#define FAMRT_COMMIT_KEEP_MODE 0xffffffffu
struct famrt_proto_commit_req {
	uint64_t handle;
	uint64_t size;
	uint32_t mode; /* FAMRT_COMMIT_KEEP_MODE: the mode given at BEGIN */
};
#define FAMRT_PROTO_ALLOC_MAX_EXT 32u

/* SETATTR: fields equal to FAMRT_SETATTR_KEEP stay as they are. */
struct famrt_proto_setattr_req {
	uint32_t mode, uid, gid;
	uint16_t path_len;
	const char *path;
};

struct famrt_proto_statfs_rep {
	uint64_t size, free, largest_free, free_runs;
	uint64_t files, dirs;
	uint64_t log_used, log_size, entries;
	uint64_t alloc_unit;
	uint32_t ndevs;
};

/* A decoded request (service side). */
struct famrt_proto_req {
	struct famrt_proto_hdr hdr;
	union {
		struct famrt_proto_hello_req hello;
		struct famrt_proto_path_req path;       /* LOOKUP, OPEN */
		struct famrt_proto_ino_req ino;         /* GETATTR, GET_FMAP */
		struct famrt_proto_readdir_req readdir;
		struct famrt_proto_create_req create;
		struct famrt_proto_mkdir_req mkdir;     /* MKDIR, BEGIN */
		struct famrt_proto_alloc_req alloc;
		struct famrt_proto_commit_req commit;
		struct famrt_proto_setattr_req setattr;
	} u;
};

const char *famrt_op_name(uint16_t op);

/* Header: encode into 32 bytes; decode and check magic/version/length. */
void famrt_proto_hdr_encode(uint8_t *buf, const struct famrt_proto_hdr *h);
int famrt_proto_hdr_decode(const uint8_t *buf, size_t len,
			   struct famrt_proto_hdr *h, struct famrt_err *e);

/*
 * Decode a whole request of len bytes (service side). Every field is
 * checked: -EPROTO (bad header, wrong length for the op, non-zero reserved
 * bytes), -EPROTONOSUPPORT (version), -EOPNOTSUPP (unknown op), -EINVAL
 * (bad values, e.g. a path that is not absolute). The header is filled as
 * far as it could be read, so a reply can echo the request id.
 */
int famrt_proto_req_decode(const uint8_t *buf, size_t len,
			   struct famrt_proto_req *r, struct famrt_err *e);

/*
 * Message builder: a buffer of FAMRT_PROTO_MSG_MAX bytes with a write
 * position. Writers append little-endian fields; famrt_msg_finish() fills
 * the header (length included) and returns the message length.
 */
struct famrt_msg {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};
void famrt_msg_init(struct famrt_msg *m, uint8_t *buf, size_t cap);
void famrt_msg_u16(struct famrt_msg *m, uint16_t v);
void famrt_msg_u32(struct famrt_msg *m, uint32_t v);
void famrt_msg_u64(struct famrt_msg *m, uint64_t v);
void famrt_msg_bytes(struct famrt_msg *m, const void *p, size_t n);
void famrt_msg_pad8(struct famrt_msg *m);
/* Returns the length, or -EMSGSIZE if anything did not fit. */
ssize_t famrt_msg_finish(struct famrt_msg *m, const struct famrt_proto_hdr *h);

/* Request encoders (client side): return the message length or -errno. */
ssize_t famrt_proto_hello_req_encode(uint8_t *buf, size_t cap, uint64_t id);
ssize_t famrt_proto_simple_req_encode(uint8_t *buf, size_t cap, uint16_t op,
				      uint64_t id); /* DEVICES, STATFS */
ssize_t famrt_proto_path_req_encode(uint8_t *buf, size_t cap, uint16_t op,
				    uint64_t id, const char *path);
ssize_t famrt_proto_open_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				    const char *path, uint32_t access);
ssize_t famrt_proto_ino_req_encode(uint8_t *buf, size_t cap, uint16_t op,
				   uint64_t id, uint64_t ino);
ssize_t famrt_proto_readdir_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				       uint64_t ino, uint64_t cookie,
				       uint32_t max);
ssize_t famrt_proto_create_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				      const struct famrt_proto_create_req *c,
				      const char *path);
ssize_t famrt_proto_mkdir_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				     uint32_t mode, const char *path);
/* BEGIN has the MKDIR layout. */
ssize_t famrt_proto_begin_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				     uint32_t mode, const char *path);
ssize_t famrt_proto_alloc_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				     uint64_t handle, uint64_t bytes);
ssize_t famrt_proto_setattr_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				       uint32_t mode, uint32_t uid, uint32_t gid,
				       const char *path);
ssize_t famrt_proto_commit_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				      const struct famrt_proto_commit_req *c);
/*
 * ALLOC reply: u32 count, u32 reserved, then count extents in the simple
 * extent wire form (u32 dev, u32 reserved, u64 offset, u64 length).
 */
void famrt_proto_extents_put(struct famrt_msg *m,
			     const struct famrt_fmap_strip *x, uint32_t n);
int famrt_proto_extents_get(const uint8_t *body, size_t len,
			    struct famrt_fmap_strip *x, uint32_t *n,
			    struct famrt_err *e);

/* Reply bodies (service side writes with famrt_msg_*; these help). */
void famrt_proto_attr_put(struct famrt_msg *m, const struct famrt_proto_attr *a);
void famrt_proto_hello_put(struct famrt_msg *m,
			   const struct famrt_proto_hello_rep *h);
void famrt_proto_devices_put(struct famrt_msg *m,
			     const struct famrt_proto_devices_rep *d);
void famrt_proto_statfs_put(struct famrt_msg *m,
			    const struct famrt_proto_statfs_rep *s);
/* An error reply: status < 0 and a one-line message. */
ssize_t famrt_proto_error_encode(uint8_t *buf, size_t cap, uint16_t op,
				 uint64_t id, int status, const char *msg);

/* Reply decoders (client side): body = message after the header. */
int famrt_proto_attr_get(const uint8_t *body, size_t len,
			 struct famrt_proto_attr *a, struct famrt_err *e);
/*
 * OPEN reply: attributes, then (regular files) the fmap message: *fmap and
 * *fmap_len point into body (length 0 for a directory).
 */
int famrt_proto_open_get(const uint8_t *body, size_t len,
			 struct famrt_proto_attr *a, const uint8_t **fmap,
			 size_t *fmap_len, struct famrt_err *e);
int famrt_proto_hello_get(const uint8_t *body, size_t len,
			  struct famrt_proto_hello_rep *h, struct famrt_err *e);
int famrt_proto_devices_get(const uint8_t *body, size_t len,
			    struct famrt_proto_devices_rep *d,
			    struct famrt_err *e);
int famrt_proto_statfs_get(const uint8_t *body, size_t len,
			   struct famrt_proto_statfs_rep *s,
			   struct famrt_err *e);
int famrt_proto_error_get(const uint8_t *body, size_t len, char *msg,
			  size_t msglen);
/*
 * Readdir reply: u64 next cookie, u32 count, u32 reserved, then count
 * entries. Calls fn for each; -EPROTO on any malformed entry.
 */
int famrt_proto_readdir_get(const uint8_t *body, size_t len,
			    uint64_t *next_cookie,
			    int (*fn)(const struct famrt_proto_dirent *, void *),
			    void *arg, struct famrt_err *e);
void famrt_proto_dirent_put(struct famrt_msg *m,
			    const struct famrt_proto_dirent *d);
/* Bytes one dirent takes in a reply. */
size_t famrt_proto_dirent_size(uint16_t name_len);

#endif
