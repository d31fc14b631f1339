/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-media format of a famrt file system (docs/format.md): superblock,
 * device labels, log tail slots and log entries. Pure encode/decode of byte
 * buffers, fixed little-endian layouts, no I/O: the writer, the follower,
 * fsck, the service and the fuzzers all use this one piece of code.
 */
#ifndef FAMRT_META_FORMAT_H
#define FAMRT_META_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

#define FAMRT_FORMAT_VERSION 1u
#define FAMRT_MAX_DEVS 32u

#define FAMRT_SB_SIZE 4096u
#define FAMRT_SB_OFFSET 0u          /* primary superblock, device 0 */
#define FAMRT_SB_BACKUP_OFFSET 4096u /* backup copy, device 0 */
#define FAMRT_LABEL_SIZE 4096u      /* label at offset 0 of devices 1.. */
#define FAMRT_LOG_DEFAULT_OFFSET 8192u
#define FAMRT_LOG_MIN_SIZE (256u * 1024)
#define FAMRT_LOG_DEFAULT_SIZE (64ull * 1024 * 1024)
#define FAMRT_NAME_MAX 63u          /* file system name, bytes */
#define FAMRT_HOSTID_MAX 63u        /* master host id, bytes */

/* Superblock flags. */
#define FAMRT_SB_NONCOHERENT 0x1u   /* invalidate before reading */
#define FAMRT_SB_KNOWN_FLAGS FAMRT_SB_NONCOHERENT

/* Log region: two tail slots, then entries. */
#define FAMRT_TAIL_SLOT_SIZE 64u
#define FAMRT_LOG_ENTRIES_START (2 * FAMRT_TAIL_SLOT_SIZE)
#define FAMRT_ENTRY_HDR_SIZE 32u
#define FAMRT_ENTRY_MAX_PAYLOAD 65536u
#define FAMRT_ENTRY_MAGIC 0x31454c46u /* "FLE1" */

/* Log entry types. */
enum famrt_entry_type {
	FAMRT_ENTRY_MKDIR = 1,
	FAMRT_ENTRY_CREATE = 2,
	FAMRT_ENTRY_ADD_DEVICE = 3,
	FAMRT_ENTRY_SETATTR = 4,
};
/* Entry flags. */
#define FAMRT_ENTRY_SKIPPABLE 0x1u /* readers that do not know the type may
				    * skip it; otherwise they must stop */
#define FAMRT_ENTRY_KNOWN_FLAGS FAMRT_ENTRY_SKIPPABLE

#define FAMRT_PATH_MAX 4095u
#define FAMRT_NAME_COMPONENT_MAX 255u

struct famrt_sb_dev {
	uint8_t uuid[16];
	uint64_t size;       /* bytes the file system uses */
	uint64_t align;      /* mapping alignment */
	uint64_t data_start; /* first byte for file data */
};

struct famrt_sb {
	uint32_t version;
	uint8_t uuid[16];
	char name[FAMRT_NAME_MAX + 1];
	uint64_t alloc_unit;
	uint64_t log_offset; /* on device 0 */
	uint64_t log_size;
	uint64_t ctime_ns;
	char master[FAMRT_HOSTID_MAX + 1];
	uint32_t ndevs;
	uint32_t flags;
	struct famrt_sb_dev devs[FAMRT_MAX_DEVS];
};

struct famrt_label {
	uint32_t version;
	uint32_t devindex;
	uint8_t fs_uuid[16];
	uint8_t dev_uuid[16];
	uint64_t size;
};

struct famrt_tail {
	uint64_t seq; /* last committed entry (0: none) */
	uint64_t end; /* log-relative offset just past it */
};

/* A decoded entry header. */
struct famrt_entry_hdr {
	uint32_t crc;
	uint64_t seq;
	uint16_t type;
	uint16_t flags;
	uint32_t len;     /* payload bytes */
	uint64_t time_ns;
};

struct famrt_ent_mkdir {
	uint32_t mode, uid, gid;
	const char *path; /* not NUL-terminated: path_len bytes */
	uint16_t path_len;
};

struct famrt_ent_create {
	uint32_t mode, uid, gid;
	const char *path;
	uint16_t path_len;
	const uint8_t *fmap; /* seed-format message */
	uint32_t fmap_len;
};

struct famrt_ent_add_device {
	uint32_t devindex;
	struct famrt_sb_dev dev;
};

/* Change owner or mode of an existing object (field = KEEP: unchanged). */
#define FAMRT_SETATTR_KEEP 0xffffffffu
struct famrt_ent_setattr {
	uint64_t ino;
	uint32_t mode, uid, gid;
};

/* Encoded size of an entry with a payload of len bytes. */
static inline size_t famrt_entry_size(size_t len)
{
	return FAMRT_ENTRY_HDR_SIZE + ((len + 7) & ~(size_t)7);
}

/* Superblock: encode into 4096 bytes (with CRC); decode and check. */
void famrt_sb_encode(const struct famrt_sb *sb, uint8_t *buf);
int famrt_sb_decode(const uint8_t *buf, struct famrt_sb *sb,
		    struct famrt_err *e);

void famrt_label_encode(const struct famrt_label *l, uint8_t *buf);
int famrt_label_decode(const uint8_t *buf, struct famrt_label *l,
		       struct famrt_err *e);

/* Tail slot (64 bytes); the CRC is seeded with the fs uuid. */
void famrt_tail_encode(const struct famrt_tail *t, const uint8_t *fs_uuid,
		       uint8_t *buf);
int famrt_tail_decode(const uint8_t *buf, const uint8_t *fs_uuid,
		      struct famrt_tail *t);

/* CRC of an entry: bytes [8, size) seeded with the fs uuid. */
uint32_t famrt_entry_crc(const uint8_t *ent, size_t size,
			 const uint8_t *fs_uuid);

/*
 * Fill the header of an entry whose payload is already at ent + 32 and
 * whose padding is zero; returns the commit word (magic | crc << 32) to be
 * stored last at offset 0. Bytes [0, 8) are left zero.
 */
uint64_t famrt_entry_seal(uint8_t *ent, uint64_t seq, uint16_t type,
			  uint16_t flags, uint32_t len, uint64_t time_ns,
			  const uint8_t *fs_uuid);

/*
 * Check the entry at ent, which has `avail` readable bytes, against the
 * expected sequence number: 0 and *h filled when it is a whole, valid entry;
 * -ENODATA when it is not (no magic, bad CRC, wrong seq, too long), with the
 * reason in e.
 */
int famrt_entry_check(const uint8_t *ent, size_t avail, uint64_t expect_seq,
		      const uint8_t *fs_uuid, struct famrt_entry_hdr *h,
		      struct famrt_err *e);

/* Payload builders: write into buf (cap bytes), return the length or -errno. */
ssize_t famrt_ent_mkdir_encode(const struct famrt_ent_mkdir *m, uint8_t *buf,
			       size_t cap);
ssize_t famrt_ent_create_encode(const struct famrt_ent_create *c,
				uint8_t *buf, size_t cap);
ssize_t famrt_ent_add_device_encode(const struct famrt_ent_add_device *a,
				    uint8_t *buf, size_t cap);
ssize_t famrt_ent_setattr_encode(const struct famrt_ent_setattr *a,
				 uint8_t *buf, size_t cap);

/* Payload parsers: pointers in the result point into p. */
int famrt_ent_mkdir_decode(const uint8_t *p, size_t len,
			   struct famrt_ent_mkdir *m, struct famrt_err *e);
int famrt_ent_create_decode(const uint8_t *p, size_t len,
			    struct famrt_ent_create *c, struct famrt_err *e);
int famrt_ent_add_device_decode(const uint8_t *p, size_t len,
				struct famrt_ent_add_device *a,
				struct famrt_err *e);
int famrt_ent_setattr_decode(const uint8_t *p, size_t len,
			     struct famrt_ent_setattr *a, struct famrt_err *e);

/*
 * Check a path: absolute, components 1..255 bytes without NUL, not "." or
 * "..", no empty component (no "//" and no trailing "/" except the root
 * "/" itself), at most 4095 bytes. Returns 0 or -EINVAL/-ENAMETOOLONG.
 */
int famrt_path_check(const char *path, size_t len, struct famrt_err *e);

/* Text form of a uuid (36 chars + NUL). */
void famrt_uuid_format(const uint8_t *uuid, char out[37]);
int famrt_uuid_parse(const char *s, uint8_t *uuid);
/* A random (version 4) uuid. */
int famrt_uuid_generate(uint8_t *uuid);

const char *famrt_entry_type_name(uint16_t type);

#endif
