/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libfamrt against a service that lies (fake_famrtd: a child process on a
 * SOCK_SEQPACKET socket speaking the protocol with the runtime/proto
 * encoders and passing the descriptors of small emulated devices).
 *
 * famrt_connect must refuse, with a clear errno and message, a service
 * running as another non-root user (and accept it once FAMRT_SERVICE_UID
 * names it), replies with the wrong id or operation, without the reply
 * flag, with a bad status, truncated, oversized or with a length that lies,
 * a closed connection, silence (FAMRT_CLIENT_TIMEOUT_MS), device tables
 * that are malformed or disagree with hello or with the devices, too few
 * or too many descriptors (more than fit), descriptors of the wrong kind or
 * access. famrt_open (the OPEN reply) and famrt_client_get_fmap (GET_FMAP)
 * must refuse every malformed or out-of-bounds map: an extent past its
 * device's end, a device index beyond the table, offsets and lengths that
 * overflow, truncated or oversized messages, trailing bytes, reserved bits,
 * unknown versions and types, zero and unaligned lengths, bad chunks and
 * byte counts, a size that disagrees with the attributes, a directory with
 * a map and a file without one, maps on devices this client may not use.
 * After each refusal no descriptor has leaked, and where the conversation
 * is intact a good file still opens and reads right.
 *
 * The device mappings are moved (mremap) between PROT_NONE guard pages
 * before files are read, so any access outside them faults (the test then
 * dies); maps that reach exactly to a device's first and last bytes are
 * accepted and read, mapped and written in full.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <famrt/famrt.h>

#include "client/internal.h"
#include "fake_famrtd.h"
#include "proto/client.h"
#include "rt_util.h"
#include "util/bytes.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define DEVSIZE (1 * MiB)
#define GOOD_SIZE 60000u

/* Offsets in a proto header and an fmap message. */
enum { P_VERSION = 4, P_OP = 6, P_LENGTH = 8, P_FLAGS = 12, P_ID = 16,
       P_STATUS = 24 };
enum { F_RESERVED = 1, F_VERSION = 2, F_FILE_TYPE = 0, F_EXT_TYPE = 4,
       F_NEXTENTS = 8, F_RESERVED0 = 12, F_SIZE = 16, F_RESERVED1 = 24,
       F_EXT = 32, E_DEV = 0, E_RESERVED = 4, E_OFF = 8, E_LEN = 16 };

struct hostile {
	char dev[2][96];
	uint8_t *map[2];      /* the test's view of the devices */
	struct fake_cfg *cfg;
	struct fake svc;
	int fds0;             /* descriptors before */
};

static struct hostile H;

/* ---- building blocks ---- */

static void base_cfg(void)
{
	struct fake_cfg *c = H.cfg;
	struct famrt_fmap_desc *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	memset(c, 0, sizeof(*c));
	c->ndevs = 2;
	for (int i = 0; i < 2; i++) {
		snprintf(c->dev[i], sizeof(c->dev[i]), "%s", H.dev[i]);
		c->access[i] = FAMRT_DEV_ACCESS_RW;
	}
	/* A good file: 64 KiB on device 0 at 64 KiB. */
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->nextents = 1;
	d->file_size = GOOD_SIZE;
	d->extents[0].nstrips = 1;
	d->extents[0].nbytes = 64 * KiB;
	d->extents[0].strips[0] = (struct famrt_fmap_strip){ 0, 64 * KiB,
							     64 * KiB };
	assert_non_null(fake_add_desc(c, "/good", d, UINT64_MAX));
	free(d);
}

static int group_setup(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		int fd;

		snprintf(H.dev[i], sizeof(H.dev[i]),
			 "/dev/shm/famrt-test-hostile-%d-%d", (int)getpid(), i);
		fd = open(H.dev[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || ftruncate(fd, DEVSIZE))
			return -1;
		H.map[i] = mmap(NULL, DEVSIZE, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, 0);
		close(fd);
		if (H.map[i] == MAP_FAILED)
			return -1;
		rt_fill(H.map[i], DEVSIZE, 500 + (uint64_t)i);
	}
	H.cfg = calloc(1, sizeof(*H.cfg));
	return H.cfg ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		if (H.map[i] && H.map[i] != MAP_FAILED)
			munmap(H.map[i], DEVSIZE);
		unlink(H.dev[i]);
	}
	free(H.cfg);
	return 0;
}

static int each_setup(void **state)
{
	(void)state;
	base_cfg();
	H.fds0 = rt_count_fds();
	return 0;
}

static int each_teardown(void **state)
{
	(void)state;
	fake_stop(&H.svc);
	unsetenv("FAMRT_CLIENT_TIMEOUT_MS");
	unsetenv("FAMRT_SERVICE_UID");
	return 0;
}

static void start(void)
{
	assert_int_equal(fake_start(&H.svc, H.cfg), 0);
}

static struct famrt *connect_ok(void)
{
	struct famrt_connect_opts o = { .size = sizeof(o),
					.socket = H.svc.socket };
	struct famrt *c;
	int rc = famrt_connect(&c, &o);

	if (rc)
		fail_msg("connect: %d %s", rc, famrt_errmsg());
	return c;
}

static void no_leak(void)
{
	int n = rt_count_fds();

	if (n != H.fds0)
		fail_msg("%d descriptors open, %d before", n, H.fds0);
}

/* famrt_connect must fail with err and a message containing each of msg. */
static void connect_refused(int err, const char *msg1, const char *msg2)
{
	struct famrt_connect_opts o = { .size = sizeof(o),
					.socket = H.svc.socket };
	struct famrt *c = (struct famrt *)&o;
	int rc;

	start();
	rc = famrt_connect(&c, &o);
	if (rc != -err)
		fail_msg("connect gave %d (%s), expected %d", rc,
			 famrt_errmsg(), -err);
	assert_null(c);
	if (msg1 && !strstr(famrt_errmsg(), msg1))
		fail_msg("message '%s' lacks '%s'", famrt_errmsg(), msg1);
	if (msg2 && !strstr(famrt_errmsg(), msg2))
		fail_msg("message '%s' lacks '%s'", famrt_errmsg(), msg2);
	fake_stop(&H.svc);
	no_leak();
}

/* Move each device mapping between guard pages: outside access faults. */
#define GUARD (64 * KiB)
static void guard_devices(struct famrt *c)
{
	for (uint32_t i = 0; i < c->ndevs; i++) {
		size_t len = c->dev[i].map_len;
		uint8_t *r, *p;

		if (!c->base[i])
			continue;
		r = mmap(NULL, len + 2 * GUARD, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(r != MAP_FAILED);
		p = mremap(c->base[i], len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   r + GUARD);
		assert_true(p == r + GUARD);
		c->base[i] = p;
		c->dev[i].base = p;
	}
}

static void unguard_devices(struct famrt *c)
{
	for (uint32_t i = 0; i < c->ndevs; i++)
		if (c->base[i]) {
			munmap((uint8_t *)c->base[i] - GUARD, GUARD);
			munmap((uint8_t *)c->base[i] + c->dev[i].map_len,
			       GUARD);
		}
}

static void read_good(struct famrt *c)
{
	struct famrt_file *f;
	uint8_t buf[GOOD_SIZE];

	if (famrt_open(c, "/good", O_RDONLY, &f))
		fail_msg("open /good: %s", famrt_errmsg());
	assert_int_equal(famrt_pread(f, buf, sizeof(buf), 0), GOOD_SIZE);
	assert_memory_equal(buf, H.map[0] + 64 * KiB, GOOD_SIZE);
	assert_int_equal(famrt_close(f), 0);
}

/* ---- hooks ---- */

enum scenario {
	S_NONE,
	S_HELLO_ID, S_HELLO_OP, S_HELLO_NOREPLY, S_HELLO_NDEVS0,
	S_HELLO_NDEVS33, S_HELLO_SHORT, S_HELLO_VERSION, S_OVERSIZED, S_TINY,
	S_LENGTH_LIES, S_STATUS_POSITIVE, S_STATUS_HUGE, S_ERROR_CONTROL,
	S_CLOSE, S_SILENT, S_DEV_FEWER, S_DEV_MORE, S_DEV_FLOOD, S_DEV_INDEX,
	S_DEV_ALIGN3, S_DEV_NDEVS, S_DEV_PIPE, S_DEV_NULL, S_OPEN_ID,
	S_OPEN_SHORT_ATTR, S_OPEN_FDS, S_SLOW_OPEN, S_PROTO_VERSION,
};

static void put_hdr_u32(uint8_t *out, unsigned at, uint32_t v)
{
	famrt_le32_put(out + at, v);
}

static int hook(const struct fake_cfg *cfg, const struct famrt_proto_req *q,
		const int *devfd, uint8_t *out, size_t *len, int *fds,
		int *nfds)
{
	uint16_t op = q->hdr.op;

	switch (cfg->scenario) {
	case S_HELLO_ID:
	case S_HELLO_OP:
	case S_HELLO_NOREPLY:
	case S_HELLO_NDEVS0:
	case S_HELLO_NDEVS33:
	case S_HELLO_SHORT:
	case S_HELLO_VERSION:
	case S_PROTO_VERSION:
	case S_OVERSIZED:
	case S_TINY:
	case S_LENGTH_LIES:
	case S_STATUS_POSITIVE:
	case S_STATUS_HUGE:
		if (op != FAMRT_OP_HELLO)
			return FAKE_DEFAULT;
		*len = fake_default_reply(cfg, q, devfd, out, fds, nfds);
		switch (cfg->scenario) {
		case S_HELLO_ID:
			famrt_le64_put(out + P_ID, q->hdr.req_id + 1);
			break;
		case S_HELLO_OP:
			famrt_le16_put(out + P_OP, FAMRT_OP_DEVICES);
			break;
		case S_HELLO_NOREPLY:
			put_hdr_u32(out, P_FLAGS, 0);
			break;
		case S_HELLO_NDEVS0:
			put_hdr_u32(out, FAMRT_PROTO_HDR_SIZE + 12, 0);
			break;
		case S_HELLO_NDEVS33:
			put_hdr_u32(out, FAMRT_PROTO_HDR_SIZE + 12, 33);
			break;
		case S_HELLO_SHORT:
			*len -= 8;
			put_hdr_u32(out, P_LENGTH, (uint32_t)*len);
			break;
		case S_HELLO_VERSION:
			famrt_le16_put(out + FAMRT_PROTO_HDR_SIZE, 2);
			break;
		case S_PROTO_VERSION:
			famrt_le16_put(out + P_VERSION, 9);
			break;
		case S_OVERSIZED:
			memset(out + *len, 0, FAMRT_PROTO_MSG_MAX + 100 - *len);
			*len = FAMRT_PROTO_MSG_MAX + 100;
			put_hdr_u32(out, P_LENGTH, (uint32_t)*len);
			break;
		case S_TINY:
			*len = 10;
			break;
		case S_LENGTH_LIES:
			put_hdr_u32(out, P_LENGTH, (uint32_t)*len + 8);
			break;
		case S_STATUS_POSITIVE:
			put_hdr_u32(out, P_STATUS, 5);
			break;
		case S_STATUS_HUGE:
			put_hdr_u32(out, P_STATUS, (uint32_t)-5000);
			break;
		}
		return FAKE_SEND;
	case S_ERROR_CONTROL:
		if (op != FAMRT_OP_HELLO)
			return FAKE_DEFAULT;
		*len = (size_t)famrt_proto_error_encode(
			out, FAKE_OUT_MAX, op, q->hdr.req_id, -EACCES,
			"go away\x1b[2J\r\nnow\a");
		return FAKE_SEND;
	case S_CLOSE:
		return op == FAMRT_OP_HELLO ? FAKE_CLOSE : FAKE_DEFAULT;
	case S_SILENT:
		return op == FAMRT_OP_DEVICES ? FAKE_SILENT : FAKE_DEFAULT;
	case S_DEV_FEWER:
	case S_DEV_MORE:
	case S_DEV_FLOOD:
	case S_DEV_INDEX:
	case S_DEV_ALIGN3:
	case S_DEV_NDEVS:
	case S_DEV_PIPE:
	case S_DEV_NULL:
		if (op != FAMRT_OP_DEVICES)
			return FAKE_DEFAULT;
		*len = fake_default_reply(cfg, q, devfd, out, fds, nfds);
		switch (cfg->scenario) {
		case S_DEV_FEWER:
			*nfds = 1;
			break;
		case S_DEV_MORE:
			fds[(*nfds)++] = devfd[0];
			break;
		case S_DEV_FLOOD:
			for (int k = *nfds; k < 40; k++)
				fds[k] = devfd[k % 2];
			*nfds = 40;
			break;
		case S_DEV_INDEX:
			put_hdr_u32(out, FAMRT_PROTO_HDR_SIZE + 8 + 48, 0);
			break;
		case S_DEV_ALIGN3:
			famrt_le64_put(out + FAMRT_PROTO_HDR_SIZE + 8 + 16, 3);
			break;
		case S_DEV_NDEVS: {
			/* A third device in the table, hello said two. */
			uint8_t *p = out + *len;

			memcpy(p, p - 48, 48);
			put_hdr_u32(p, 0, 2);
			*len += 48;
			put_hdr_u32(out, FAMRT_PROTO_HDR_SIZE, 3);
			put_hdr_u32(out, P_LENGTH, (uint32_t)*len);
			fds[(*nfds)++] = devfd[1];
			break;
		}
		case S_DEV_PIPE: {
			static int pfd[2] = { -1, -1 };

			if (pfd[0] < 0 && pipe(pfd))
				return FAKE_CLOSE;
			fds[1] = pfd[0];
			break;
		}
		case S_DEV_NULL: {
			static int nfd = -1;

			if (nfd < 0)
				nfd = open("/dev/null", O_RDWR);
			fds[0] = nfd;
			break;
		}
		}
		return FAKE_SEND;
	case S_OPEN_ID:
	case S_OPEN_SHORT_ATTR:
	case S_OPEN_FDS:
		if (op != FAMRT_OP_OPEN || q->u.path.path_len != 4 ||
		    memcmp(q->u.path.path, "/bad", 4))
			return FAKE_DEFAULT;
		*len = fake_default_reply(cfg, q, devfd, out, fds, nfds);
		if (cfg->scenario == S_OPEN_ID) {
			famrt_le64_put(out + P_ID, q->hdr.req_id - 1);
		} else if (cfg->scenario == S_OPEN_SHORT_ATTR) {
			*len = FAMRT_PROTO_HDR_SIZE + 40;
			put_hdr_u32(out, P_LENGTH, (uint32_t)*len);
		} else {
			fds[0] = devfd[0];
			fds[1] = devfd[1];
			fds[2] = devfd[0];
			*nfds = 3;
		}
		return FAKE_SEND;
	case S_SLOW_OPEN:
		if (op == FAMRT_OP_OPEN && q->u.path.path_len == 5 &&
		    !memcmp(q->u.path.path, "/slow", 5))
			usleep(450 * 1000);
		return FAKE_DEFAULT;
	}
	return FAKE_DEFAULT;
}

static void scenario(int s)
{
	H.cfg->hook = hook;
	H.cfg->scenario = s;
}

/* ---- connect-time refusals ---- */

static void test_peer_uid(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	char uid[16];
	struct famrt *c;

	(void)state;
	if (geteuid() != 0 || !pw) {
		/* A service as another user needs root to stage. */
		skip();
	}
	H.cfg->uid = pw->pw_uid;
	snprintf(uid, sizeof(uid), "%u", (unsigned)pw->pw_uid);
	connect_refused(EPERM, "runs as uid", uid);
	/* The same service, once trusted by name. */
	setenv("FAMRT_SERVICE_UID", uid, 1);
	start();
	c = connect_ok();
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	/* A wrong FAMRT_SERVICE_UID does not help. */
	setenv("FAMRT_SERVICE_UID", "12345", 1);
	connect_refused(EPERM, "not trusting", NULL);
	setenv("FAMRT_SERVICE_UID", "65534x", 1);
	connect_refused(EPERM, NULL, NULL);
}

static void test_bad_replies(void **state)
{
	static const struct {
		int s, err;
		const char *msg;
	} cases[] = {
		{ S_HELLO_ID, EPROTO, "answered another request" },
		{ S_HELLO_OP, EPROTO, "answered another request" },
		{ S_HELLO_NOREPLY, EPROTO, "answered another request" },
		{ S_HELLO_NDEVS0, EPROTO, "hello reply" },
		{ S_HELLO_NDEVS33, EPROTO, "hello reply" },
		{ S_HELLO_SHORT, EPROTO, "hello reply" },
		{ S_HELLO_VERSION, EPROTO, "hello reply" },
		{ S_PROTO_VERSION, EPROTO, "version" },
		{ S_OVERSIZED, EPROTO, "oversized" },
		{ S_TINY, EPROTO, "bad reply" },
		{ S_LENGTH_LIES, EPROTO, "bad reply" },
		{ S_STATUS_POSITIVE, EPROTO, "bad status" },
		{ S_STATUS_HUGE, EPROTO, "bad status" },
		{ S_CLOSE, ECONNRESET, "closed" },
		{ S_DEV_FEWER, EPROTO, "descriptors" },
		{ S_DEV_MORE, EPROTO, "descriptors" },
		{ S_DEV_FLOOD, EPROTO, "oversized" },
		{ S_DEV_INDEX, EPROTO, "malformed" },
		{ S_DEV_ALIGN3, EPROTO, "malformed" },
		{ S_DEV_NDEVS, EPROTO, "descriptors" },
		{ S_DEV_PIPE, ENODEV, "FIFO" },
		{ S_DEV_NULL, ENODEV, "device 0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("scenario %d\n", cases[i].s);
		base_cfg();
		scenario(cases[i].s);
		/* Read-only, so the pipe's read end passes the access check. */
		if (cases[i].s == S_DEV_PIPE)
			H.cfg->access[1] = FAMRT_DEV_ACCESS_RO;
		connect_refused(cases[i].err, cases[i].msg, NULL);
	}
}

/* An error reply's text is shown without the control characters. */
static void test_error_text(void **state)
{
	(void)state;
	scenario(S_ERROR_CONTROL);
	connect_refused(EACCES, "go away", "now");
	for (const char *p = famrt_errmsg(); *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
}

static void test_timeout(void **state)
{
	uint64_t t0;

	(void)state;
	setenv("FAMRT_CLIENT_TIMEOUT_MS", "300", 1);
	scenario(S_SILENT);
	t0 = rt_now_ms();
	connect_refused(ETIMEDOUT, "no reply", NULL);
	assert_true(rt_now_ms() - t0 < 5000);
}

/* Device tables that disagree with the devices they come with. */
static void test_bad_devices(void **state)
{
	(void)state;
	/* Larger in the table than the file behind the descriptor. */
	H.cfg->size[1] = 2 * DEVSIZE;
	connect_refused(EPROTO, "device 1 has", NULL);
	/* Read-write in the table, a read-only descriptor. */
	base_cfg();
	H.cfg->open_ro[0] = true;
	connect_refused(EBADF, "read-only", NULL);
	/* An alignment the device's size is not a multiple of. */
	base_cfg();
	H.cfg->align[1] = 2 * DEVSIZE;
	connect_refused(EINVAL, "multiple of the alignment", NULL);
}

/* ---- open-time refusals ---- */

struct famrt_fmap_error;

typedef void (*mutate_fn)(uint8_t *msg, size_t *len, uint64_t *attr_size);

/* One simple extent, 8 KiB of device 1 at 128 KiB, file 8000 bytes. */
static size_t good_simple(uint8_t *msg)
{
	struct famrt_fmap_desc *d = calloc(1, sizeof(*d));
	ssize_t n;

	assert_non_null(d);
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->nextents = 1;
	d->file_size = 8000;
	d->extents[0].nstrips = 1;
	d->extents[0].nbytes = 8 * KiB;
	d->extents[0].strips[0] = (struct famrt_fmap_strip){ 1, 128 * KiB,
							     8 * KiB };
	n = famrt_fmap_desc_encode(d, msg, FAMRT_FMAP_MSG_MAX);
	free(d);
	assert_true(n > 0);
	return (size_t)n;
}

/* Interleaved: 2 strips of 16 KiB, chunk 4 KiB, 32 KiB file. */
static size_t good_ilv(uint8_t *msg)
{
	struct famrt_fmap_desc *d = calloc(1, sizeof(*d));
	ssize_t n;

	assert_non_null(d);
	d->ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	d->nextents = 1;
	d->file_size = 32 * KiB;
	d->extents[0].nstrips = 2;
	d->extents[0].chunk_size = 4 * KiB;
	d->extents[0].nbytes = 32 * KiB;
	d->extents[0].strips[0] = (struct famrt_fmap_strip){ 0, 256 * KiB,
							     16 * KiB };
	d->extents[0].strips[1] = (struct famrt_fmap_strip){ 1, 256 * KiB,
							     16 * KiB };
	n = famrt_fmap_desc_encode(d, msg, FAMRT_FMAP_MSG_MAX);
	free(d);
	assert_true(n > 0);
	return (size_t)n;
}

/* Simple-map mutations (extent 0 at F_EXT). */
static void m_past_end(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + E_OFF, DEVSIZE - 4 * KiB);
}
static void m_far_past_end(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + E_OFF, 1ull << 40);
}
static void m_devindex(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + E_DEV, 2);
}
static void m_devindex_31(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + E_DEV, 31);
}
static void m_devindex_max(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + E_DEV, UINT32_MAX);
}
static void m_offset_wraps(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + E_OFF, UINT64_MAX - 4095);
}
static void m_sum_wraps(uint8_t *m, size_t *l, uint64_t *a)
{
	/* Two extents whose lengths add up past 2^64. */
	(void)a;
	famrt_le32_put(m + F_NEXTENTS, 2);
	famrt_le64_put(m + F_EXT + E_LEN, 1ull << 63);
	memcpy(m + F_EXT + 24, m + F_EXT, 24);
	*l += 24;
}
static void m_truncated(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)a;
	famrt_le32_put(m + F_NEXTENTS, 2);
	(void)l;
}
static void m_truncated_hdr(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)m, (void)a;
	*l = 20;
}
static void m_trailing(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)a;
	memset(m + *l, 0, 8);
	*l += 8;
}
static void m_reserved(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	m[F_RESERVED] = 0x80;
}
static void m_reserved0(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_RESERVED0, 1);
}
static void m_reserved1(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_RESERVED1, 1ull << 63);
}
static void m_reserved_ext(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + E_RESERVED, 4);
}
static void m_version(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le16_put(m + F_VERSION, 2);
}
static void m_file_type(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	m[F_FILE_TYPE] = 7;
}
static void m_ext_type(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT_TYPE, 5);
}
static void m_nextents0(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)a;
	famrt_le32_put(m + F_NEXTENTS, 0);
	*l = F_EXT;
}
static void m_nextents33(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)a;
	famrt_le32_put(m + F_NEXTENTS, 33);
	for (int i = 1; i < 33; i++)
		memcpy(m + F_EXT + 24 * i, m + F_EXT, 24);
	*l = F_EXT + 33 * 24;
}
static void m_zero_len(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l;
	famrt_le64_put(m + F_EXT + E_LEN, 0);
	famrt_le64_put(m + F_SIZE, 0);
	*a = 0;
}
static void m_unaligned(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + E_OFF, 128 * KiB + 100);
}
static void m_short(uint8_t *m, size_t *l, uint64_t *a)
{
	/* file_size larger than the extents hold (and the attrs agree). */
	(void)l;
	famrt_le64_put(m + F_SIZE, 8 * KiB + 1);
	*a = 8 * KiB + 1;
}
static void m_too_large(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)a;
	memset(m + *l, 0, FAMRT_FMAP_MSG_MAX + 8 - *l);
	*l = FAMRT_FMAP_MSG_MAX + 8;
}
static void m_size_attr_more(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)m, (void)l;
	*a = 8001;
}
static void m_size_attr_less(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)m, (void)l;
	*a = 1;
}

/* Interleaved-map mutations (iext at F_EXT, strips after it). */
static void i_chunk0(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + 4, 0);
}
static void i_chunk_unaligned(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + 4, 4096 + 512);
}
static void i_nbytes0(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + 8, 0);
}
static void i_nbytes_capacity(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l;
	famrt_le64_put(m + F_EXT + 8, 64 * KiB);
	famrt_le64_put(m + F_SIZE, 64 * KiB);
	*a = 64 * KiB;
}
static void i_nstrips0(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT, 0);
}
static void i_nstrips33(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT, 33);
}
static void i_strip_past_end(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + 24 + 24 + E_OFF, DEVSIZE - 8 * KiB);
}
static void i_strip_devindex(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le32_put(m + F_EXT + 24 + 24 + E_DEV, 3);
}
static void i_reserved(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + 16, 1);
}
static void i_strip_len_wraps(uint8_t *m, size_t *l, uint64_t *a)
{
	(void)l, (void)a;
	famrt_le64_put(m + F_EXT + 24 + E_LEN, UINT64_MAX - 4095);
}

static void open_refused(size_t (*good)(uint8_t *), mutate_fn mut,
			 const char *what)
{
	uint8_t *msg = calloc(1, FAMRT_FMAP_MSG_MAX + 64);
	struct famrt_proto_attr a;
	struct famrt_fmap *map = (struct famrt_fmap *)msg;
	struct famrt_file *f = (struct famrt_file *)msg;
	struct fake_file *ff;
	struct famrt_err e;
	struct famrt *c;
	uint64_t asize;
	size_t len;
	int rc;

	assert_non_null(msg);
	print_message("map: %s\n", what);
	base_cfg();
	len = good(msg);
	asize = famrt_le64_get(msg + F_SIZE);
	mut(msg, &len, &asize);
	ff = fake_add_file(H.cfg, "/bad", msg, len, asize);
	assert_non_null(ff);
	start();
	c = connect_ok();
	rc = famrt_open(c, "/bad", O_RDONLY, &f);
	if (rc != -EPROTO)
		fail_msg("%s: open gave %d (%s)", what, rc, famrt_errmsg());
	assert_null(f);
	if (!strstr(famrt_errmsg(), "/bad") ||
	    (!strstr(famrt_errmsg(), "refuses") &&
	     !strstr(famrt_errmsg(), "bytes for")))
		fail_msg("%s: message '%s'", what, famrt_errmsg());
	/* GET_FMAP, the other way to a map, refuses it too. */
	pthread_mutex_lock(&c->lock);
	rc = famrt_client_lookup(c->client, "/bad", &a, &e);
	assert_int_equal(rc, 0);
	rc = famrt_client_get_fmap(c->client, a.ino, &map, NULL, NULL, &e);
	pthread_mutex_unlock(&c->lock);
	if (mut == m_size_attr_less || mut == m_size_attr_more) {
		/* Nothing wrong with the map itself. */
		assert_int_equal(rc, 0);
		famrt_fmap_free(map);
	} else {
		if (rc != -EPROTO)
			fail_msg("%s: get_fmap gave %d (%s)", what, rc, e.msg);
		assert_null(map);
		assert_non_null(strstr(e.msg, "refuses"));
	}
	/* The conversation goes on. */
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	no_leak();
	free(msg);
}

static void test_bad_maps(void **state)
{
	static const struct {
		mutate_fn fn;
		const char *what;
	} simple[] = {
		{ m_past_end, "extent past the device end" },
		{ m_far_past_end, "extent far past the device end" },
		{ m_devindex, "device index = number of devices" },
		{ m_devindex_31, "device index 31" },
		{ m_devindex_max, "device index 2^32-1" },
		{ m_offset_wraps, "offset + length wraps" },
		{ m_sum_wraps, "extent lengths add up past 2^64" },
		{ m_truncated, "truncated extent list" },
		{ m_truncated_hdr, "truncated header" },
		{ m_trailing, "trailing bytes" },
		{ m_reserved, "reserved byte" },
		{ m_reserved0, "reserved0" },
		{ m_reserved1, "reserved1" },
		{ m_reserved_ext, "extent reserved" },
		{ m_version, "fmap version 2" },
		{ m_file_type, "file type 7" },
		{ m_ext_type, "ext type 5" },
		{ m_nextents0, "no extents" },
		{ m_nextents33, "33 extents" },
		{ m_zero_len, "zero-length extent" },
		{ m_unaligned, "unaligned offset" },
		{ m_short, "extents shorter than the file" },
		{ m_too_large, "message over 32 KiB" },
		{ m_size_attr_more, "attributes larger than the map" },
		{ m_size_attr_less, "attributes smaller than the map" },
	}, ilv[] = {
		{ i_chunk0, "chunk 0" },
		{ i_chunk_unaligned, "unaligned chunk" },
		{ i_nbytes0, "ie_nbytes 0" },
		{ i_nbytes_capacity, "ie_nbytes over capacity" },
		{ i_nstrips0, "no strips" },
		{ i_nstrips33, "33 strips" },
		{ i_strip_past_end, "strip past the device end" },
		{ i_strip_devindex, "strip on a device beyond the table" },
		{ i_reserved, "interleaved extent reserved" },
		{ i_strip_len_wraps, "strip length wraps" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
		open_refused(good_simple, simple[i].fn, simple[i].what);
	for (size_t i = 0; i < sizeof(ilv) / sizeof(ilv[0]); i++)
		open_refused(good_ilv, ilv[i].fn, ilv[i].what);
}

/* Replies to OPEN that are broken as messages. */
static void test_bad_open_replies(void **state)
{
	uint8_t msg[FAMRT_FMAP_MSG_MAX];
	struct famrt_file *f;
	struct famrt *c;
	struct fake_file *ff;
	int rc;

	(void)state;
	/* A reply with another request's id. */
	fake_add_file(H.cfg, "/bad", msg, good_simple(msg), UINT64_MAX);
	scenario(S_OPEN_ID);
	start();
	c = connect_ok();
	assert_int_equal(famrt_open(c, "/bad", O_RDONLY, &f), -EPROTO);
	assert_non_null(strstr(famrt_errmsg(), "another request"));
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);

	/* Attributes cut short. */
	base_cfg();
	fake_add_file(H.cfg, "/bad", msg, good_simple(msg), UINT64_MAX);
	scenario(S_OPEN_SHORT_ATTR);
	start();
	c = connect_ok();
	assert_int_equal(famrt_open(c, "/bad", O_RDONLY, &f), -EPROTO);
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);

	/* Descriptors nobody asked for: closed, the open works. */
	base_cfg();
	fake_add_file(H.cfg, "/bad", msg, good_simple(msg), UINT64_MAX);
	scenario(S_OPEN_FDS);
	start();
	c = connect_ok();
	assert_int_equal(famrt_open(c, "/bad", O_RDONLY, &f), 0);
	assert_int_equal(famrt_close(f), 0);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	no_leak();

	/* A directory that comes with a map; a file without one. */
	base_cfg();
	ff = fake_add_file(H.cfg, "/dirmap", msg, good_simple(msg), UINT64_MAX);
	ff->attr.mode = S_IFDIR | 0755;
	ff = fake_add_file(H.cfg, "/nomap", msg, 0, 8000);
	ff = fake_add_file(H.cfg, "/link", msg, good_simple(msg), UINT64_MAX);
	ff->attr.mode = S_IFLNK | 0777;
	ff = fake_add_file(H.cfg, "/typeless", msg, 0, 0);
	ff->attr.mode = 0644;
	start();
	c = connect_ok();
	rc = famrt_open(c, "/dirmap", O_RDONLY, &f);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(famrt_errmsg(), "directory carries a map"));
	rc = famrt_open(c, "/nomap", O_RDONLY, &f);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(famrt_errmsg(), "has no map"));
	/* Neither a file nor a directory, with a map or without. */
	rc = famrt_open(c, "/link", O_RDONLY, &f);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(famrt_errmsg(), "neither a file nor"));
	rc = famrt_open(c, "/typeless", O_RDONLY, &f);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(famrt_errmsg(), "neither a file nor"));
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	no_leak();
}

/* A client that gave up on a slow reply must not take it for the next. */
static void test_stale_reply(void **state)
{
	uint8_t msg[FAMRT_FMAP_MSG_MAX];
	struct famrt_file *f;
	struct famrt *c;
	int rc;

	(void)state;
	fake_add_file(H.cfg, "/slow", msg, good_simple(msg), UINT64_MAX);
	scenario(S_SLOW_OPEN);
	setenv("FAMRT_CLIENT_TIMEOUT_MS", "300", 1);
	start();
	c = connect_ok();
	rc = famrt_open(c, "/slow", O_RDONLY, &f);
	assert_int_equal(rc, -ETIMEDOUT);
	/* The late reply arrives while the next request waits. */
	read_good(c);
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	no_leak();
}

/* Maps on devices this client may not use, or only read. */
static void test_device_access(void **state)
{
	uint8_t msg[FAMRT_FMAP_MSG_MAX];
	struct famrt_file *f;
	struct famrt *c;
	uint8_t buf[8000];

	(void)state;
	/* Device 1 (where /on1 lives) read-only. */
	fake_add_file(H.cfg, "/on1", msg, good_simple(msg), UINT64_MAX);
	H.cfg->access[1] = FAMRT_DEV_ACCESS_RO;
	start();
	c = connect_ok();
	assert_int_equal(famrt_open(c, "/on1", O_RDWR, &f), -EACCES);
	assert_non_null(strstr(famrt_errmsg(), "only read"));
	assert_int_equal(famrt_open(c, "/on1", O_RDONLY, &f), 0);
	assert_int_equal(famrt_pread(f, buf, sizeof(buf), 0), 8000);
	assert_memory_equal(buf, H.map[1] + 128 * KiB, 8000);
	assert_int_equal(famrt_close(f), 0);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);

	/* Device 1 not given at all. */
	base_cfg();
	fake_add_file(H.cfg, "/on1", msg, good_simple(msg), UINT64_MAX);
	H.cfg->access[1] = FAMRT_DEV_ACCESS_NONE;
	start();
	c = connect_ok();
	assert_int_equal(famrt_open(c, "/on1", O_RDONLY, &f), -EACCES);
	assert_non_null(strstr(famrt_errmsg(), "device 1"));
	read_good(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);

	/* No device at all: the namespace only. */
	base_cfg();
	H.cfg->access[0] = H.cfg->access[1] = FAMRT_DEV_ACCESS_NONE;
	start();
	c = connect_ok();
	assert_int_equal(famrt_open(c, "/good", O_RDONLY, &f), -EACCES);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	no_leak();
}

/*
 * Maps that reach exactly to the first and last bytes of the devices are
 * accepted; with the device mappings between guard pages, reading,
 * mapping and writing them in full never touches anything outside.
 */
static void test_device_edges(void **state)
{
	struct famrt_fmap_desc *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(DEVSIZE + 8192);
	struct famrt_file *f;
	struct famrt *c;
	uint64_t size = 2 * DEVSIZE;
	void *p;

	(void)state;
	assert_non_null(d);
	assert_non_null(buf);
	/* Device 1 whole, then device 0 whole: 2 MiB of file. */
	d->ext_type = FAMRT_FMAP_EXT_SIMPLE;
	d->nextents = 2;
	d->file_size = size;
	for (int i = 0; i < 2; i++) {
		d->extents[i].nstrips = 1;
		d->extents[i].nbytes = DEVSIZE;
		d->extents[i].strips[0] =
			(struct famrt_fmap_strip){ (uint32_t)(1 - i), 0,
						   DEVSIZE };
	}
	assert_non_null(fake_add_desc(H.cfg, "/all", d, UINT64_MAX));
	/* Interleaved over the last 64 KiB of both. */
	memset(d, 0, sizeof(*d));
	d->ext_type = FAMRT_FMAP_EXT_INTERLEAVE;
	d->nextents = 1;
	d->file_size = 128 * KiB;
	d->extents[0].nstrips = 2;
	d->extents[0].chunk_size = 4 * KiB;
	d->extents[0].nbytes = 128 * KiB;
	d->extents[0].strips[0] = (struct famrt_fmap_strip){
		0, DEVSIZE - 64 * KiB, 64 * KiB };
	d->extents[0].strips[1] = (struct famrt_fmap_strip){
		1, DEVSIZE - 64 * KiB, 64 * KiB };
	assert_non_null(fake_add_desc(H.cfg, "/tails", d, UINT64_MAX));
	start();
	c = connect_ok();
	guard_devices(c);

	assert_int_equal(famrt_open(c, "/all", O_RDWR, &f), 0);
	for (uint64_t off = 0; off < size; off += DEVSIZE) {
		const uint8_t *dev = H.map[off ? 0 : 1];

		assert_int_equal(famrt_pread(f, buf, DEVSIZE + 8192, off),
				 (ssize_t)(off ? DEVSIZE : DEVSIZE + 8192));
		assert_memory_equal(buf, dev, DEVSIZE);
		assert_int_equal(famrt_pread(f, buf, 1, off + DEVSIZE - 1), 1);
		assert_int_equal(buf[0], dev[DEVSIZE - 1]);
	}
	assert_int_equal(famrt_pread(f, buf, 4096, size - 1), 1);
	assert_int_equal(famrt_pread(f, buf, 4096, size), 0);
	memset(buf, 0x3c, 8192);
	assert_int_equal(famrt_pwrite(f, buf, 8192, size - 4096), 4096);
	assert_int_equal(H.map[0][DEVSIZE - 1], 0x3c);
	assert_int_equal(famrt_pwrite(f, buf, 8192, DEVSIZE - 4096), 8192);
	assert_int_equal(H.map[1][DEVSIZE - 1], 0x3c);
	assert_int_equal(H.map[0][0], 0x3c);
	assert_int_equal(famrt_mmap(f, 0, 0, PROT_READ | PROT_WRITE, &p), 0);
	assert_memory_equal(p, H.map[1], DEVSIZE);
	assert_memory_equal((uint8_t *)p + DEVSIZE, H.map[0], DEVSIZE);
	assert_int_equal(famrt_munmap(c, p), 0);
	assert_int_equal(famrt_flush(f, 0, 0), 0);
	assert_int_equal(famrt_invalidate(f, size - 1, 1), 0);
	assert_int_equal(famrt_close(f), 0);

	assert_int_equal(famrt_open(c, "/tails", O_RDONLY, &f), 0);
	assert_int_equal(famrt_pread(f, buf, 256 * KiB, 0), 128 * KiB);
	for (uint64_t x = 0; x < 128 * KiB; x += 4 * KiB) {
		uint64_t chunk = x / (4 * KiB);
		const uint8_t *dev = H.map[chunk % 2];

		assert_memory_equal(buf + x,
				    dev + DEVSIZE - 64 * KiB +
					    chunk / 2 * 4 * KiB,
				    4 * KiB);
	}
	assert_int_equal(famrt_mmap(f, 100, 0, PROT_READ, &p), 0);
	assert_memory_equal(p, buf + 100, 128 * KiB - 100);
	assert_int_equal(famrt_munmap(c, p), 0);
	assert_int_equal(famrt_invalidate(f, 0, 0), 0);
	assert_int_equal(famrt_close(f), 0);

	unguard_devices(c);
	assert_int_equal(famrt_disconnect(c), 0);
	fake_stop(&H.svc);
	free(d);
	free(buf);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, each_setup, each_teardown)
	const struct CMUnitTest tests[] = {
		T(test_peer_uid),	   T(test_bad_replies),
		T(test_error_text),	   T(test_timeout),
		T(test_bad_devices),	   T(test_bad_maps),
		T(test_bad_open_replies), T(test_stale_reply),
		T(test_device_access),	   T(test_device_edges),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
