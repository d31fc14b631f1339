/* SPDX-License-Identifier: Apache-2.0 */
/* On-media structures: see format.h and docs/format.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "meta/format.h"
#include "util/bytes.h"
#include "util/crc32c.h"

static const uint8_t sb_magic[8] = { 'F', 'A', 'M', 'R', 'T', 'S', 'B', '1' };
static const uint8_t label_magic[8] = { 'F', 'A', 'M', 'R', 'T', 'D', 'L', '1' };
static const uint8_t tail_magic[8] = { 'F', 'A', 'M', 'R', 'T', 'L', 'T', '1' };

/* Superblock offsets. */
enum {
	SB_MAGIC = 0,
	SB_VERSION = 8,
	SB_SIZE = 12,
	SB_UUID = 16,
	SB_NAME = 32,
	SB_UNIT = 96,
	SB_LOG_OFF = 104,
	SB_LOG_SIZE = 112,
	SB_CTIME = 120,
	SB_MASTER = 128,
	SB_NDEVS = 192,
	SB_FLAGS = 196,
	SB_RESERVED = 200,   /* .. 256, zero */
	SB_DEVS = 256,       /* 32 x 64 bytes */
	SB_DEV_SIZE = 64,
	SBD_UUID = 0,
	SBD_SIZE = 16,
	SBD_ALIGN = 24,
	SBD_DATA = 32,
	SBD_RESERVED = 40,   /* .. 64, zero */
	SB_TAIL_RESERVED = SB_DEVS + 32 * SB_DEV_SIZE, /* 2304 .. 4092, zero */
	SB_CRC = 4092,
};

enum {
	LB_MAGIC = 0,
	LB_VERSION = 8,
	LB_DEVINDEX = 12,
	LB_FS_UUID = 16,
	LB_DEV_UUID = 32,
	LB_SIZE = 48,
	LB_RESERVED = 56, /* .. 4092 */
	LB_CRC = 4092,
};

enum {
	TS_MAGIC = 0,
	TS_SEQ = 8,
	TS_END = 16,
	TS_RESERVED = 24, /* .. 60 */
	TS_CRC = 60,
};

enum {
	EH_MAGIC = 0,
	EH_CRC = 4,
	EH_SEQ = 8,
	EH_TYPE = 16,
	EH_FLAGS = 18,
	EH_LEN = 20,
	EH_TIME = 24,
};

static bool all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static uint32_t seeded_crc(const uint8_t *uuid, const void *p, size_t n)
{
	return famrt_crc32c_update(famrt_crc32c_update(0, uuid, 16), p, n);
}

/* Copy a NUL-padded text field; refuse one with no NUL or bytes after it. */
static int get_text(const uint8_t *p, size_t n, char *out, const char *what,
		    struct famrt_err *e)
{
	const uint8_t *nul = memchr(p, 0, n);

	if (!nul)
		return famrt_err_set(e, EINVAL, "%s is not NUL-terminated",
				     what);
	if (!all_zero(nul, n - (size_t)(nul - p)))
		return famrt_err_set(e, EINVAL,
				     "%s has bytes after its terminating NUL",
				     what);
	memcpy(out, p, (size_t)(nul - p) + 1);
	return 0;
}

void famrt_sb_encode(const struct famrt_sb *sb, uint8_t *b)
{
	memset(b, 0, FAMRT_SB_SIZE);
	memcpy(b + SB_MAGIC, sb_magic, 8);
	famrt_le32_put(b + SB_VERSION, sb->version);
	famrt_le32_put(b + SB_SIZE, FAMRT_SB_SIZE);
	memcpy(b + SB_UUID, sb->uuid, 16);
	memcpy(b + SB_NAME, sb->name, strnlen(sb->name, FAMRT_NAME_MAX));
	famrt_le64_put(b + SB_UNIT, sb->alloc_unit);
	famrt_le64_put(b + SB_LOG_OFF, sb->log_offset);
	famrt_le64_put(b + SB_LOG_SIZE, sb->log_size);
	famrt_le64_put(b + SB_CTIME, sb->ctime_ns);
	memcpy(b + SB_MASTER, sb->master, strnlen(sb->master, FAMRT_HOSTID_MAX));
	famrt_le32_put(b + SB_NDEVS, sb->ndevs);
	famrt_le32_put(b + SB_FLAGS, sb->flags);
	for (uint32_t i = 0; i < sb->ndevs && i < FAMRT_MAX_DEVS; i++) {
		uint8_t *d = b + SB_DEVS + i * SB_DEV_SIZE;

		memcpy(d + SBD_UUID, sb->devs[i].uuid, 16);
		famrt_le64_put(d + SBD_SIZE, sb->devs[i].size);
		famrt_le64_put(d + SBD_ALIGN, sb->devs[i].align);
		famrt_le64_put(d + SBD_DATA, sb->devs[i].data_start);
	}
	famrt_le32_put(b + SB_CRC, famrt_crc32c_update(0, b, SB_CRC));
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int famrt_sb_decode(const uint8_t *b, struct famrt_sb *sb, struct famrt_err *e)
{
	uint32_t crc, want;
	uint64_t log_end;
	int rc;

	memset(sb, 0, sizeof(*sb));
	if (memcmp(b + SB_MAGIC, sb_magic, 8))
		return famrt_err_set(e, ENOENT, "no famrt superblock (magic "
					     "missing)");
	crc = famrt_le32_get(b + SB_CRC);
	want = famrt_crc32c_update(0, b, SB_CRC);
	if (crc != want)
		return famrt_err_set(e, EUCLEAN,
				     "superblock checksum mismatch (stored "
				     "0x%08x, computed 0x%08x)",
				     crc, want);
	sb->version = famrt_le32_get(b + SB_VERSION);
	if (sb->version != FAMRT_FORMAT_VERSION)
		return famrt_err_set(e, EPROTONOSUPPORT,
				     "superblock format version %u is not "
				     "supported (this famrt knows %u)",
				     sb->version, FAMRT_FORMAT_VERSION);
	if (famrt_le32_get(b + SB_SIZE) != FAMRT_SB_SIZE)
		return famrt_err_set(e, EUCLEAN, "superblock size field %u, "
					     "expected %u",
				     famrt_le32_get(b + SB_SIZE),
				     FAMRT_SB_SIZE);
	memcpy(sb->uuid, b + SB_UUID, 16);
	rc = get_text(b + SB_NAME, FAMRT_NAME_MAX + 1, sb->name,
		      "superblock name", e);
	if (rc)
		return rc;
	rc = get_text(b + SB_MASTER, FAMRT_HOSTID_MAX + 1, sb->master,
		      "superblock master host id", e);
	if (rc)
		return rc;
	sb->alloc_unit = famrt_le64_get(b + SB_UNIT);
	sb->log_offset = famrt_le64_get(b + SB_LOG_OFF);
	sb->log_size = famrt_le64_get(b + SB_LOG_SIZE);
	sb->ctime_ns = famrt_le64_get(b + SB_CTIME);
	sb->ndevs = famrt_le32_get(b + SB_NDEVS);
	sb->flags = famrt_le32_get(b + SB_FLAGS);
	if (!is_pow2(sb->alloc_unit) || sb->alloc_unit < 4096)
		return famrt_err_set(e, EUCLEAN, "superblock allocation unit "
					     "%llu is not a power of two >= 4096",
				     (unsigned long long)sb->alloc_unit);
	if (sb->ndevs < 1 || sb->ndevs > FAMRT_MAX_DEVS)
		return famrt_err_set(e, EUCLEAN,
				     "superblock device count %u is not 1..%u",
				     sb->ndevs, FAMRT_MAX_DEVS);
	if (sb->flags & ~FAMRT_SB_KNOWN_FLAGS)
		return famrt_err_set(e, EPROTONOSUPPORT,
				     "superblock has unknown flags 0x%x",
				     sb->flags & ~FAMRT_SB_KNOWN_FLAGS);
	if (!all_zero(b + SB_RESERVED, SB_DEVS - SB_RESERVED) ||
	    !all_zero(b + SB_TAIL_RESERVED, SB_CRC - SB_TAIL_RESERVED))
		return famrt_err_set(e, EUCLEAN,
				     "superblock reserved bytes are not zero");
	if (sb->log_offset < 2 * FAMRT_SB_SIZE || (sb->log_offset & 4095) ||
	    sb->log_size < FAMRT_LOG_MIN_SIZE || (sb->log_size & 4095) ||
	    __builtin_add_overflow(sb->log_offset, sb->log_size, &log_end))
		return famrt_err_set(e, EUCLEAN,
				     "superblock log region [%llu, +%llu) is "
				     "invalid",
				     (unsigned long long)sb->log_offset,
				     (unsigned long long)sb->log_size);
	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++) {
		const uint8_t *d = b + SB_DEVS + i * SB_DEV_SIZE;
		struct famrt_sb_dev *v = &sb->devs[i];

		if (i >= sb->ndevs) {
			if (!all_zero(d, SB_DEV_SIZE))
				return famrt_err_set(e, EUCLEAN,
						     "superblock device slot "
						     "%u is unused but not "
						     "zero",
						     i);
			continue;
		}
		memcpy(v->uuid, d + SBD_UUID, 16);
		v->size = famrt_le64_get(d + SBD_SIZE);
		v->align = famrt_le64_get(d + SBD_ALIGN);
		v->data_start = famrt_le64_get(d + SBD_DATA);
		if (!all_zero(d + SBD_RESERVED, SB_DEV_SIZE - SBD_RESERVED))
			return famrt_err_set(e, EUCLEAN,
					     "superblock device %u reserved "
					     "bytes are not zero",
					     i);
		if (!is_pow2(v->align) || v->align > sb->alloc_unit ||
		    v->data_start % sb->alloc_unit ||
		    v->data_start > v->size || v->size % v->align ||
		    (i > 0 && v->data_start < FAMRT_LABEL_SIZE))
			return famrt_err_set(e, EUCLEAN,
					     "superblock device %u: size %llu, "
					     "alignment %llu, data start %llu "
					     "are inconsistent (unit %llu)",
					     i, (unsigned long long)v->size,
					     (unsigned long long)v->align,
					     (unsigned long long)v->data_start,
					     (unsigned long long)sb->alloc_unit);
	}
	if (log_end > sb->devs[0].data_start)
		return famrt_err_set(e, EUCLEAN,
				     "superblock log region ends at %llu, past "
				     "device 0's data start %llu",
				     (unsigned long long)log_end,
				     (unsigned long long)sb->devs[0].data_start);
	return 0;
}

void famrt_label_encode(const struct famrt_label *l, uint8_t *b)
{
	memset(b, 0, FAMRT_LABEL_SIZE);
	memcpy(b + LB_MAGIC, label_magic, 8);
	famrt_le32_put(b + LB_VERSION, l->version);
	famrt_le32_put(b + LB_DEVINDEX, l->devindex);
	memcpy(b + LB_FS_UUID, l->fs_uuid, 16);
	memcpy(b + LB_DEV_UUID, l->dev_uuid, 16);
	famrt_le64_put(b + LB_SIZE, l->size);
	famrt_le32_put(b + LB_CRC, famrt_crc32c_update(0, b, LB_CRC));
}

int famrt_label_decode(const uint8_t *b, struct famrt_label *l,
		       struct famrt_err *e)
{
	uint32_t crc = famrt_le32_get(b + LB_CRC);
	uint32_t want;

	memset(l, 0, sizeof(*l));
	if (memcmp(b + LB_MAGIC, label_magic, 8))
		return famrt_err_set(e, ENOENT,
				     "no famrt device label (magic missing)");
	want = famrt_crc32c_update(0, b, LB_CRC);
	if (crc != want)
		return famrt_err_set(e, EUCLEAN,
				     "device label checksum mismatch (stored "
				     "0x%08x, computed 0x%08x)",
				     crc, want);
	l->version = famrt_le32_get(b + LB_VERSION);
	if (l->version != FAMRT_FORMAT_VERSION)
		return famrt_err_set(e, EPROTONOSUPPORT,
				     "device label version %u not supported",
				     l->version);
	if (!all_zero(b + LB_RESERVED, LB_CRC - LB_RESERVED))
		return famrt_err_set(e, EUCLEAN,
				     "device label reserved bytes not zero");
	l->devindex = famrt_le32_get(b + LB_DEVINDEX);
	memcpy(l->fs_uuid, b + LB_FS_UUID, 16);
	memcpy(l->dev_uuid, b + LB_DEV_UUID, 16);
	l->size = famrt_le64_get(b + LB_SIZE);
	return 0;
}

void famrt_tail_encode(const struct famrt_tail *t, const uint8_t *fs_uuid,
		       uint8_t *b)
{
	memset(b, 0, FAMRT_TAIL_SLOT_SIZE);
	memcpy(b + TS_MAGIC, tail_magic, 8);
	famrt_le64_put(b + TS_SEQ, t->seq);
	famrt_le64_put(b + TS_END, t->end);
	famrt_le32_put(b + TS_CRC, seeded_crc(fs_uuid, b, TS_CRC));
}

int famrt_tail_decode(const uint8_t *b, const uint8_t *fs_uuid,
		      struct famrt_tail *t)
{
	t->seq = 0;
	t->end = 0;
	if (memcmp(b + TS_MAGIC, tail_magic, 8))
		return -ENODATA;
	if (famrt_le32_get(b + TS_CRC) != seeded_crc(fs_uuid, b, TS_CRC) ||
	    !all_zero(b + TS_RESERVED, TS_CRC - TS_RESERVED))
		return -EUCLEAN;
	t->seq = famrt_le64_get(b + TS_SEQ);
	t->end = famrt_le64_get(b + TS_END);
	return 0;
}

uint32_t famrt_entry_crc(const uint8_t *ent, size_t size,
			 const uint8_t *fs_uuid)
{
	return seeded_crc(fs_uuid, ent + EH_SEQ, size - EH_SEQ);
}

uint64_t famrt_entry_seal(uint8_t *ent, uint64_t seq, uint16_t type,
			  uint16_t flags, uint32_t len, uint64_t time_ns,
			  const uint8_t *fs_uuid)
{
	uint32_t crc;

	memset(ent, 0, EH_SEQ);
	famrt_le64_put(ent + EH_SEQ, seq);
	famrt_le16_put(ent + EH_TYPE, type);
	famrt_le16_put(ent + EH_FLAGS, flags);
	famrt_le32_put(ent + EH_LEN, len);
	famrt_le64_put(ent + EH_TIME, time_ns);
	crc = famrt_entry_crc(ent, famrt_entry_size(len), fs_uuid);
	/* Commit word as it lies in memory: magic, then CRC. */
	return (uint64_t)FAMRT_ENTRY_MAGIC | (uint64_t)crc << 32;
}

int famrt_entry_check(const uint8_t *ent, size_t avail, uint64_t expect_seq,
		      const uint8_t *fs_uuid, struct famrt_entry_hdr *h,
		      struct famrt_err *e)
{
	size_t size;
	uint32_t crc;

	if (avail < FAMRT_ENTRY_HDR_SIZE)
		return famrt_err_set(e, ENODATA, "no room for an entry header");
	if (famrt_le32_get(ent + EH_MAGIC) != FAMRT_ENTRY_MAGIC)
		return famrt_err_set(e, ENODATA, "no entry magic");
	h->crc = famrt_le32_get(ent + EH_CRC);
	h->seq = famrt_le64_get(ent + EH_SEQ);
	h->type = famrt_le16_get(ent + EH_TYPE);
	h->flags = famrt_le16_get(ent + EH_FLAGS);
	h->len = famrt_le32_get(ent + EH_LEN);
	h->time_ns = famrt_le64_get(ent + EH_TIME);
	if (h->len > FAMRT_ENTRY_MAX_PAYLOAD)
		return famrt_err_set(e, ENODATA,
				     "entry length %u over the maximum %u",
				     h->len, FAMRT_ENTRY_MAX_PAYLOAD);
	size = famrt_entry_size(h->len);
	if (size > avail)
		return famrt_err_set(e, ENODATA,
				     "entry of %zu bytes runs past the log end",
				     size);
	crc = famrt_entry_crc(ent, size, fs_uuid);
	if (crc != h->crc)
		return famrt_err_set(e, ENODATA,
				     "entry checksum mismatch (stored 0x%08x, "
				     "computed 0x%08x)",
				     h->crc, crc);
	if (h->seq != expect_seq)
		return famrt_err_set(e, ENODATA,
				     "entry sequence %llu, expected %llu",
				     (unsigned long long)h->seq,
				     (unsigned long long)expect_seq);
	if (!all_zero(ent + FAMRT_ENTRY_HDR_SIZE + h->len,
		      size - FAMRT_ENTRY_HDR_SIZE - h->len))
		return famrt_err_set(e, ENODATA, "entry padding not zero");
	return 0;
}

/* ---- payloads ---- */

enum {
	MK_MODE = 0,
	MK_UID = 4,
	MK_GID = 8,
	MK_PATH_LEN = 12,
	MK_RESERVED = 14,
	MK_PATH = 16,
	CR_FMAP_LEN = 16,
	CR_RESERVED = 20,
	CR_PATH = 24,
	AD_INDEX = 0,
	AD_RESERVED = 4,
	AD_UUID = 8,
	AD_SIZE = 24,
	AD_ALIGN = 32,
	AD_DATA = 40,
	AD_LEN = 48,
};

static inline size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

ssize_t famrt_ent_mkdir_encode(const struct famrt_ent_mkdir *m, uint8_t *b,
			       size_t cap)
{
	size_t len = MK_PATH + m->path_len;

	if (len > cap)
		return -ENOSPC;
	famrt_le32_put(b + MK_MODE, m->mode);
	famrt_le32_put(b + MK_UID, m->uid);
	famrt_le32_put(b + MK_GID, m->gid);
	famrt_le16_put(b + MK_PATH_LEN, m->path_len);
	famrt_le16_put(b + MK_RESERVED, 0);
	memcpy(b + MK_PATH, m->path, m->path_len);
	return (ssize_t)len;
}

ssize_t famrt_ent_create_encode(const struct famrt_ent_create *c, uint8_t *b,
				size_t cap)
{
	size_t fm = CR_PATH + pad8(c->path_len);
	size_t len = fm + c->fmap_len;

	if (len > cap || len > FAMRT_ENTRY_MAX_PAYLOAD)
		return -ENOSPC;
	memset(b, 0, fm);
	famrt_le32_put(b + MK_MODE, c->mode);
	famrt_le32_put(b + MK_UID, c->uid);
	famrt_le32_put(b + MK_GID, c->gid);
	famrt_le16_put(b + MK_PATH_LEN, c->path_len);
	famrt_le32_put(b + CR_FMAP_LEN, c->fmap_len);
	memcpy(b + CR_PATH, c->path, c->path_len);
	memcpy(b + fm, c->fmap, c->fmap_len);
	return (ssize_t)len;
}

ssize_t famrt_ent_add_device_encode(const struct famrt_ent_add_device *a,
				    uint8_t *b, size_t cap)
{
	if (cap < AD_LEN)
		return -ENOSPC;
	famrt_le32_put(b + AD_INDEX, a->devindex);
	famrt_le32_put(b + AD_RESERVED, 0);
	memcpy(b + AD_UUID, a->dev.uuid, 16);
	famrt_le64_put(b + AD_SIZE, a->dev.size);
	famrt_le64_put(b + AD_ALIGN, a->dev.align);
	famrt_le64_put(b + AD_DATA, a->dev.data_start);
	return AD_LEN;
}

static int common_decode(const uint8_t *p, size_t len, size_t fixed,
			 const char *what, uint32_t *mode, uint32_t *uid,
			 uint32_t *gid, const char **path, uint16_t *path_len,
			 struct famrt_err *e)
{
	if (len < fixed)
		return famrt_err_set(e, EINVAL,
				     "%s payload of %zu bytes is shorter than "
				     "its %zu fixed bytes",
				     what, len, fixed);
	*mode = famrt_le32_get(p + MK_MODE);
	*uid = famrt_le32_get(p + MK_UID);
	*gid = famrt_le32_get(p + MK_GID);
	*path_len = famrt_le16_get(p + MK_PATH_LEN);
	if (famrt_le16_get(p + MK_RESERVED))
		return famrt_err_set(e, EINVAL, "%s reserved field not zero",
				     what);
	if (*mode & ~07777u)
		return famrt_err_set(e, EINVAL,
				     "%s mode 0%o has bits beyond 07777", what,
				     *mode);
	if ((size_t)*path_len > len - fixed)
		return famrt_err_set(e, EINVAL,
				     "%s path length %u runs past the payload",
				     what, *path_len);
	*path = (const char *)p + fixed;
	return famrt_path_check(*path, *path_len, e);
}

int famrt_ent_mkdir_decode(const uint8_t *p, size_t len,
			   struct famrt_ent_mkdir *m, struct famrt_err *e)
{
	int rc = common_decode(p, len, MK_PATH, "mkdir", &m->mode, &m->uid,
			       &m->gid, &m->path, &m->path_len, e);

	if (rc)
		return rc;
	if (len != (size_t)MK_PATH + m->path_len)
		return famrt_err_set(e, EINVAL,
				     "mkdir payload has %zu trailing bytes",
				     len - MK_PATH - m->path_len);
	return 0;
}

int famrt_ent_create_decode(const uint8_t *p, size_t len,
			    struct famrt_ent_create *c, struct famrt_err *e)
{
	size_t fm;
	int rc = common_decode(p, len, CR_PATH, "create", &c->mode, &c->uid,
			       &c->gid, &c->path, &c->path_len, e);

	if (rc)
		return rc;
	if (famrt_le32_get(p + CR_RESERVED))
		return famrt_err_set(e, EINVAL, "create reserved field not zero");
	c->fmap_len = famrt_le32_get(p + CR_FMAP_LEN);
	fm = CR_PATH + pad8(c->path_len);
	if (fm > len || len - fm != c->fmap_len)
		return famrt_err_set(e, EINVAL,
				     "create fmap length %u does not match the "
				     "payload (%zu bytes after the path)",
				     c->fmap_len, fm > len ? 0 : len - fm);
	if (!all_zero(p + CR_PATH + c->path_len, fm - CR_PATH - c->path_len))
		return famrt_err_set(e, EINVAL, "create path padding not zero");
	c->fmap = p + fm;
	return 0;
}

int famrt_ent_add_device_decode(const uint8_t *p, size_t len,
				struct famrt_ent_add_device *a,
				struct famrt_err *e)
{
	if (len != AD_LEN)
		return famrt_err_set(e, EINVAL,
				     "add-device payload is %zu bytes, not %d",
				     len, AD_LEN);
	if (famrt_le32_get(p + AD_RESERVED))
		return famrt_err_set(e, EINVAL,
				     "add-device reserved field not zero");
	a->devindex = famrt_le32_get(p + AD_INDEX);
	memcpy(a->dev.uuid, p + AD_UUID, 16);
	a->dev.size = famrt_le64_get(p + AD_SIZE);
	a->dev.align = famrt_le64_get(p + AD_ALIGN);
	a->dev.data_start = famrt_le64_get(p + AD_DATA);
	return 0;
}

/* setattr: u64 ino, u32 mode, u32 uid, u32 gid, u32 reserved. */
ssize_t famrt_ent_setattr_encode(const struct famrt_ent_setattr *a,
				 uint8_t *b, size_t cap)
{
	if (cap < 24)
		return -ENOSPC;
	famrt_le64_put(b, a->ino);
	famrt_le32_put(b + 8, a->mode);
	famrt_le32_put(b + 12, a->uid);
	famrt_le32_put(b + 16, a->gid);
	famrt_le32_put(b + 20, 0);
	return 24;
}

int famrt_ent_setattr_decode(const uint8_t *p, size_t len,
			     struct famrt_ent_setattr *a, struct famrt_err *e)
{
	if (len != 24)
		return famrt_err_set(e, EINVAL,
				     "setattr payload is %zu bytes, not 24", len);
	a->ino = famrt_le64_get(p);
	a->mode = famrt_le32_get(p + 8);
	a->uid = famrt_le32_get(p + 12);
	a->gid = famrt_le32_get(p + 16);
	if (famrt_le32_get(p + 20))
		return famrt_err_set(e, EINVAL,
				     "setattr reserved field not zero");
	if (a->mode != FAMRT_SETATTR_KEEP && (a->mode & ~07777u))
		return famrt_err_set(e, EINVAL,
				     "setattr mode 0%o has bits beyond 07777",
				     a->mode);
	return 0;
}

int famrt_path_check(const char *path, size_t len, struct famrt_err *e)
{
	size_t i = 1, start;

	if (len == 0 || path[0] != '/')
		return famrt_err_set(e, EINVAL,
				     "path '%.*s' is not absolute", (int)len,
				     path);
	if (len > FAMRT_PATH_MAX)
		return famrt_err_set(e, ENAMETOOLONG,
				     "path is %zu bytes, more than %u", len,
				     FAMRT_PATH_MAX);
	if (len == 1)
		return 0;
	while (i <= len) {
		start = i;
		while (i < len && path[i] != '/') {
			if (path[i] == '\0')
				return famrt_err_set(e, EINVAL,
						     "path has a NUL byte at %zu",
						     i);
			i++;
		}
		if (i == start)
			return famrt_err_set(e, EINVAL,
					     "path '%.*s' has an empty component",
					     (int)len, path);
		if (i - start > FAMRT_NAME_COMPONENT_MAX)
			return famrt_err_set(e, ENAMETOOLONG,
					     "path component of %zu bytes, more "
					     "than %u",
					     i - start, FAMRT_NAME_COMPONENT_MAX);
		if ((i - start == 1 && path[start] == '.') ||
		    (i - start == 2 && path[start] == '.' &&
		     path[start + 1] == '.'))
			return famrt_err_set(e, EINVAL,
					     "path '%.*s' has a '.' or '..' "
					     "component",
					     (int)len, path);
		i++;
	}
	return 0;
}

void famrt_uuid_format(const uint8_t *u, char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int famrt_uuid_parse(const char *s, uint8_t *u)
{
	int n = 0;

	/* Exactly 8-4-4-4-12 hex digits: hyphens there and only there. */
	if (strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		int v;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		v = hexval(s[i]);
		if (v < 0)
			return -EINVAL;
		if (n & 1)
			u[n / 2] |= (uint8_t)v;
		else
			u[n / 2] = (uint8_t)(v << 4);
		n++;
	}
	return 0;
}

int famrt_uuid_generate(uint8_t *u)
{
	size_t got = 0;

	while (got < 16) {
		ssize_t r = getrandom(u + got, 16 - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	return 0;
}

const char *famrt_entry_type_name(uint16_t type)
{
	switch (type) {
	case FAMRT_ENTRY_MKDIR:
		return "mkdir";
	case FAMRT_ENTRY_CREATE:
		return "create";
	case FAMRT_ENTRY_ADD_DEVICE:
		return "add-device";
	case FAMRT_ENTRY_SETATTR:
		return "setattr";
	default:
		return "unknown";
	}
}
