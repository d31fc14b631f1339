/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the famrtd protocol decoders (runtime/proto): the service's request
 * decoder famrt_proto_req_decode and the client's reply decoders
 * (attributes, hello, devices, statfs, error, readdir).
 *
 * Input: one selector byte, then the message (or reply body). Selector:
 *   bits 0-3  what to decode: FUZZ_PROTO_* (0, 1 and 10 to 15 a request,
 *             so that requests get most of the time)
 *   bit 4     requests: write the right magic and length into the header
 *             first, so that mutations reach the bodies; readdir: stop at
 *             the first entry (the callback returns 1)
 *   bits 5-7  error: which message buffer size to use
 * The message is copied into a heap buffer of exactly its size, so that
 * AddressSanitizer sees any read past its end.
 *
 * Checks: every refusal is one of the documented errors and says why; a
 * request that fails after its header still has the request id (replies
 * echo it); an accepted request obeys every rule of docs/protocol.md
 * (paths pass famrt_path_check and lie inside the message, counts and
 * modes in range, unused device slots zero) and the client encoders make
 * the very same bytes from what was decoded; an accepted reply has
 * pointers inside the body and fields in range, and decoding what the
 * service-side encoders make of it gives the same values again; a map in
 * an OPEN reply goes through famrt_fmap_decode as the client would. An
 * operation this target does not know yet is checked only for the header
 * rules, so that new operations do not break it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <famrt/fmap.h>

#include "fuzz.h"
#include "fuzz_proto_input.h"
#include "meta/format.h"
#include "proto/proto.h"
#include "util/bytes.h"

static uint8_t out[FAMRT_PROTO_MSG_MAX];

static bool inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
	const uint8_t *q = p;

	return q >= buf && n <= len && q - buf <= (ptrdiff_t)(len - n);
}

static bool is_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* A NUL-terminated copy of a checked path (no NUL inside). */
static const char *cpath(const char *p, uint16_t n)
{
	static char buf[FAMRT_PATH_MAX + 2];

	FUZZ_CHECK(n <= FAMRT_PATH_MAX);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static void check_path(const char *p, uint16_t n, const uint8_t *buf,
		       size_t len)
{
	FUZZ_CHECK(inside(p, n, buf, len));
	/* The path is the end of the message. */
	FUZZ_CHECK((const uint8_t *)p + n == buf + len);
	FUZZ_CHECK(famrt_path_check(p, n, NULL) == 0);
	FUZZ_CHECK(!memchr(p, 0, n));
}

static void request(uint8_t *buf, size_t len)
{
	struct famrt_proto_req r;
	struct famrt_err e;
	const uint8_t *body = buf + FAMRT_PROTO_HDR_SIZE;
	ssize_t n = -1;
	int rc;

	famrt_err_clear(&e);
	rc = famrt_proto_req_decode(buf, len, &r, &e);
	if (rc) {
		FUZZ_CHECK(rc == -EPROTO || rc == -EPROTONOSUPPORT ||
			   rc == -EOPNOTSUPP || rc == -EINVAL ||
			   rc == -EMSGSIZE || rc == -ENAMETOOLONG);
		FUZZ_CHECK(e.code == -rc && e.msg[0]);
		if (len >= FAMRT_PROTO_HDR_SIZE &&
		    famrt_le32_get(buf) == FAMRT_PROTO_MAGIC)
			FUZZ_CHECK(r.hdr.req_id == famrt_le64_get(buf + 16) &&
				   r.hdr.op == famrt_le16_get(buf + 6));
		return;
	}
	FUZZ_CHECK(len >= FAMRT_PROTO_HDR_SIZE && len <= FAMRT_PROTO_REQ_MAX);
	FUZZ_CHECK(r.hdr.length == len);
	FUZZ_CHECK(r.hdr.version == FAMRT_PROTO_VERSION);
	FUZZ_CHECK(r.hdr.flags == 0 && r.hdr.status == 0);
	FUZZ_CHECK(famrt_le32_get(buf) == FAMRT_PROTO_MAGIC);
	FUZZ_CHECK(is_zero(buf + 28, 4));
	FUZZ_CHECK(strcmp(famrt_op_name(r.hdr.op), "unknown"));

	switch (r.hdr.op) {
	case FAMRT_OP_HELLO:
		FUZZ_CHECK(r.u.hello.min_version <= FAMRT_PROTO_VERSION &&
			   r.u.hello.max_version >= FAMRT_PROTO_VERSION);
		if (r.u.hello.min_version == FAMRT_PROTO_VERSION &&
		    r.u.hello.max_version == FAMRT_PROTO_VERSION)
			n = famrt_proto_hello_req_encode(out, sizeof(out),
							 r.hdr.req_id);
		else
			n = -2; /* the encoder speaks only 1..1 */
		break;
	case FAMRT_OP_DEVICES:
	case FAMRT_OP_STATFS:
		FUZZ_CHECK(len == FAMRT_PROTO_HDR_SIZE);
		n = famrt_proto_simple_req_encode(out, sizeof(out), r.hdr.op,
						  r.hdr.req_id);
		break;
	case FAMRT_OP_LOOKUP:
		FUZZ_CHECK(r.u.path.access == 0);
		check_path(r.u.path.path, r.u.path.path_len, buf, len);
		n = famrt_proto_path_req_encode(out, sizeof(out), r.hdr.op,
						r.hdr.req_id,
						cpath(r.u.path.path,
						      r.u.path.path_len));
		break;
	case FAMRT_OP_OPEN:
		FUZZ_CHECK(!(r.u.path.access &
			     ~(FAMRT_OPEN_READ | FAMRT_OPEN_WRITE)));
		check_path(r.u.path.path, r.u.path.path_len, buf, len);
		n = famrt_proto_open_req_encode(out, sizeof(out), r.hdr.req_id,
						cpath(r.u.path.path,
						      r.u.path.path_len),
						r.u.path.access);
		break;
	case FAMRT_OP_GETATTR:
	case FAMRT_OP_GET_FMAP:
	case FAMRT_OP_ABORT:
		FUZZ_CHECK(r.u.ino.ino == famrt_le64_get(body));
		n = famrt_proto_ino_req_encode(out, sizeof(out), r.hdr.op,
					       r.hdr.req_id, r.u.ino.ino);
		break;
	case FAMRT_OP_ALLOC:
		FUZZ_CHECK(r.u.alloc.bytes != 0);
		n = famrt_proto_alloc_req_encode(out, sizeof(out),
						 r.hdr.req_id, r.u.alloc.handle,
						 r.u.alloc.bytes);
		break;
	case FAMRT_OP_COMMIT:
		FUZZ_CHECK(r.u.commit.mode == FAMRT_COMMIT_KEEP_MODE ||
			   r.u.commit.mode <= 07777);
		n = famrt_proto_commit_req_encode(out, sizeof(out),
						  r.hdr.req_id, &r.u.commit);
		break;
	case FAMRT_OP_BEGIN:
		FUZZ_CHECK(r.u.mkdir.mode <= 07777);
		check_path(r.u.mkdir.path, r.u.mkdir.path_len, buf, len);
		n = famrt_proto_begin_req_encode(out, sizeof(out),
						 r.hdr.req_id, r.u.mkdir.mode,
						 cpath(r.u.mkdir.path,
						       r.u.mkdir.path_len));
		break;
	case FAMRT_OP_READDIR:
		n = famrt_proto_readdir_req_encode(out, sizeof(out),
						   r.hdr.req_id,
						   r.u.readdir.ino,
						   r.u.readdir.cookie,
						   r.u.readdir.max);
		break;
	case FAMRT_OP_CREATE: {
		const struct famrt_proto_create_req *c = &r.u.create;

		FUZZ_CHECK(c->mode <= 07777 && c->layout <= 1);
		FUZZ_CHECK(c->ndevs <= 32 && c->nstrips <= 32);
		for (uint32_t i = c->ndevs; i < 32; i++)
			FUZZ_CHECK(c->devs[i] == 0);
		check_path(c->path, c->path_len, buf, len);
		n = famrt_proto_create_req_encode(out, sizeof(out),
						  r.hdr.req_id, c,
						  cpath(c->path, c->path_len));
		break;
	}
	case FAMRT_OP_MKDIR:
		FUZZ_CHECK(r.u.mkdir.mode <= 07777);
		check_path(r.u.mkdir.path, r.u.mkdir.path_len, buf, len);
		n = famrt_proto_mkdir_req_encode(out, sizeof(out),
						 r.hdr.req_id, r.u.mkdir.mode,
						 cpath(r.u.mkdir.path,
						       r.u.mkdir.path_len));
		break;
	default:
		/* An operation newer than this target: header rules only. */
		FUZZ_CHECK(r.hdr.op < FAMRT_OP_COUNT_);
		n = -2;
	}
	if (n == -2)
		return;
	/* What the client encoders make of it is the message itself. */
	FUZZ_CHECK(n == (ssize_t)len);
	FUZZ_CHECK(!memcmp(out, buf, len));
}

/* Run a reply body through the service-side encoder: the body bytes. */
static const uint8_t *rebuild(struct famrt_msg *m, size_t *len)
{
	FUZZ_CHECK(!m->overflow);
	*len = m->len - FAMRT_PROTO_HDR_SIZE;
	return out + FAMRT_PROTO_HDR_SIZE;
}

static void reply_attr(const uint8_t *b, size_t len)
{
	struct famrt_proto_attr a, a2;
	struct famrt_msg m;
	size_t n;

	if (famrt_proto_attr_get(b, len, &a, NULL))
		return;
	famrt_msg_init(&m, out, sizeof(out));
	famrt_proto_attr_put(&m, &a);
	b = rebuild(&m, &n);
	FUZZ_CHECK(n == len);
	FUZZ_CHECK(famrt_proto_attr_get(b, n, &a2, NULL) == 0);
	FUZZ_CHECK(!memcmp(&a, &a2, sizeof(a)));
}

static void check_text(const char *s, size_t field)
{
	FUZZ_CHECK(memchr(s, 0, field));
}

static void reply_hello(const uint8_t *b, size_t len)
{
	struct famrt_proto_hello_rep h, h2;
	struct famrt_msg m;
	size_t n;

	memset(&h, 0, sizeof(h));
	memset(&h2, 0, sizeof(h2));
	if (famrt_proto_hello_get(b, len, &h, NULL))
		return;
	FUZZ_CHECK(h.version == FAMRT_PROTO_VERSION);
	FUZZ_CHECK(h.ndevs >= 1 && h.ndevs <= FAMRT_MAX_DEVS);
	check_text(h.fs_name, sizeof(h.fs_name));
	check_text(h.host_id, sizeof(h.host_id));
	check_text(h.master, sizeof(h.master));
	famrt_msg_init(&m, out, sizeof(out));
	famrt_proto_hello_put(&m, &h);
	b = rebuild(&m, &n);
	FUZZ_CHECK(n == len);
	FUZZ_CHECK(famrt_proto_hello_get(b, n, &h2, NULL) == 0);
	FUZZ_CHECK(h.version == h2.version && h.flags == h2.flags &&
		   h.server_pid == h2.server_pid && h.ndevs == h2.ndevs &&
		   h.alloc_unit == h2.alloc_unit &&
		   !memcmp(h.fs_uuid, h2.fs_uuid, 16) &&
		   !strcmp(h.fs_name, h2.fs_name) &&
		   !strcmp(h.host_id, h2.host_id) &&
		   !strcmp(h.master, h2.master));
}

static void reply_devices(const uint8_t *b, size_t len)
{
	static struct famrt_proto_devices_rep d, d2;
	struct famrt_msg m;
	size_t n;

	memset(&d, 0, sizeof(d));
	memset(&d2, 0, sizeof(d2));
	if (famrt_proto_devices_get(b, len, &d, NULL))
		return;
	FUZZ_CHECK(d.ndevs >= 1 && d.ndevs <= 32);
	for (uint32_t i = 0; i < d.ndevs; i++) {
		FUZZ_CHECK(d.dev[i].index == i);
		FUZZ_CHECK(d.dev[i].align &&
			   !(d.dev[i].align & (d.dev[i].align - 1)));
	}
	famrt_msg_init(&m, out, sizeof(out));
	famrt_proto_devices_put(&m, &d);
	b = rebuild(&m, &n);
	FUZZ_CHECK(n == len);
	FUZZ_CHECK(famrt_proto_devices_get(b, n, &d2, NULL) == 0);
	FUZZ_CHECK(!memcmp(&d, &d2, sizeof(d)));
}

static void reply_statfs(const uint8_t *b, size_t len)
{
	struct famrt_proto_statfs_rep s, s2;
	struct famrt_msg m;
	size_t n;

	memset(&s, 0, sizeof(s));
	memset(&s2, 0, sizeof(s2));
	if (famrt_proto_statfs_get(b, len, &s, NULL))
		return;
	famrt_msg_init(&m, out, sizeof(out));
	famrt_proto_statfs_put(&m, &s);
	b = rebuild(&m, &n);
	FUZZ_CHECK(n == len);
	FUZZ_CHECK(famrt_proto_statfs_get(b, n, &s2, NULL) == 0);
	FUZZ_CHECK(!memcmp(&s, &s2, sizeof(s)));
}

static void reply_error(const uint8_t *b, size_t len, unsigned which)
{
	static const size_t sizes[] = { 0, 1, 2, 16, 255, 256, 300, 1 };
	size_t cap = sizes[which & 7];
	char msg[300 + 1], msg2[300 + 1];
	struct famrt_proto_hdr h;
	ssize_t n;
	int rc;

	memset(msg, 'Z', sizeof(msg));
	rc = famrt_proto_error_get(b, len, msg, cap);
	FUZZ_CHECK(msg[cap] == 'Z');
	if (cap)
		FUZZ_CHECK(memchr(msg, 0, cap));
	FUZZ_CHECK(rc == 0 || rc == -EPROTO);
	FUZZ_CHECK((rc == 0) ==
		   (len >= 4 && famrt_le16_get(b) + 4u == len &&
		    famrt_le16_get(b) < FAMRT_PROTO_ERRMSG_MAX));
	if (rc || !cap)
		return;
	for (size_t i = 0; msg[i]; i++)
		FUZZ_CHECK((unsigned char)msg[i] >= 0x20 && msg[i] != 0x7f);
	/* The whole text came through when it fit. */
	if (len - 4 < cap)
		FUZZ_CHECK(strlen(msg) == len - 4);
	n = famrt_proto_error_encode(out, sizeof(out), FAMRT_OP_LOOKUP, 7,
				     -ENOENT, msg);
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(famrt_proto_hdr_decode(out, (size_t)n, &h, NULL) == 0);
	FUZZ_CHECK(h.status == -ENOENT && h.flags == FAMRT_PROTO_FLAG_REPLY);
	FUZZ_CHECK(famrt_proto_error_get(out + FAMRT_PROTO_HDR_SIZE,
					 (size_t)n - FAMRT_PROTO_HDR_SIZE,
					 msg2, sizeof(msg2)) == 0);
	FUZZ_CHECK(!strcmp(msg, msg2));
}

static void reply_open(const uint8_t *b, size_t len)
{
	struct famrt_proto_attr a;
	struct famrt_fmap_error ferr;
	struct famrt_fmap *map = NULL;
	const uint8_t *fmap = NULL;
	size_t flen = 0;
	uint8_t *copy;

	if (famrt_proto_open_get(b, len, &a, &fmap, &flen, NULL))
		return;
	FUZZ_CHECK(fmap == b + 56 && flen == len - 56);
	if ((a.mode & 0170000) == 0040000)
		FUZZ_CHECK(flen == 0);
	if ((a.mode & 0170000) == 0100000)
		FUZZ_CHECK(flen > 0);
	if (!flen)
		return;
	/* What the client does next: validate the map (exact copy). */
	copy = malloc(flen);
	FUZZ_CHECK(copy);
	memcpy(copy, fmap, flen);
	if (famrt_fmap_decode(copy, flen, NULL, &map, &ferr) == 0) {
		FUZZ_CHECK(famrt_fmap_encode(map, out, sizeof(out)) ==
			   (ssize_t)flen);
		FUZZ_CHECK(!memcmp(out, copy, flen));
		famrt_fmap_free(map);
	} else {
		FUZZ_CHECK(map == NULL && ferr.message[0]);
	}
	free(copy);
}

static void reply_extents(const uint8_t *b, size_t len)
{
	static struct famrt_fmap_strip x[FAMRT_PROTO_ALLOC_MAX_EXT + 1];
	static struct famrt_fmap_strip x2[FAMRT_PROTO_ALLOC_MAX_EXT + 1];
	struct famrt_msg m;
	uint32_t n = 0, n2 = 0;
	size_t blen;

	if (famrt_proto_extents_get(b, len, x, &n, NULL))
		return;
	FUZZ_CHECK(n >= 1 && n <= FAMRT_PROTO_ALLOC_MAX_EXT);
	for (uint32_t i = 0; i < n; i++)
		FUZZ_CHECK(x[i].len != 0);
	famrt_msg_init(&m, out, sizeof(out));
	famrt_proto_extents_put(&m, x, n);
	b = rebuild(&m, &blen);
	FUZZ_CHECK(blen == len);
	FUZZ_CHECK(famrt_proto_extents_get(b, blen, x2, &n2, NULL) == 0);
	FUZZ_CHECK(n2 == n);
	for (uint32_t i = 0; i < n; i++)
		FUZZ_CHECK(x[i].devindex == x2[i].devindex &&
			   x[i].offset == x2[i].offset &&
			   x[i].len == x2[i].len);
}

struct dir_collect {
	const uint8_t *body;
	size_t len;
	bool stop;
	uint32_t n;
	struct famrt_proto_dirent d[FAMRT_PROTO_READDIR_MAX + 1];
};

static int collect(const struct famrt_proto_dirent *d, void *arg)
{
	struct dir_collect *c = arg;

	FUZZ_CHECK(c->n < FAMRT_PROTO_READDIR_MAX);
	FUZZ_CHECK(inside(d->name, d->name_len, c->body, c->len));
	FUZZ_CHECK(d->name_len >= 1 &&
		   d->name_len <= FAMRT_NAME_COMPONENT_MAX);
	FUZZ_CHECK(!memchr(d->name, '/', d->name_len) &&
		   !memchr(d->name, 0, d->name_len));
	c->d[c->n++] = *d;
	return c->stop;
}

static int compare(const struct famrt_proto_dirent *d, void *arg)
{
	struct dir_collect *c = arg;
	const struct famrt_proto_dirent *w;

	FUZZ_CHECK(c->n < FAMRT_PROTO_READDIR_MAX);
	w = &c->d[c->n++];
	FUZZ_CHECK(d->ino == w->ino && d->mode == w->mode &&
		   d->name_len == w->name_len &&
		   !memcmp(d->name, w->name, d->name_len));
	return 0;
}

static void reply_readdir(const uint8_t *b, size_t len, bool stop)
{
	static struct dir_collect c;
	uint64_t cookie = 0, cookie2 = 0;
	struct famrt_err e;
	struct famrt_msg m;
	uint32_t count;
	size_t n;
	int rc;

	c.body = b;
	c.len = len;
	c.stop = stop;
	c.n = 0;
	rc = famrt_proto_readdir_get(b, len, &cookie, collect, &c, &e);
	if (rc) {
		FUZZ_CHECK(rc == -EPROTO && e.msg[0]);
		return;
	}
	count = famrt_le32_get(b + 8);
	FUZZ_CHECK(count <= FAMRT_PROTO_READDIR_MAX);
	FUZZ_CHECK(c.n == (stop && count ? 1 : count));
	FUZZ_CHECK(cookie == famrt_le64_get(b));
	if (stop)
		return;
	famrt_msg_init(&m, out, sizeof(out));
	famrt_msg_u64(&m, cookie);
	famrt_msg_u32(&m, count);
	famrt_msg_u32(&m, 0);
	for (uint32_t i = 0; i < c.n; i++)
		famrt_proto_dirent_put(&m, &c.d[i]);
	b = rebuild(&m, &n);
	FUZZ_CHECK(n == len);
	c.n = 0;
	FUZZ_CHECK(famrt_proto_readdir_get(b, n, &cookie2, compare, &c,
					   NULL) == 0);
	FUZZ_CHECK(c.n == count && cookie2 == cookie);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel;
	uint8_t *buf;
	size_t len;

	if (size < 1)
		return 0;
	sel = data[0];
	len = size - 1;
	buf = malloc(len ? len : 1);
	FUZZ_CHECK(buf);
	memcpy(buf, data + 1, len);
	switch (sel & FUZZ_PROTO_WHAT) {
	case FUZZ_PROTO_ATTR:
		reply_attr(buf, len);
		break;
	case FUZZ_PROTO_HELLO:
		reply_hello(buf, len);
		break;
	case FUZZ_PROTO_DEVICES:
		reply_devices(buf, len);
		break;
	case FUZZ_PROTO_STATFS:
		reply_statfs(buf, len);
		break;
	case FUZZ_PROTO_ERROR:
		reply_error(buf, len, sel >> 5);
		break;
	case FUZZ_PROTO_READDIR:
		reply_readdir(buf, len, sel & FUZZ_PROTO_FLAG);
		break;
	case FUZZ_PROTO_OPEN:
		reply_open(buf, len);
		break;
	case FUZZ_PROTO_EXTENTS:
		reply_extents(buf, len);
		break;
	default:
		if ((sel & FUZZ_PROTO_FLAG) && len >= FAMRT_PROTO_HDR_SIZE) {
			famrt_le32_put(buf, FAMRT_PROTO_MAGIC);
			famrt_le32_put(buf + 8, (uint32_t)len);
		}
		request(buf, len);
		break;
	}
	free(buf);
	return 0;
}
