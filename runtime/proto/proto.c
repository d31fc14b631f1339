/* SPDX-License-Identifier: Apache-2.0 */
/* famrtd protocol codec: see proto.h and docs/protocol.md. */
#include <errno.h>
#include <string.h>

#include "meta/format.h"
#include "proto/proto.h"
#include "util/bytes.h"

enum {
	H_MAGIC = 0,
	H_VERSION = 4,
	H_OP = 6,
	H_LENGTH = 8,
	H_FLAGS = 12,
	H_REQ_ID = 16,
	H_STATUS = 24,
	H_RESERVED = 28,
};

#define HELLO_REQ_LEN 8u
#define HELLO_REP_LEN 232u
#define DEV_LEN 48u
#define ATTR_LEN 56u
#define STATFS_REP_LEN 88u
#define READDIR_REQ_LEN 24u
#define CREATE_FIXED 160u
#define MKDIR_FIXED 8u
#define PATH_FIXED 8u
#define DIRENT_FIXED 16u

_Static_assert(FAMRT_PROTO_HDR_SIZE + 16 +
		       FAMRT_PROTO_READDIR_MAX *
			       ((DIRENT_FIXED + FAMRT_NAME_COMPONENT_MAX + 7) & ~7u) <=
	       FAMRT_PROTO_MSG_MAX,
	       "a full readdir page fits a message");

static const char *const op_names[FAMRT_OP_COUNT_] = {
	[FAMRT_OP_HELLO] = "hello",	    [FAMRT_OP_DEVICES] = "devices",
	[FAMRT_OP_LOOKUP] = "lookup",	    [FAMRT_OP_GETATTR] = "getattr",
	[FAMRT_OP_READDIR] = "readdir",	    [FAMRT_OP_GET_FMAP] = "get_fmap",
	[FAMRT_OP_CREATE] = "create",	    [FAMRT_OP_MKDIR] = "mkdir",
	[FAMRT_OP_STATFS] = "statfs",	    [FAMRT_OP_OPEN] = "open",
	[FAMRT_OP_BEGIN] = "begin",	    [FAMRT_OP_ALLOC] = "alloc",
	[FAMRT_OP_COMMIT] = "commit",	    [FAMRT_OP_ABORT] = "abort",
	[FAMRT_OP_SETATTR] = "setattr",
};

const char *famrt_op_name(uint16_t op)
{
	if (op < FAMRT_OP_COUNT_ && op_names[op])
		return op_names[op];
	return "unknown";
}

void famrt_proto_hdr_encode(uint8_t *b, const struct famrt_proto_hdr *h)
{
	famrt_le32_put(b + H_MAGIC, FAMRT_PROTO_MAGIC);
	famrt_le16_put(b + H_VERSION, h->version);
	famrt_le16_put(b + H_OP, h->op);
	famrt_le32_put(b + H_LENGTH, h->length);
	famrt_le32_put(b + H_FLAGS, h->flags);
	famrt_le64_put(b + H_REQ_ID, h->req_id);
	famrt_le32_put(b + H_STATUS, (uint32_t)h->status);
	famrt_le32_put(b + H_RESERVED, 0);
}

int famrt_proto_hdr_decode(const uint8_t *b, size_t len,
			   struct famrt_proto_hdr *h, struct famrt_err *e)
{
	memset(h, 0, sizeof(*h));
	if (len < FAMRT_PROTO_HDR_SIZE)
		return famrt_err_set(e, EPROTO,
				     "message of %zu bytes is shorter than the "
				     "%u-byte header",
				     len, FAMRT_PROTO_HDR_SIZE);
	if (famrt_le32_get(b + H_MAGIC) != FAMRT_PROTO_MAGIC)
		return famrt_err_set(e, EPROTO, "bad magic 0x%08x",
				     famrt_le32_get(b + H_MAGIC));
	h->version = famrt_le16_get(b + H_VERSION);
	h->op = famrt_le16_get(b + H_OP);
	h->length = famrt_le32_get(b + H_LENGTH);
	h->flags = famrt_le32_get(b + H_FLAGS);
	h->req_id = famrt_le64_get(b + H_REQ_ID);
	h->status = (int32_t)famrt_le32_get(b + H_STATUS);
	if (h->length != len)
		return famrt_err_set(e, EPROTO,
				     "header says %u bytes, the message has %zu",
				     h->length, len);
	if (len > FAMRT_PROTO_MSG_MAX)
		return famrt_err_set(e, EMSGSIZE, "message of %zu bytes is over "
						  "the %u-byte limit",
				     len, FAMRT_PROTO_MSG_MAX);
	if (famrt_le32_get(b + H_RESERVED))
		return famrt_err_set(e, EPROTO, "header reserved field not zero");
	if (h->version != FAMRT_PROTO_VERSION)
		return famrt_err_set(e, EPROTONOSUPPORT,
				     "protocol version %u is not supported "
				     "(this side speaks %u)",
				     h->version, FAMRT_PROTO_VERSION);
	return 0;
}

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

static int want_len(size_t have, size_t want, uint16_t op, struct famrt_err *e)
{
	if (have != want)
		return famrt_err_set(e, EPROTO,
				     "%s request body is %zu bytes, expected %zu",
				     famrt_op_name(op), have, want);
	return 0;
}

static int get_path(const uint8_t *p, size_t len, size_t fixed,
		    uint16_t path_len, uint16_t op, const char **out,
		    struct famrt_err *e)
{
	int rc = want_len(len, fixed + path_len, op, e);

	if (rc)
		return rc;
	*out = (const char *)p + fixed;
	return famrt_path_check(*out, path_len, e);
}

int famrt_proto_req_decode(const uint8_t *buf, size_t len,
			   struct famrt_proto_req *r, struct famrt_err *e)
{
	const uint8_t *p = buf + FAMRT_PROTO_HDR_SIZE;
	size_t n;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = famrt_proto_hdr_decode(buf, len, &r->hdr, e);
	if (rc)
		return rc;
	if (len > FAMRT_PROTO_REQ_MAX)
		return famrt_err_set(e, EMSGSIZE,
				     "request of %zu bytes is over the %u-byte "
				     "limit",
				     len, FAMRT_PROTO_REQ_MAX);
	if (r->hdr.flags || r->hdr.status)
		return famrt_err_set(e, EPROTO,
				     "request has reply flags or a status");
	n = len - FAMRT_PROTO_HDR_SIZE;
	switch (r->hdr.op) {
	case FAMRT_OP_HELLO:
		rc = want_len(n, HELLO_REQ_LEN, r->hdr.op, e);
		if (rc)
			return rc;
		r->u.hello.min_version = famrt_le16_get(p);
		r->u.hello.max_version = famrt_le16_get(p + 2);
		if (!zero(p + 4, 4))
			return famrt_err_set(e, EPROTO,
					     "hello reserved field not zero");
		if (r->u.hello.min_version > FAMRT_PROTO_VERSION ||
		    r->u.hello.max_version < FAMRT_PROTO_VERSION)
			return famrt_err_set(e, EPROTONOSUPPORT,
					     "client speaks versions %u..%u, the "
					     "service %u",
					     r->u.hello.min_version,
					     r->u.hello.max_version,
					     FAMRT_PROTO_VERSION);
		return 0;
	case FAMRT_OP_DEVICES:
	case FAMRT_OP_STATFS:
		return want_len(n, 0, r->hdr.op, e);
	case FAMRT_OP_LOOKUP:
	case FAMRT_OP_OPEN:
		if (n < PATH_FIXED)
			return want_len(n, PATH_FIXED, r->hdr.op, e);
		r->u.path.path_len = famrt_le16_get(p);
		r->u.path.access = famrt_le32_get(p + 4);
		if (!zero(p + 2, 2) ||
		    (r->hdr.op == FAMRT_OP_LOOKUP && r->u.path.access))
			return famrt_err_set(e, EPROTO,
					     "%s reserved field not zero",
					     famrt_op_name(r->hdr.op));
		if (r->u.path.access &
		    ~(FAMRT_OPEN_READ | FAMRT_OPEN_WRITE))
			return famrt_err_set(e, EINVAL,
					     "open access 0x%x has unknown bits",
					     r->u.path.access);
		return get_path(p, n, PATH_FIXED, r->u.path.path_len,
				r->hdr.op, &r->u.path.path, e);
	case FAMRT_OP_GETATTR:
	case FAMRT_OP_GET_FMAP:
	case FAMRT_OP_ABORT:
		rc = want_len(n, 8, r->hdr.op, e);
		if (!rc)
			r->u.ino.ino = famrt_le64_get(p);
		return rc;
	case FAMRT_OP_ALLOC:
		rc = want_len(n, 16, r->hdr.op, e);
		if (rc)
			return rc;
		r->u.alloc.handle = famrt_le64_get(p);
		r->u.alloc.bytes = famrt_le64_get(p + 8);
		if (!r->u.alloc.bytes)
			return famrt_err_set(e, EINVAL, "alloc of 0 bytes");
		return 0;
	case FAMRT_OP_COMMIT:
		rc = want_len(n, 24, r->hdr.op, e);
		if (rc)
			return rc;
		r->u.commit.handle = famrt_le64_get(p);
		r->u.commit.size = famrt_le64_get(p + 8);
		r->u.commit.mode = famrt_le32_get(p + 16);
		if (!zero(p + 20, 4))
			return famrt_err_set(e, EPROTO,
					     "commit reserved field not zero");
		if (r->u.commit.mode != FAMRT_COMMIT_KEEP_MODE &&
		    (r->u.commit.mode & ~07777u))
			return famrt_err_set(e, EINVAL,
					     "commit mode 0%o has bits beyond "
					     "07777",
					     r->u.commit.mode);
		return 0;
	case FAMRT_OP_READDIR:
		rc = want_len(n, READDIR_REQ_LEN, r->hdr.op, e);
		if (rc)
			return rc;
		r->u.readdir.ino = famrt_le64_get(p);
		r->u.readdir.cookie = famrt_le64_get(p + 8);
		r->u.readdir.max = famrt_le32_get(p + 16);
		if (!zero(p + 20, 4))
			return famrt_err_set(e, EPROTO,
					     "readdir reserved field not zero");
		return 0;
	case FAMRT_OP_CREATE: {
		struct famrt_proto_create_req *c = &r->u.create;

		if (n < CREATE_FIXED)
			return want_len(n, CREATE_FIXED, r->hdr.op, e);
		c->mode = famrt_le32_get(p);
		c->layout = famrt_le32_get(p + 4);
		c->size = famrt_le64_get(p + 8);
		c->nstrips = famrt_le32_get(p + 16);
		c->chunk = famrt_le32_get(p + 20);
		c->ndevs = famrt_le32_get(p + 24);
		c->path_len = famrt_le16_get(p + 28);
		if (!zero(p + 30, 2))
			return famrt_err_set(e, EPROTO,
					     "create reserved field not zero");
		for (int i = 0; i < 32; i++)
			c->devs[i] = famrt_le32_get(p + 32 + 4 * i);
		if (c->mode & ~07777u)
			return famrt_err_set(e, EINVAL,
					     "create mode 0%o has bits beyond "
					     "07777",
					     c->mode);
		if (c->layout > 1)
			return famrt_err_set(e, EINVAL,
					     "create layout %u is unknown",
					     c->layout);
		if (c->ndevs > 32 || c->nstrips > 32)
			return famrt_err_set(e, EINVAL,
					     "create names %u devices and %u "
					     "strips (at most 32 each)",
					     c->ndevs, c->nstrips);
		for (uint32_t i = c->ndevs; i < 32; i++)
			if (c->devs[i])
				return famrt_err_set(e, EPROTO,
						     "create device slot %u is "
						     "unused but not zero",
						     i);
		return get_path(p, n, CREATE_FIXED, c->path_len, r->hdr.op,
				&c->path, e);
	}
	case FAMRT_OP_SETATTR: {
		struct famrt_proto_setattr_req *a = &r->u.setattr;

		if (n < 16)
			return want_len(n, 16, r->hdr.op, e);
		a->mode = famrt_le32_get(p);
		a->uid = famrt_le32_get(p + 4);
		a->gid = famrt_le32_get(p + 8);
		a->path_len = famrt_le16_get(p + 12);
		if (!zero(p + 14, 2))
			return famrt_err_set(e, EPROTO,
					     "setattr reserved field not zero");
		if (a->mode != 0xffffffffu && (a->mode & ~07777u))
			return famrt_err_set(e, EINVAL,
					     "setattr mode 0%o has bits beyond "
					     "07777",
					     a->mode);
		return get_path(p, n, 16, a->path_len, r->hdr.op, &a->path, e);
	}
	case FAMRT_OP_MKDIR:
	case FAMRT_OP_BEGIN:
		if (n < MKDIR_FIXED)
			return want_len(n, MKDIR_FIXED, r->hdr.op, e);
		r->u.mkdir.mode = famrt_le32_get(p);
		r->u.mkdir.path_len = famrt_le16_get(p + 4);
		if (!zero(p + 6, 2))
			return famrt_err_set(e, EPROTO,
					     "%s reserved field not zero",
					     famrt_op_name(r->hdr.op));
		if (r->u.mkdir.mode & ~07777u)
			return famrt_err_set(e, EINVAL,
					     "%s mode 0%o has bits beyond 07777",
					     famrt_op_name(r->hdr.op),
					     r->u.mkdir.mode);
		return get_path(p, n, MKDIR_FIXED, r->u.mkdir.path_len,
				r->hdr.op, &r->u.mkdir.path, e);
	default:
		return famrt_err_set(e, EOPNOTSUPP, "unknown operation %u",
				     r->hdr.op);
	}
}

/* ---- message builder ---- */

void famrt_msg_init(struct famrt_msg *m, uint8_t *buf, size_t cap)
{
	m->buf = buf;
	m->cap = cap;
	m->len = FAMRT_PROTO_HDR_SIZE;
	m->overflow = cap < FAMRT_PROTO_HDR_SIZE;
}

static uint8_t *room(struct famrt_msg *m, size_t n)
{
	uint8_t *p;

	if (m->overflow || m->cap - m->len < n) {
		m->overflow = true;
		return NULL;
	}
	p = m->buf + m->len;
	m->len += n;
	return p;
}

void famrt_msg_u16(struct famrt_msg *m, uint16_t v)
{
	uint8_t *p = room(m, 2);

	if (p)
		famrt_le16_put(p, v);
}

void famrt_msg_u32(struct famrt_msg *m, uint32_t v)
{
	uint8_t *p = room(m, 4);

	if (p)
		famrt_le32_put(p, v);
}

void famrt_msg_u64(struct famrt_msg *m, uint64_t v)
{
	uint8_t *p = room(m, 8);

	if (p)
		famrt_le64_put(p, v);
}

void famrt_msg_bytes(struct famrt_msg *m, const void *src, size_t n)
{
	uint8_t *p = room(m, n);

	if (p && n)
		memcpy(p, src, n);
}

void famrt_msg_pad8(struct famrt_msg *m)
{
	size_t n = (8 - (m->len & 7)) & 7;
	uint8_t *p = room(m, n);

	if (p)
		memset(p, 0, n);
}

ssize_t famrt_msg_finish(struct famrt_msg *m, const struct famrt_proto_hdr *h)
{
	struct famrt_proto_hdr hh = *h;

	if (m->overflow || m->len > FAMRT_PROTO_MSG_MAX)
		return -EMSGSIZE;
	hh.length = (uint32_t)m->len;
	famrt_proto_hdr_encode(m->buf, &hh);
	return (ssize_t)m->len;
}

static struct famrt_proto_hdr req_hdr(uint16_t op, uint64_t id)
{
	return (struct famrt_proto_hdr){ .version = FAMRT_PROTO_VERSION,
					 .op = op, .req_id = id };
}

ssize_t famrt_proto_hello_req_encode(uint8_t *buf, size_t cap, uint64_t id)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_HELLO, id);
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	famrt_msg_u16(&m, FAMRT_PROTO_VERSION);
	famrt_msg_u16(&m, FAMRT_PROTO_VERSION);
	famrt_msg_u32(&m, 0);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_simple_req_encode(uint8_t *buf, size_t cap, uint16_t op,
				      uint64_t id)
{
	struct famrt_proto_hdr h = req_hdr(op, id);
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_path_req_encode(uint8_t *buf, size_t cap, uint16_t op,
				    uint64_t id, const char *path)
{
	struct famrt_proto_hdr h = req_hdr(op, id);
	size_t n = strlen(path);
	struct famrt_msg m;

	if (n > FAMRT_PATH_MAX)
		return -ENAMETOOLONG;
	famrt_msg_init(&m, buf, cap);
	famrt_msg_u16(&m, (uint16_t)n);
	famrt_msg_u16(&m, 0);
	famrt_msg_u32(&m, 0);
	famrt_msg_bytes(&m, path, n);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_open_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				    const char *path, uint32_t access)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_OPEN, id);
	size_t n = strlen(path);
	struct famrt_msg m;

	if (n > FAMRT_PATH_MAX)
		return -ENAMETOOLONG;
	famrt_msg_init(&m, buf, cap);
	famrt_msg_u16(&m, (uint16_t)n);
	famrt_msg_u16(&m, 0);
	famrt_msg_u32(&m, access);
	famrt_msg_bytes(&m, path, n);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_ino_req_encode(uint8_t *buf, size_t cap, uint16_t op,
				   uint64_t id, uint64_t ino)
{
	struct famrt_proto_hdr h = req_hdr(op, id);
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	famrt_msg_u64(&m, ino);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_readdir_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				       uint64_t ino, uint64_t cookie,
				       uint32_t max)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_READDIR, id);
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	famrt_msg_u64(&m, ino);
	famrt_msg_u64(&m, cookie);
	famrt_msg_u32(&m, max);
	famrt_msg_u32(&m, 0);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_create_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				      const struct famrt_proto_create_req *c,
				      const char *path)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_CREATE, id);
	size_t n = strlen(path);
	struct famrt_msg m;

	if (n > FAMRT_PATH_MAX)
		return -ENAMETOOLONG;
	if (c->ndevs > 32)
		return -EINVAL;
	famrt_msg_init(&m, buf, cap);
	famrt_msg_u32(&m, c->mode);
	famrt_msg_u32(&m, c->layout);
	famrt_msg_u64(&m, c->size);
	famrt_msg_u32(&m, c->nstrips);
	famrt_msg_u32(&m, c->chunk);
	famrt_msg_u32(&m, c->ndevs);
	famrt_msg_u16(&m, (uint16_t)n);
	famrt_msg_u16(&m, 0);
	for (uint32_t i = 0; i < 32; i++)
		famrt_msg_u32(&m, i < c->ndevs ? c->devs[i] : 0);
	famrt_msg_bytes(&m, path, n);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_mkdir_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				     uint32_t mode, const char *path)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_MKDIR, id);
	size_t n = strlen(path);
	struct famrt_msg m;

	if (n > FAMRT_PATH_MAX)
		return -ENAMETOOLONG;
	famrt_msg_init(&m, buf, cap);
	famrt_msg_u32(&m, mode);
	famrt_msg_u16(&m, (uint16_t)n);
	famrt_msg_u16(&m, 0);
	famrt_msg_bytes(&m, path, n);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_begin_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				     uint32_t mode, const char *path)
{
	ssize_t n = famrt_proto_mkdir_req_encode(buf, cap, id, mode, path);

	if (n > 0)
		famrt_le16_put(buf + H_OP, FAMRT_OP_BEGIN);
	return n;
}

ssize_t famrt_proto_alloc_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				     uint64_t handle, uint64_t bytes)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_ALLOC, id);
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	famrt_msg_u64(&m, handle);
	famrt_msg_u64(&m, bytes);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_setattr_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				       uint32_t mode, uint32_t uid, uint32_t gid,
				       const char *path)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_SETATTR, id);
	size_t n = strlen(path);
	struct famrt_msg m;

	if (n > FAMRT_PATH_MAX)
		return -ENAMETOOLONG;
	famrt_msg_init(&m, buf, cap);
	famrt_msg_u32(&m, mode);
	famrt_msg_u32(&m, uid);
	famrt_msg_u32(&m, gid);
	famrt_msg_u16(&m, (uint16_t)n);
	famrt_msg_u16(&m, 0);
	famrt_msg_bytes(&m, path, n);
	return famrt_msg_finish(&m, &h);
}

ssize_t famrt_proto_commit_req_encode(uint8_t *buf, size_t cap, uint64_t id,
				      const struct famrt_proto_commit_req *c)
{
	struct famrt_proto_hdr h = req_hdr(FAMRT_OP_COMMIT, id);
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	famrt_msg_u64(&m, c->handle);
	famrt_msg_u64(&m, c->size);
	famrt_msg_u32(&m, c->mode);
	famrt_msg_u32(&m, 0);
	return famrt_msg_finish(&m, &h);
}

void famrt_proto_extents_put(struct famrt_msg *m,
			     const struct famrt_fmap_strip *x, uint32_t n)
{
	famrt_msg_u32(m, n);
	famrt_msg_u32(m, 0);
	for (uint32_t i = 0; i < n; i++) {
		famrt_msg_u32(m, x[i].devindex);
		famrt_msg_u32(m, 0);
		famrt_msg_u64(m, x[i].offset);
		famrt_msg_u64(m, x[i].len);
	}
}

int famrt_proto_extents_get(const uint8_t *p, size_t len,
			    struct famrt_fmap_strip *x, uint32_t *n,
			    struct famrt_err *e)
{
	if (len < 8)
		return famrt_err_set(e, EPROTO, "alloc reply too short");
	*n = famrt_le32_get(p);
	if (*n < 1 || *n > FAMRT_PROTO_ALLOC_MAX_EXT || len != 8 + *n * 24u ||
	    famrt_le32_get(p + 4))
		return famrt_err_set(e, EPROTO,
				     "alloc reply: %u extents in %zu bytes", *n,
				     len);
	for (uint32_t i = 0; i < *n; i++) {
		const uint8_t *q = p + 8 + i * 24;

		x[i].devindex = famrt_le32_get(q);
		x[i].offset = famrt_le64_get(q + 8);
		x[i].len = famrt_le64_get(q + 16);
		if (famrt_le32_get(q + 4) || !x[i].len)
			return famrt_err_set(e, EPROTO,
					     "alloc reply: extent %u malformed",
					     i);
	}
	return 0;
}

/* ---- reply bodies ---- */

void famrt_proto_attr_put(struct famrt_msg *m, const struct famrt_proto_attr *a)
{
	famrt_msg_u64(m, a->ino);
	famrt_msg_u64(m, a->parent);
	famrt_msg_u32(m, a->mode);
	famrt_msg_u32(m, a->uid);
	famrt_msg_u32(m, a->gid);
	famrt_msg_u32(m, a->nlink);
	famrt_msg_u64(m, a->size);
	famrt_msg_u64(m, a->alloc_bytes);
	famrt_msg_u64(m, a->mtime_ns);
}

int famrt_proto_attr_get(const uint8_t *p, size_t len,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	if (len != ATTR_LEN)
		return famrt_err_set(e, EPROTO,
				     "attribute reply is %zu bytes, not %u", len,
				     ATTR_LEN);
	a->ino = famrt_le64_get(p);
	a->parent = famrt_le64_get(p + 8);
	a->mode = famrt_le32_get(p + 16);
	a->uid = famrt_le32_get(p + 20);
	a->gid = famrt_le32_get(p + 24);
	a->nlink = famrt_le32_get(p + 28);
	a->size = famrt_le64_get(p + 32);
	a->alloc_bytes = famrt_le64_get(p + 40);
	a->mtime_ns = famrt_le64_get(p + 48);
	return 0;
}

int famrt_proto_open_get(const uint8_t *p, size_t len,
			 struct famrt_proto_attr *a, const uint8_t **fmap,
			 size_t *fmap_len, struct famrt_err *e)
{
	int rc;

	if (len < ATTR_LEN)
		return famrt_err_set(e, EPROTO, "open reply is %zu bytes", len);
	rc = famrt_proto_attr_get(p, ATTR_LEN, a, e);
	if (rc)
		return rc;
	*fmap = p + ATTR_LEN;
	*fmap_len = len - ATTR_LEN;
	if ((a->mode & 0170000) == 0040000 && *fmap_len)
		return famrt_err_set(e, EPROTO,
				     "open reply for a directory carries a map");
	if ((a->mode & 0170000) == 0100000 && !*fmap_len)
		return famrt_err_set(e, EPROTO,
				     "open reply for a file has no map");
	return 0;
}

static void put_text(struct famrt_msg *m, const char *s, size_t field)
{
	char buf[64] = { 0 };
	size_t n = strnlen(s, field - 1);

	memcpy(buf, s, n);
	famrt_msg_bytes(m, buf, field);
}

static int get_text(const uint8_t *p, size_t field, char *out)
{
	if (!memchr(p, 0, field))
		return -EPROTO;
	memcpy(out, p, field);
	return 0;
}

void famrt_proto_hello_put(struct famrt_msg *m,
			   const struct famrt_proto_hello_rep *h)
{
	famrt_msg_u16(m, h->version);
	famrt_msg_u16(m, 0);
	famrt_msg_u32(m, h->flags);
	famrt_msg_u32(m, h->server_pid);
	famrt_msg_u32(m, h->ndevs);
	famrt_msg_u64(m, h->alloc_unit);
	famrt_msg_bytes(m, h->fs_uuid, 16);
	put_text(m, h->fs_name, 64);
	put_text(m, h->host_id, 64);
	put_text(m, h->master, 64);
}

int famrt_proto_hello_get(const uint8_t *p, size_t len,
			  struct famrt_proto_hello_rep *h, struct famrt_err *e)
{
	if (len != HELLO_REP_LEN)
		return famrt_err_set(e, EPROTO, "hello reply is %zu bytes, not "
						"%u",
				     len, HELLO_REP_LEN);
	h->version = famrt_le16_get(p);
	h->flags = famrt_le32_get(p + 4);
	h->server_pid = famrt_le32_get(p + 8);
	h->ndevs = famrt_le32_get(p + 12);
	h->alloc_unit = famrt_le64_get(p + 16);
	memcpy(h->fs_uuid, p + 24, 16);
	if (get_text(p + 40, 64, h->fs_name) ||
	    get_text(p + 104, 64, h->host_id) ||
	    get_text(p + 168, 64, h->master))
		return famrt_err_set(e, EPROTO,
				     "hello reply text is not NUL-terminated");
	if (h->version != FAMRT_PROTO_VERSION || h->ndevs < 1 ||
	    h->ndevs > FAMRT_MAX_DEVS)
		return famrt_err_set(e, EPROTO,
				     "hello reply: version %u, %u devices",
				     h->version, h->ndevs);
	return 0;
}

void famrt_proto_devices_put(struct famrt_msg *m,
			     const struct famrt_proto_devices_rep *d)
{
	famrt_msg_u32(m, d->ndevs);
	famrt_msg_u32(m, 0);
	for (uint32_t i = 0; i < d->ndevs && i < 32; i++) {
		const struct famrt_proto_dev *v = &d->dev[i];

		famrt_msg_u32(m, v->index);
		famrt_msg_u32(m, v->access);
		famrt_msg_u64(m, v->size);
		famrt_msg_u64(m, v->align);
		famrt_msg_u32(m, (uint32_t)v->numa_node);
		famrt_msg_u32(m, 0);
		famrt_msg_bytes(m, v->uuid, 16);
	}
}

int famrt_proto_devices_get(const uint8_t *p, size_t len,
			    struct famrt_proto_devices_rep *d,
			    struct famrt_err *e)
{
	if (len < 8)
		return famrt_err_set(e, EPROTO, "devices reply too short");
	d->ndevs = famrt_le32_get(p);
	if (d->ndevs < 1 || d->ndevs > 32 || len != 8 + d->ndevs * DEV_LEN)
		return famrt_err_set(e, EPROTO,
				     "devices reply: %u devices in %zu bytes",
				     d->ndevs, len);
	for (uint32_t i = 0; i < d->ndevs; i++) {
		const uint8_t *q = p + 8 + i * DEV_LEN;
		struct famrt_proto_dev *v = &d->dev[i];

		v->index = famrt_le32_get(q);
		v->access = famrt_le32_get(q + 4);
		v->size = famrt_le64_get(q + 8);
		v->align = famrt_le64_get(q + 16);
		v->numa_node = (int32_t)famrt_le32_get(q + 24);
		memcpy(v->uuid, q + 32, 16);
		if (v->index != i || v->access > FAMRT_DEV_ACCESS_RW || !v->align ||
		    (v->align & (v->align - 1)))
			return famrt_err_set(e, EPROTO,
					     "devices reply: device %u is "
					     "malformed",
					     i);
	}
	return 0;
}

void famrt_proto_statfs_put(struct famrt_msg *m,
			    const struct famrt_proto_statfs_rep *s)
{
	famrt_msg_u64(m, s->size);
	famrt_msg_u64(m, s->free);
	famrt_msg_u64(m, s->largest_free);
	famrt_msg_u64(m, s->free_runs);
	famrt_msg_u64(m, s->files);
	famrt_msg_u64(m, s->dirs);
	famrt_msg_u64(m, s->log_used);
	famrt_msg_u64(m, s->log_size);
	famrt_msg_u64(m, s->entries);
	famrt_msg_u64(m, s->alloc_unit);
	famrt_msg_u32(m, s->ndevs);
	famrt_msg_u32(m, 0);
}

int famrt_proto_statfs_get(const uint8_t *p, size_t len,
			   struct famrt_proto_statfs_rep *s,
			   struct famrt_err *e)
{
	if (len != STATFS_REP_LEN)
		return famrt_err_set(e, EPROTO, "statfs reply is %zu bytes",
				     len);
	s->size = famrt_le64_get(p);
	s->free = famrt_le64_get(p + 8);
	s->largest_free = famrt_le64_get(p + 16);
	s->free_runs = famrt_le64_get(p + 24);
	s->files = famrt_le64_get(p + 32);
	s->dirs = famrt_le64_get(p + 40);
	s->log_used = famrt_le64_get(p + 48);
	s->log_size = famrt_le64_get(p + 56);
	s->entries = famrt_le64_get(p + 64);
	s->alloc_unit = famrt_le64_get(p + 72);
	s->ndevs = famrt_le32_get(p + 80);
	return 0;
}

ssize_t famrt_proto_error_encode(uint8_t *buf, size_t cap, uint16_t op,
				 uint64_t id, int status, const char *msg)
{
	struct famrt_proto_hdr h = { .version = FAMRT_PROTO_VERSION,
				     .op = op,
				     .flags = FAMRT_PROTO_FLAG_REPLY,
				     .req_id = id,
				     .status = status };
	size_t n = msg ? strnlen(msg, FAMRT_PROTO_ERRMSG_MAX - 1) : 0;
	struct famrt_msg m;

	famrt_msg_init(&m, buf, cap);
	famrt_msg_u16(&m, (uint16_t)n);
	famrt_msg_u16(&m, 0);
	famrt_msg_bytes(&m, msg, n);
	return famrt_msg_finish(&m, &h);
}

int famrt_proto_error_get(const uint8_t *p, size_t len, char *msg,
			  size_t msglen)
{
	uint16_t n;

	if (msglen)
		msg[0] = '\0';
	if (len < 4)
		return -EPROTO;
	n = famrt_le16_get(p);
	if ((size_t)n + 4 != len || n >= FAMRT_PROTO_ERRMSG_MAX)
		return -EPROTO;
	if (msglen) {
		size_t c = n < msglen - 1 ? n : msglen - 1;

		memcpy(msg, p + 4, c);
		msg[c] = '\0';
		/* Never show control characters from the other side. */
		for (size_t i = 0; i < c; i++)
			if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
				msg[i] = '?';
	}
	return 0;
}

size_t famrt_proto_dirent_size(uint16_t name_len)
{
	return (DIRENT_FIXED + name_len + 7) & ~(size_t)7;
}

void famrt_proto_dirent_put(struct famrt_msg *m,
			    const struct famrt_proto_dirent *d)
{
	famrt_msg_u64(m, d->ino);
	famrt_msg_u32(m, d->mode);
	famrt_msg_u16(m, d->name_len);
	famrt_msg_u16(m, 0);
	famrt_msg_bytes(m, d->name, d->name_len);
	famrt_msg_pad8(m);
}

int famrt_proto_readdir_get(const uint8_t *p, size_t len,
			    uint64_t *next_cookie,
			    int (*fn)(const struct famrt_proto_dirent *, void *),
			    void *arg, struct famrt_err *e)
{
	size_t off = 16;
	uint32_t count;

	if (len < 16)
		return famrt_err_set(e, EPROTO, "readdir reply too short");
	*next_cookie = famrt_le64_get(p);
	count = famrt_le32_get(p + 8);
	if (count > FAMRT_PROTO_READDIR_MAX)
		return famrt_err_set(e, EPROTO, "readdir reply has %u entries",
				     count);
	for (uint32_t i = 0; i < count; i++) {
		struct famrt_proto_dirent d;
		size_t sz;

		if (len - off < DIRENT_FIXED)
			return famrt_err_set(e, EPROTO,
					     "readdir entry %u truncated", i);
		d.ino = famrt_le64_get(p + off);
		d.mode = famrt_le32_get(p + off + 8);
		d.name_len = famrt_le16_get(p + off + 12);
		sz = famrt_proto_dirent_size(d.name_len);
		if (d.name_len == 0 || d.name_len > FAMRT_NAME_COMPONENT_MAX ||
		    len - off < sz)
			return famrt_err_set(e, EPROTO,
					     "readdir entry %u malformed", i);
		d.name = (const char *)p + off + DIRENT_FIXED;
		if (memchr(d.name, '/', d.name_len) ||
		    memchr(d.name, 0, d.name_len))
			return famrt_err_set(e, EPROTO,
					     "readdir entry %u has a bad name",
					     i);
		off += sz;
		if (fn(&d, arg))
			return 0;
	}
	if (off != len)
		return famrt_err_set(e, EPROTO,
				     "readdir reply has %zu bytes after its "
				     "%u entries",
				     len - off, count);
	return 0;
}
