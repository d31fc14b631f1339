/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrtd against a hostile client: a real service on emulated devices fed
 * malformed messages (random bytes of every length up to past the request
 * limit, broken headers, every operation with a body of the wrong length or
 * with reserved bytes set, bad paths, bad create layouts, requests for the
 * wrong kind of object), thousands of connections opened and dropped, a
 * connection cap, clients that vanish mid-request, and clients that never
 * read their replies.
 *
 * Every malformed message must get a well-formed error reply (echoing the
 * request's operation and id when its header was readable) or, when the
 * header was unreadable or the message oversized, a closed connection.
 * After each phase a well-behaved client gets correct answers, the metadata
 * log (superblocks and log region of device 0) is byte for byte what it
 * was, the only change a good create makes is its own entry, and the
 * service's resident memory has not grown past a bound (see RSS_BOUND_KIB).
 *
 * FAMRT_TEST_SEED=N replays a run (the seed is printed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "famrtd_harness.h"
#include "meta/format.h"
#include "proto/client.h"
#include "proto/proto.h"
#include "util/bytes.h"

/* Malformed messages sent over the whole run, at least. */
#define MALFORMED_MIN 10000u
#define RANDOM_MSGS 3000u       /* random bytes, random length */
#define RANDOM_HDR_MSGS 1000u   /* valid header, random body */
#define HEADER_MSGS 3500u       /* broken headers */
#define BODY_MSGS 4000u         /* broken bodies and bad values */
#define SEQ_CONNS 3000u         /* connections opened and dropped one by one */
#define BURST_CONNS 200u        /* connections open at once */
#define BURSTS 5u
#define STALLED 8u              /* clients that never read */
/* Operations 1..KNOWN_OPS are the ones this test knows how to build. */
#define KNOWN_OPS FAMRT_OP_ABORT

/*
 * How much the service's resident set may grow over the whole test, from
 * the baseline taken after set-up. famrtd keeps per connection one struct
 * conn (an 8 KiB receive buffer plus about 600 bytes) and at most one reply
 * (at most 64 KiB, here a few hundred bytes); everything else is fixed.
 * The most connections open at once here is BURST_CONNS + STALLED + a few
 * (about 210, so about 1.8 MiB of heap, which malloc may keep after they
 * close); the good creates add a few log entries (a page or two of device
 * 0 mapped into the service). Measured: under 2 MiB. 6 MiB leaves room
 * for malloc's arenas and page granularity, and still catches a leaked
 * connection (about 15,000 are made: 130 MiB) or a leaked reply or request
 * of 600 bytes or more per malformed message (over 10,000 of them). Smaller
 * leaks are for the ASan build, where famrtd's clean stop at the end runs
 * LeakSanitizer and must exit 0.
 */
#if defined(__SANITIZE_ADDRESS__)
/*
 * Under ASan every allocation has redzones, the allocator keeps per-size
 * free lists per thread, and freed blocks wait in a quarantine (cut to
 * 1 MiB for the service below): measured growth is about 4 MiB.
 */
#define RSS_BOUND_KIB (16 * 1024L)
#else
#define RSS_BOUND_KIB (6 * 1024L)
#endif

struct known {
	const char *path;
	struct famrt_proto_attr a;
	uint8_t fmap[FAMRT_FMAP_MSG_MAX];
	size_t fmap_len;
};

struct env {
	struct h_fs fs;
	struct h_famrtd d;
	uint64_t seed;
	/* Device 0 mapped read-only, and the metadata region's bytes. */
	const uint8_t *dev0;
	size_t dev0_len;
	size_t meta_len;  /* superblocks + log: [0, log_offset + log_size) */
	uint64_t log_offset;
	uint8_t *snap;    /* the metadata region as it must be */
	uint64_t entries; /* log entries the snapshot holds */
	struct known known[4];
	unsigned good_creates;
	long rss_base_kib, rss_max_kib;
	unsigned long malformed;      /* malformed messages sent */
	unsigned long rejected;       /* of them, refused by the decoder */
	unsigned long closed_checked; /* connections seen closed by famrtd */
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- raw socket client ---- */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int must_connect(const struct env *v)
{
	int fd = raw_connect(v->d.socket);

	if (fd < 0) {
		fprintf(stderr, "connect %s: %s\n", v->d.socket,
			strerror(-fd));
		h_famrtd_dump_log(&v->d);
	}
	assert_true(fd >= 0);
	return fd;
}

/* Send one message; 0 or -errno (EPIPE/ECONNRESET: the service closed). */
static int raw_send(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	assert_int_equal((size_t)n, len);
	return 0;
}

/*
 * Receive one message into buf (FAMRT_PROTO_MSG_MAX + 1 bytes): its length,
 * 0 at EOF, -ECONNRESET. Descriptors that come with it are counted in
 * *nfds (may be NULL) and closed. A timeout fails the test: the service
 * must answer or close, never hang.
 */
static ssize_t raw_recv(int fd, uint8_t *buf, int *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 32)];
	} cm;
	struct iovec iov = { .iov_base = buf,
			     .iov_len = FAMRT_PROTO_MSG_MAX + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cm.b,
			     .msg_controllen = sizeof(cm.b) };
	ssize_t n;

	if (nfds)
		*nfds = 0;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ECONNRESET)
		return -ECONNRESET;
	if (n < 0)
		fprintf(stderr, "recv: %s\n", strerror(errno));
	assert_true(n >= 0);
	assert_false(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC));
	for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch;
	     ch = CMSG_NXTHDR(&mh, ch)) {
		int k = (int)((ch->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		assert_int_equal(ch->cmsg_type, SCM_RIGHTS);
		for (int i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(ch) + i * sizeof(int), sizeof(f));
			close(f);
		}
		if (nfds)
			*nfds += k;
	}
	return n;
}

/* True when the service has closed fd (EOF or reset), within 10 s. */
static bool closed_by_peer(int fd)
{
	uint8_t *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	ssize_t n;

	assert_non_null(buf);
	n = raw_recv(fd, buf, NULL);
	free(buf);
	return n == 0 || n == -ECONNRESET;
}

/*
 * Check that buf[0..n) is a well-formed reply: header decodes, REPLY flag,
 * status 0 or a negative errno with a one-line message. When the request's
 * header was readable (magic right, 32 bytes there), the reply echoes its
 * operation and id. Returns the status.
 */
static int check_reply(const uint8_t *buf, ssize_t n, const uint8_t *req,
		       size_t reqlen)
{
	struct famrt_proto_hdr h;
	struct famrt_err e;
	char msg[FAMRT_PROTO_ERRMSG_MAX];
	int rc = famrt_proto_hdr_decode(buf, (size_t)n, &h, &e);

	if (rc)
		fprintf(stderr, "bad reply: %s\n", e.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(h.flags, FAMRT_PROTO_FLAG_REPLY);
	assert_int_equal(h.length, (uint32_t)n);
	if (reqlen >= FAMRT_PROTO_HDR_SIZE &&
	    famrt_le32_get(req) == FAMRT_PROTO_MAGIC) {
		assert_int_equal(h.op, famrt_le16_get(req + 6));
		assert_int_equal(h.req_id, famrt_le64_get(req + 16));
	}
	assert_true(h.status <= 0 && h.status >= -4095);
	if (h.status < 0) {
		const uint8_t *body = buf + FAMRT_PROTO_HDR_SIZE;
		size_t blen = (size_t)n - FAMRT_PROTO_HDR_SIZE;

		assert_int_equal(famrt_proto_error_get(body, blen, msg,
						       sizeof(msg)),
				 0);
		assert_true(msg[0] != '\0');
	}
	return h.status;
}

/* A hello on fd must be answered correctly. */
static void hello_ok(int fd)
{
	uint8_t req[64], *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	uint64_t id = rnd();
	ssize_t n = famrt_proto_hello_req_encode(req, sizeof(req), id);
	struct famrt_proto_hello_rep h;
	struct famrt_err e;

	assert_non_null(buf);
	assert_true(n > 0);
	assert_int_equal(raw_send(fd, req, (size_t)n), 0);
	n = raw_recv(fd, buf, NULL);
	assert_true(n > 0);
	assert_int_equal(check_reply(buf, n, req, sizeof(req)), 0);
	assert_int_equal(famrt_proto_hello_get(buf + FAMRT_PROTO_HDR_SIZE,
					       (size_t)n - FAMRT_PROTO_HDR_SIZE,
					       &h, &e),
			 0);
	free(buf);
}

/* ---- the metadata region and the service's memory ---- */

static void map_dev0(struct env *v)
{
	struct famrt_sb sb;
	struct famrt_err e;
	struct stat st;
	int fd = open(v->fs.dev[0], O_RDONLY | O_CLOEXEC);
	void *p;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(p != MAP_FAILED);
	v->dev0 = p;
	v->dev0_len = (size_t)st.st_size;
	assert_int_equal(famrt_sb_decode(v->dev0, &sb, &e), 0);
	v->log_offset = sb.log_offset;
	v->meta_len = sb.log_offset + sb.log_size;
	assert_true(v->meta_len <= v->dev0_len);
	v->snap = malloc(v->meta_len);
	assert_non_null(v->snap);
}

static struct famrt_client *good_client(const struct env *v)
{
	struct famrt_client *c = NULL;
	struct famrt_err e;
	int rc = famrt_client_connect(&c, v->d.socket, &e);

	if (rc) {
		fprintf(stderr, "good client: connect: %s\n", e.msg);
		h_famrtd_dump_log(&v->d);
	}
	assert_int_equal(rc, 0);
	return c;
}

static uint64_t log_entries(struct famrt_client *c, uint64_t *used)
{
	struct famrt_proto_statfs_rep s;
	struct famrt_err e;

	assert_int_equal(famrt_client_statfs(c, &s, &e), 0);
	if (used)
		*used = s.log_used;
	return s.entries;
}

static void meta_diff(const struct env *v, size_t from, size_t to,
		      const char *when)
{
	if (from >= to || !memcmp(v->dev0 + from, v->snap + from, to - from))
		return;
	for (size_t i = from; i < to; i++)
		if (v->dev0[i] != v->snap[i])
			fprintf(stderr,
				"%s: metadata byte %zu of device 0 changed "
				"(0x%02x -> 0x%02x)\n",
				when, i, v->snap[i], v->dev0[i]);
	fail();
}

/*
 * The region must equal the snapshot outside [a0, a1) and [b0, b1)
 * (a1 <= b0; empty ranges allowed).
 */
static void meta_equal_except(const struct env *v, size_t a0, size_t a1,
			      size_t b0, size_t b1, const char *when)
{
	size_t end = v->meta_len;

	a0 = a0 < end ? a0 : end;
	a1 = a1 < end ? a1 : end;
	b0 = b0 < end ? b0 : end;
	b1 = b1 < end ? b1 : end;
	assert_true(a0 <= a1 && a1 <= b0 && b0 <= b1);
	meta_diff(v, 0, a0, when);
	meta_diff(v, a1, b0, when);
	meta_diff(v, b1, end, when);
}

static void rss_check(struct env *v, const char *when)
{
	long kib = h_famrtd_rss_kib(&v->d);

	assert_true(kib > 0);
	if (kib > v->rss_max_kib)
		v->rss_max_kib = kib;
	fprintf(stderr, "# %s: famrtd rss %ld KiB (baseline %ld, +%ld)\n",
		when, kib, v->rss_base_kib, kib - v->rss_base_kib);
	if (kib - v->rss_base_kib > RSS_BOUND_KIB) {
		fprintf(stderr, "%s: famrtd grew by %ld KiB, more than %ld\n",
			when, kib - v->rss_base_kib, RSS_BOUND_KIB);
		fail();
	}
}

/*
 * After a phase: the service is alive and correct, nothing hostile reached
 * the log, a good create adds exactly its own entry, memory is bounded.
 */
static void after_phase(struct env *v, const char *phase)
{
	struct famrt_client *c = good_client(v);
	struct famrt_proto_create_req cr = { .mode = 0644, .size = 1u << 20 };
	struct famrt_proto_attr a;
	struct famrt_fmap *map;
	uint8_t *raw = malloc(FAMRT_FMAP_MSG_MAX);
	struct famrt_err e;
	uint64_t used0, used1;
	size_t rawlen = 0;
	char path[64];

	assert_non_null(raw);
	for (unsigned i = 0; i < 4; i++) {
		const struct known *k = &v->known[i];

		assert_int_equal(famrt_client_lookup(c, k->path, &a, &e), 0);
		assert_memory_equal(&a, &k->a, sizeof(a));
		assert_int_equal(famrt_client_getattr(c, k->a.ino, &a, &e), 0);
		assert_memory_equal(&a, &k->a, sizeof(a));
		if (!k->fmap_len)
			continue;
		assert_int_equal(famrt_client_get_fmap(c, k->a.ino, &map, raw,
						       &rawlen, &e),
				 0);
		assert_int_equal(famrt_fmap_file_size(map), k->a.size);
		famrt_fmap_free(map);
		assert_int_equal(rawlen, k->fmap_len);
		assert_memory_equal(raw, k->fmap, rawlen);
	}
	/* Nothing hostile was logged. */
	assert_int_equal(log_entries(c, &used0), v->entries);
	meta_equal_except(v, 0, 0, 0, 0, phase);
	/* A good create on the master: its entry and the tail, nothing else. */
	snprintf(path, sizeof(path), "/good/f%u", v->good_creates++);
	assert_int_equal(famrt_client_create(c, path, &cr, &a, &e), 0);
	assert_int_equal(a.size, cr.size);
	assert_int_equal(famrt_client_lookup(c, path, &a, &e), 0);
	assert_int_equal(log_entries(c, &used1), v->entries + 1);
	assert_true(used1 > used0);
	/* Tail slots: the first 2 x 64 bytes of the log. */
	meta_equal_except(v, v->log_offset,
			  v->log_offset + FAMRT_LOG_ENTRIES_START,
			  v->log_offset + used0, v->log_offset + used1 + 8,
			  phase);
	memcpy(v->snap, v->dev0, v->meta_len);
	v->entries++;
	famrt_client_close(c);
	free(raw);
	rss_check(v, phase);
	fprintf(stderr, "# %s: ok (%lu malformed messages so far)\n", phase,
		v->malformed);
}

/* ---- set-up ---- */

static int setup(void **state)
{
	static const char *const paths[4] = { "/known/f1", "/known/f2",
					      "/known/sub", "/known" };
	struct env *v = calloc(1, sizeof(*v));
	const char *seed = getenv("FAMRT_TEST_SEED");
	struct famrt_client *c;
	struct famrt_proto_create_req cr = { .mode = 0644 };
	struct famrt_proto_attr a;
	struct famrt_err e;

	*state = NULL;
	if (!v)
		return -1;
	v->seed = seed ? strtoull(seed, NULL, 0) :
			 (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = v->seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	if (!rng_state)
		rng_state = 1;
	fprintf(stderr, "# seed %llu (FAMRT_TEST_SEED to replay)\n",
		(unsigned long long)v->seed);
#if defined(__SANITIZE_ADDRESS__)
	/*
	 * ASan keeps freed memory in a quarantine (256 MiB by default): with
	 * thousands of connections that is resident set, not a leak. Keep it
	 * small so the bound below means the same under ASan.
	 */
	{
		const char *old = getenv("ASAN_OPTIONS");
		char opts[512];

		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=1",
			 old ? old : "", old && *old ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
#endif
	if (h_fs_make(&v->fs, 2, 64u << 20, "host-a")) {
		free(v);
		return -1;
	}
	if (h_famrtd_start(&v->d, &v->fs, "master", "host-a", NULL)) {
		h_fs_remove(&v->fs);
		free(v);
		return -1;
	}
	*state = v;
	c = good_client(v);
	assert_int_equal(famrt_client_mkdir(c, "/known", 0755, &a, &e), 0);
	assert_int_equal(famrt_client_mkdir(c, "/good", 0755, &a, &e), 0);
	assert_int_equal(famrt_client_mkdir(c, "/hostile", 0777, &a, &e), 0);
	cr.size = 3u << 20;
	assert_int_equal(famrt_client_create(c, "/known/f1", &cr, &a, &e), 0);
	cr.size = 5u << 20;
	cr.layout = 1;
	assert_int_equal(famrt_client_create(c, "/known/f2", &cr, &a, &e), 0);
	assert_int_equal(famrt_client_mkdir(c, "/known/sub", 0700, &a, &e), 0);
	for (unsigned i = 0; i < 4; i++) {
		struct known *k = &v->known[i];
		struct famrt_fmap *map;

		k->path = paths[i];
		assert_int_equal(famrt_client_lookup(c, k->path, &k->a, &e), 0);
		if (!S_ISREG(k->a.mode))
			continue;
		assert_int_equal(famrt_client_get_fmap(c, k->a.ino, &map,
						       k->fmap, &k->fmap_len,
						       &e),
				 0);
		famrt_fmap_free(map);
	}
	v->entries = log_entries(c, NULL);
	assert_int_equal(v->entries, 6);
	famrt_client_close(c);
	map_dev0(v);
	memcpy(v->snap, v->dev0, v->meta_len);
	/* Warm up (first replies, the allocator's arenas), then measure. */
	for (int i = 0; i < 50; i++) {
		int fd = must_connect(v);

		hello_ok(fd);
		close(fd);
	}
	v->rss_base_kib = h_famrtd_rss_kib(&v->d);
	assert_true(v->rss_base_kib > 0);
	v->rss_max_kib = v->rss_base_kib;
	return 0;
}

static int teardown(void **state)
{
	struct env *v = *state;

	if (!v)
		return 0;
	fprintf(stderr,
		"# %lu malformed messages sent (%lu refused by the decoder), "
		"%lu connections seen closed by famrtd; rss baseline %ld KiB, "
		"peak %ld KiB\n",
		v->malformed, v->rejected, v->closed_checked, v->rss_base_kib,
		v->rss_max_kib);
	h_famrtd_kill(&v->d);
	if (v->dev0)
		munmap((void *)v->dev0, v->dev0_len);
	free(v->snap);
	h_fs_remove(&v->fs);
	free(v);
	return 0;
}

/* ---- building requests ---- */

enum close_rule {
	MUST_CLOSE,  /* the service must close the connection after this */
	MAY_CLOSE,   /* it may (a body it cannot read) */
	STAYS_OPEN,  /* it must keep serving the connection */
};

struct expect {
	int status;          /* the errno expected (negative), 0: any < 0 */
	int status2;         /* another one allowed, or 0 */
	enum close_rule close;
	bool no_reply_ok;    /* closing without a reply is fine too */
	bool decoder;        /* the protocol decoder must refuse it */
};

struct msgbuf {
	uint8_t b[70016];
	size_t len;
};

static void set_len(struct msgbuf *m)
{
	famrt_le32_put(m->b + 8, (uint32_t)m->len);
}

/* A valid request of op with some plausible content. */
static void valid_request(const struct env *v, uint16_t op, struct msgbuf *m)
{
	uint64_t id = rnd();
	ssize_t n = -1;

	switch (op) {
	case FAMRT_OP_HELLO:
		n = famrt_proto_hello_req_encode(m->b, sizeof(m->b), id);
		break;
	case FAMRT_OP_DEVICES:
	case FAMRT_OP_STATFS:
		n = famrt_proto_simple_req_encode(m->b, sizeof(m->b), op, id);
		break;
	case FAMRT_OP_LOOKUP:
		n = famrt_proto_path_req_encode(m->b, sizeof(m->b), op, id,
						"/known/f1");
		break;
	case FAMRT_OP_GETATTR:
	case FAMRT_OP_GET_FMAP:
		n = famrt_proto_ino_req_encode(m->b, sizeof(m->b), op, id,
					       v->known[0].a.ino);
		break;
	case FAMRT_OP_READDIR:
		n = famrt_proto_readdir_req_encode(m->b, sizeof(m->b), id,
						   v->known[3].a.ino, 0, 0);
		break;
	case FAMRT_OP_CREATE: {
		struct famrt_proto_create_req c = { .mode = 0644,
						    .size = 1 << 20 };

		/* An existing path: even if it got through, no entry. */
		n = famrt_proto_create_req_encode(m->b, sizeof(m->b), id, &c,
						  "/known/f1");
		break;
	}
	case FAMRT_OP_MKDIR:
		n = famrt_proto_mkdir_req_encode(m->b, sizeof(m->b), id, 0755,
						 "/known/sub");
		break;
	case FAMRT_OP_OPEN:
		n = famrt_proto_open_req_encode(m->b, sizeof(m->b), id,
						"/known/f1", FAMRT_OPEN_READ);
		break;
	case FAMRT_OP_BEGIN:
		/* A file being written is never logged until COMMIT. */
		n = famrt_proto_begin_req_encode(m->b, sizeof(m->b), id, 0644,
						 "/hostile/begun");
		break;
	case FAMRT_OP_ALLOC:
		/* Handles belong to one connection: this one has none. */
		n = famrt_proto_alloc_req_encode(m->b, sizeof(m->b), id,
						 1 + rnd_below(100), 1 << 20);
		break;
	case FAMRT_OP_COMMIT: {
		struct famrt_proto_commit_req c = {
			.handle = 1 + rnd_below(100), .size = 4096,
			.mode = FAMRT_COMMIT_KEEP_MODE,
		};

		n = famrt_proto_commit_req_encode(m->b, sizeof(m->b), id, &c);
		break;
	}
	case FAMRT_OP_ABORT:
		n = famrt_proto_ino_req_encode(m->b, sizeof(m->b), op, id,
					       1 + rnd_below(100));
		break;
	}
	assert_true(n >= (ssize_t)FAMRT_PROTO_HDR_SIZE);
	m->len = (size_t)n;
}

/*
 * Send one malformed message (on *fd, connecting first if *fd < 0) and
 * check what comes back against x. Leaves *fd open for the next message
 * when the connection must stay open, else closes it and sets -1.
 */
static void hostile_one(struct env *v, int *fd, const struct msgbuf *m,
			const struct expect *x)
{
	uint8_t *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	ssize_t n;
	int st, nfds, rc;

	assert_non_null(buf);
	if (*fd < 0)
		*fd = must_connect(v);
	rc = raw_send(*fd, m->b, m->len);
	assert_int_equal(rc, 0);
	v->malformed++;
	if (x->decoder)
		v->rejected++;
	n = raw_recv(*fd, buf, &nfds);
	if (n <= 0) {
		if (!x->no_reply_ok) {
			fprintf(stderr,
				"message of %zu bytes (op %u): connection "
				"closed without a reply\n",
				m->len,
				m->len >= 8 ? famrt_le16_get(m->b + 6) : 0);
			fail();
		}
		v->closed_checked++;
		close(*fd);
		*fd = -1;
		free(buf);
		return;
	}
	assert_int_equal(nfds, 0);
	st = check_reply(buf, n, m->b, m->len);
	if (st >= 0 || (x->status && st != x->status && st != x->status2)) {
		char msg[FAMRT_PROTO_ERRMSG_MAX] = "";

		famrt_proto_error_get(buf + FAMRT_PROTO_HDR_SIZE,
				      (size_t)n - FAMRT_PROTO_HDR_SIZE, msg,
				      sizeof(msg));
		fprintf(stderr,
			"message of %zu bytes (op %u): status %d (%s), "
			"expected %d (or %d)\n",
			m->len, m->len >= 8 ? famrt_le16_get(m->b + 6) : 0, st,
			msg, x->status, x->status2);
		fail();
	}
	switch (x->close) {
	case MUST_CLOSE:
		assert_true(closed_by_peer(*fd));
		v->closed_checked++;
		close(*fd);
		*fd = -1;
		break;
	case MAY_CLOSE: {
		/* Still open? Then it must still serve. */
		uint8_t req[64];
		ssize_t k = famrt_proto_hello_req_encode(req, sizeof(req), 7);

		rc = raw_send(*fd, req, (size_t)k);
		if (rc == 0) {
			n = raw_recv(*fd, buf, NULL);
			if (n > 0) {
				assert_int_equal(check_reply(buf, n, req,
							     (size_t)k),
						 0);
				break;
			}
		} else {
			assert_true(rc == -EPIPE || rc == -ECONNRESET);
		}
		v->closed_checked++;
		close(*fd);
		*fd = -1;
		break;
	}
	case STAYS_OPEN:
		break;
	}
	free(buf);
}

/* ---- phase 1: random bytes ---- */

static void test_random_bytes(void **state)
{
	struct env *v = *state;
	struct msgbuf *m = malloc(sizeof(*m));
	unsigned over = 0, tiny = 0, empty = 0;
	int fd = -1;

	assert_non_null(m);
	for (unsigned i = 0; i < RANDOM_MSGS; i++) {
		struct expect x = { .close = MUST_CLOSE, .no_reply_ok = true };
		uint64_t r = rnd_below(10);

		/* Short ones often, up to past the request limit, up to 70,000. */
		if (r < 3)
			m->len = rnd_below(65);
		else if (r < 7)
			m->len = rnd_below(FAMRT_PROTO_REQ_MAX + 200);
		else
			m->len = rnd_below(70001);
		rnd_fill(m->b, m->len);
		if (m->len >= 4 && famrt_le32_get(m->b) == FAMRT_PROTO_MAGIC)
			m->b[0] ^= 0xff;
		if (m->len > FAMRT_PROTO_REQ_MAX) {
			x.status = -EMSGSIZE;
			over++;
		} else if (m->len) {
			x.status = -EPROTO;
			tiny += m->len < FAMRT_PROTO_HDR_SIZE;
		} else {
			empty++;
		}
		/* An empty packet reads as end of file: not a message. */
		x.decoder = m->len > 0 && m->len <= FAMRT_PROTO_REQ_MAX;
		x.no_reply_ok = m->len == 0;
		hostile_one(v, &fd, m, &x);
	}
	assert_true(over > RANDOM_MSGS / 5);
	fprintf(stderr,
		"# random: %u messages (%u over %u bytes, %u shorter than a "
		"header, %u empty)\n",
		RANDOM_MSGS, over, FAMRT_PROTO_REQ_MAX, tiny, empty);

	/* A valid header, the right length, a random body. */
	for (unsigned i = 0; i < RANDOM_HDR_MSGS; i++) {
		static const uint16_t ops[] = {
			FAMRT_OP_HELLO, FAMRT_OP_DEVICES, FAMRT_OP_LOOKUP,
			FAMRT_OP_GETATTR, FAMRT_OP_READDIR, FAMRT_OP_GET_FMAP,
			FAMRT_OP_STATFS, FAMRT_OP_OPEN, FAMRT_OP_ALLOC,
			FAMRT_OP_ABORT,
		};
		uint8_t *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
		uint16_t op = ops[rnd_below(sizeof(ops) / sizeof(ops[0]))];
		size_t body = rnd_below(4) ? rnd_below(40) :
					    rnd_below(FAMRT_PROTO_REQ_MAX - 31);
		ssize_t n;
		int st, nfds;

		assert_non_null(buf);
		/*
		 * Operations that cannot log anything whatever the body (ALLOC
		 * and ABORT name handles this connection never got).
		 */
		valid_request(v, op, m);
		m->len = FAMRT_PROTO_HDR_SIZE + body;
		rnd_fill(m->b + FAMRT_PROTO_HDR_SIZE, body);
		set_len(m);
		if (fd < 0)
			fd = must_connect(v);
		assert_int_equal(raw_send(fd, m->b, m->len), 0);
		n = raw_recv(fd, buf, &nfds);
		assert_true(n > 0);
		st = check_reply(buf, n, m->b, m->len);
		if (st < 0) {
			v->malformed++;
			assert_int_equal(nfds, 0);
		} else if (op == FAMRT_OP_DEVICES) {
			assert_int_equal(nfds, 2); /* root: both devices */
		}
		if (st == -EPROTO) {
			v->rejected++;
			/* May close; if not, still serving. */
			close(fd);
			fd = -1;
		}
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	free(m);
	after_phase(v, "random bytes");
}

/* ---- phase 2: broken headers ---- */

static void test_bad_headers(void **state)
{
	struct env *v = *state;
	struct msgbuf *m = malloc(sizeof(*m));
	int fd = -1, open_fd = -1;
	unsigned counts[10] = { 0 };

	assert_non_null(m);
	for (unsigned i = 0; i < HEADER_MSGS; i++) {
		struct expect x = { .status = -EPROTO, .close = MUST_CLOSE,
				    .decoder = true };
		unsigned kind = (unsigned)rnd_below(10);
		uint16_t op = (uint16_t)(1 + rnd_below(KNOWN_OPS));
		int *use = &fd;

		valid_request(v, op, m);
		switch (kind) {
		case 0: /* truncated header */
			m->len = rnd_below(FAMRT_PROTO_HDR_SIZE);
			x.no_reply_ok = m->len == 0;
			x.decoder = m->len > 0;
			break;
		case 1: { /* wrong magic */
			uint32_t magic;

			do
				magic = (uint32_t)rnd();
			while (magic == FAMRT_PROTO_MAGIC);
			if (rnd_below(2))
				magic = FAMRT_PROTO_MAGIC ^
					(1u << rnd_below(32));
			famrt_le32_put(m->b, magic);
			break;
		}
		case 2: { /* wrong version */
			static const uint16_t vers[] = { 0, 2, 3, 0x100,
							 0xffff };
			uint16_t ver = rnd_below(2) ? vers[rnd_below(5)] :
						     (uint16_t)rnd();

			if (ver == FAMRT_PROTO_VERSION)
				ver = 0;
			famrt_le16_put(m->b + 4, ver);
			x.status = -EPROTONOSUPPORT;
			x.close = STAYS_OPEN;
			use = &open_fd;
			break;
		}
		case 3: { /* length field wrong, smaller or far larger */
			uint64_t r = rnd_below(6);
			uint32_t l;

			if (r == 0)
				l = 0;
			else if (r == 1)
				l = (uint32_t)m->len - 1 -
				    (uint32_t)rnd_below(m->len);
			else if (r == 2)
				l = (uint32_t)m->len + 1 +
				    (uint32_t)rnd_below(64);
			else if (r == 3)
				l = 0xffffffffu;
			else if (r == 4)
				l = FAMRT_PROTO_MSG_MAX +
				    (uint32_t)rnd_below(1u << 30);
			else
				l = (uint32_t)rnd();
			if (l == m->len)
				l++;
			famrt_le32_put(m->b + 8, l);
			break;
		}
		case 4: /* reply flag, or any other flag */
			famrt_le32_put(m->b + 12,
				       rnd_below(2) ? FAMRT_PROTO_FLAG_REPLY :
						      1u << rnd_below(32));
			break;
		case 5: /* a status in a request */
			famrt_le32_put(m->b + 24,
				       rnd_below(2) ? (uint32_t)-EIO :
						      (uint32_t)(1 + rnd_below(
								     1u << 31)));
			break;
		case 6: /* reserved not zero */
			m->b[28 + rnd_below(4)] = (uint8_t)(1 + rnd_below(255));
			break;
		case 7: { /* unknown operation */
			uint16_t bad = rnd_below(3) ? (uint16_t)(
							      FAMRT_OP_COUNT_ +
							      rnd_below(100)) :
						     (uint16_t)rnd();

			if (bad && bad < FAMRT_OP_COUNT_)
				bad = 0;
			famrt_le16_put(m->b + 6, bad);
			x.status = -EOPNOTSUPP;
			x.close = STAYS_OPEN;
			use = &open_fd;
			break;
		}
		case 8: /* oversized, with a consistent header */
			m->len = FAMRT_PROTO_REQ_MAX + 1 +
				 rnd_below(70000 - FAMRT_PROTO_REQ_MAX);
			rnd_fill(m->b + 40, m->len - 40);
			set_len(m);
			x.status = -EMSGSIZE;
			x.decoder = false; /* refused before decoding */
			break;
		case 9: /* half a message, header unchanged */
			m->len = FAMRT_PROTO_HDR_SIZE / 2 +
				 rnd_below(m->len - FAMRT_PROTO_HDR_SIZE / 2);
			x.no_reply_ok = false;
			break;
		}
		counts[kind]++;
		hostile_one(v, use, m, &x);
		if (use == &open_fd && rnd_below(50) == 0) {
			hello_ok(open_fd);
			close(open_fd);
			open_fd = -1;
		}
	}
	if (open_fd >= 0) {
		hello_ok(open_fd);
		close(open_fd);
	}
	if (fd >= 0)
		close(fd);
	free(m);
	fprintf(stderr,
		"# headers: truncated %u, magic %u, version %u, length %u, "
		"flags %u, status %u, reserved %u, op %u, oversized %u, "
		"half %u\n",
		counts[0], counts[1], counts[2], counts[3], counts[4],
		counts[5], counts[6], counts[7], counts[8], counts[9]);
	after_phase(v, "bad headers");
}

/* ---- phase 3: bodies and values ---- */

/* A path-carrying request (LOOKUP / CREATE / MKDIR) with raw path bytes. */
static void path_request(struct msgbuf *m, uint16_t op, const uint8_t *path,
			 size_t plen, uint32_t mode)
{
	struct famrt_proto_hdr h = { .version = FAMRT_PROTO_VERSION, .op = op,
				     .req_id = rnd() };
	size_t fixed = op == FAMRT_OP_LOOKUP ? 8 :
		       op == FAMRT_OP_MKDIR  ? 8 :
					       160;

	memset(m->b, 0, FAMRT_PROTO_HDR_SIZE + fixed);
	if (op == FAMRT_OP_LOOKUP) {
		famrt_le16_put(m->b + 32, (uint16_t)plen);
	} else if (op == FAMRT_OP_MKDIR) {
		famrt_le32_put(m->b + 32, mode);
		famrt_le16_put(m->b + 36, (uint16_t)plen);
	} else {
		famrt_le32_put(m->b + 32, mode);
		famrt_le64_put(m->b + 40, 1 << 20);
		famrt_le16_put(m->b + 60, (uint16_t)plen);
	}
	memcpy(m->b + FAMRT_PROTO_HDR_SIZE + fixed, path, plen);
	m->len = FAMRT_PROTO_HDR_SIZE + fixed + plen;
	h.length = (uint32_t)m->len;
	famrt_proto_hdr_encode(m->b, &h);
}

/* A bad path, and what it must get. */
static void bad_path(uint8_t *p, size_t *len, struct expect *x)
{
	static const char *const fixed[] = {
		"", "a", "known/f1", "./known", "//", "/known//f1", "/known/",
		"/.", "/..", "/known/.", "/known/../known", "/good/./x",
		"\\known", " /known",
	};
	uint64_t r = rnd_below(6);

	x->status = -EINVAL;
	x->close = STAYS_OPEN;
	x->decoder = true;
	if (r == 0) {
		const char *s = fixed[rnd_below(sizeof(fixed) /
						sizeof(fixed[0]))];

		*len = strlen(s);
		memcpy(p, s, *len);
	} else if (r == 1) { /* a NUL somewhere */
		*len = 2 + rnd_below(40);
		p[0] = '/';
		for (size_t i = 1; i < *len; i++)
			p[i] = (uint8_t)('a' + rnd_below(26));
		p[1 + rnd_below(*len - 1)] = 0;
	} else if (r == 2) { /* too long as a whole */
		*len = FAMRT_PATH_MAX + 1 + rnd_below(3900);
		for (size_t i = 0; i < *len; i++)
			p[i] = i % 100 == 0 ? '/' : 'x';
		x->status = -ENAMETOOLONG;
	} else if (r == 3) { /* a component too long */
		*len = 1 + FAMRT_NAME_COMPONENT_MAX + 1 + rnd_below(100);
		p[0] = '/';
		memset(p + 1, 'y', *len - 1);
		x->status = -ENAMETOOLONG;
	} else if (r == 4) { /* random bytes not starting with '/' */
		*len = 1 + rnd_below(200);
		rnd_fill(p, *len);
		if (p[0] == '/')
			p[0] = 'z';
	} else { /* relative, plausible */
		*len = 1 + rnd_below(30);
		for (size_t i = 0; i < *len; i++)
			p[i] = (uint8_t)('a' + rnd_below(26));
	}
}

/* One create with bad layout values (all refused, nothing logged). */
static void bad_create(const struct env *v, struct msgbuf *m, struct expect *x)
{
	struct famrt_proto_create_req c = { .mode = 0644, .size = 1 << 20 };
	char path[64];
	uint64_t r = rnd_below(11);
	ssize_t n;

	snprintf(path, sizeof(path), "/hostile/c%llu",
		 (unsigned long long)rnd_below(1000000));
	x->close = STAYS_OPEN;
	x->status = -EINVAL;
	x->decoder = true;
	switch (r) {
	case 0:
		c.layout = 2 + (uint32_t)rnd_below(0xfffffff0u);
		break;
	case 1:
		c.mode = 010000u << rnd_below(20);
		break;
	case 2: /* too many devices or strips: written past the encoder */
		c.ndevs = 0;
		break;
	case 3:
		c.nstrips = 33 + (uint32_t)rnd_below(1000);
		break;
	case 4: /* a device the file system does not have */
		c.ndevs = 1;
		c.devs[0] = 2 + (uint32_t)rnd_below(30);
		x->decoder = false;
		break;
	case 5: /* a device twice */
		c.ndevs = 2;
		c.layout = (uint32_t)rnd_below(2);
		x->decoder = false;
		break;
	case 6: /* interleave chunk not a multiple of the unit */
		c.layout = 1;
		c.chunk = 1 + (uint32_t)rnd_below(4095);
		x->decoder = false;
		break;
	case 7: /* a chunk whose strips (whole chunks and units) are huge */
		c.layout = 1;
		c.chunk = (2u << 20) + 4096;
		x->status = -ENOSPC;
		x->status2 = -EINVAL;
		x->decoder = false;
		break;
	case 8: /* far too big */
		c.size = UINT64_MAX - rnd_below(1u << 20);
		c.layout = (uint32_t)rnd_below(2);
		x->status = -ENOSPC;
		x->status2 = -EINVAL;
		x->decoder = false;
		break;
	case 9: /* more than the devices hold */
		c.size = (1ull << 40) + rnd_below(1ull << 40);
		c.layout = (uint32_t)rnd_below(2);
		x->status = -ENOSPC;
		x->status2 = -E2BIG;
		x->decoder = false;
		break;
	case 10: /* in a directory that does not exist, or under a file */
		snprintf(path, sizeof(path), "%s",
			 rnd_below(2) ? "/nodir/x" : "/known/f1/x");
		x->status = path[1] == 'n' ? -ENOENT : -ENOTDIR;
		x->decoder = false;
		break;
	}
	n = famrt_proto_create_req_encode(m->b, sizeof(m->b), rnd(), &c,
					  path);
	assert_true(n > 0);
	m->len = (size_t)n;
	if (r == 2) {
		famrt_le32_put(m->b + 32 + 24,
			       33 + (uint32_t)rnd_below(0xffffff00u));
	} else if (r == 5) {
		famrt_le32_put(m->b + 32 + 32, 1);
		famrt_le32_put(m->b + 32 + 36, 1);
	}
	(void)v;
}

/* Body lengths and reserved bytes of each operation. */
static const struct {
	uint16_t op;
	size_t fixed;        /* fixed body bytes */
	bool has_path;       /* path_len field, then path */
	uint8_t reserved[2]; /* [from, to) reserved bytes of the body */
} ops[] = {
	{ FAMRT_OP_HELLO, 8, false, { 4, 8 } },
	{ FAMRT_OP_DEVICES, 0, false, { 0, 0 } },
	{ FAMRT_OP_LOOKUP, 8, true, { 2, 8 } },
	{ FAMRT_OP_GETATTR, 8, false, { 0, 0 } },
	{ FAMRT_OP_READDIR, 24, false, { 20, 24 } },
	{ FAMRT_OP_GET_FMAP, 8, false, { 0, 0 } },
	{ FAMRT_OP_CREATE, 160, true, { 30, 32 } },
	{ FAMRT_OP_MKDIR, 8, true, { 6, 8 } },
	{ FAMRT_OP_STATFS, 0, false, { 0, 0 } },
	{ FAMRT_OP_OPEN, 8, true, { 2, 4 } },
	{ FAMRT_OP_BEGIN, 8, true, { 6, 8 } },
	{ FAMRT_OP_ALLOC, 16, false, { 0, 0 } },
	{ FAMRT_OP_COMMIT, 24, false, { 20, 24 } },
	{ FAMRT_OP_ABORT, 8, false, { 0, 0 } },
};

static void test_bad_bodies(void **state)
{
	struct env *v = *state;
	struct msgbuf *m = malloc(sizeof(*m));
	int fd = -1, open_fd = -1;
	unsigned counts[9] = { 0 };

	assert_non_null(m);
	for (unsigned i = 0; i < BODY_MSGS; i++) {
		struct expect x = { .status = -EPROTO, .close = MAY_CLOSE,
				    .decoder = true };
		unsigned kind = (unsigned)rnd_below(9);
		unsigned oi = (unsigned)rnd_below(sizeof(ops) / sizeof(ops[0]));
		int *use = &fd;

		valid_request(v, ops[oi].op, m);
		switch (kind) {
		case 0: /* body one byte short (or more) */
			if (m->len == FAMRT_PROTO_HDR_SIZE) {
				m->len++;
				m->b[m->len - 1] = 0;
			} else {
				m->len -= rnd_below(4) ? 1 :
					 1 + rnd_below(m->len -
						       FAMRT_PROTO_HDR_SIZE);
			}
			set_len(m);
			break;
		case 1: /* body one byte long (or more) */
			m->len += rnd_below(4) ? 1 : 1 + rnd_below(2000);
			rnd_fill(m->b + m->len - 1, 1);
			set_len(m);
			break;
		case 2: /* a reserved byte of the body set */
			if (ops[oi].reserved[1] == 0) {
				/* none: a byte too many instead */
				m->len++;
				m->b[m->len - 1] = 1;
			} else {
				size_t at = ops[oi].reserved[0] +
					    rnd_below(ops[oi].reserved[1] -
						      ops[oi].reserved[0]);

				m->b[FAMRT_PROTO_HDR_SIZE + at] =
					(uint8_t)(1 + rnd_below(255));
			}
			set_len(m);
			break;
		case 3: { /* path length field disagrees with the path */
			static const uint16_t pl_off[] = { [FAMRT_OP_LOOKUP] = 0,
							   [FAMRT_OP_CREATE] = 28,
							   [FAMRT_OP_MKDIR] = 4 };
			uint16_t op = rnd_below(3) == 0 ? FAMRT_OP_LOOKUP :
				      rnd_below(2)	    ? FAMRT_OP_CREATE :
							      FAMRT_OP_MKDIR;
			uint8_t *pl;
			uint16_t have;

			valid_request(v, op, m);
			pl = m->b + FAMRT_PROTO_HDR_SIZE + pl_off[op];
			have = famrt_le16_get(pl);
			famrt_le16_put(pl, rnd_below(2) ?
						   (uint16_t)(have + 1 +
							      rnd_below(60000)) :
						   (uint16_t)rnd_below(have));
			break;
		}
		case 4: { /* a bad path */
			uint8_t p[8200];
			size_t plen;
			uint16_t op = rnd_below(3) == 0 ? FAMRT_OP_LOOKUP :
				      rnd_below(2)	    ? FAMRT_OP_CREATE :
							      FAMRT_OP_MKDIR;

			bad_path(p, &plen, &x);
			path_request(m, op, p, plen, 0755);
			use = &open_fd;
			break;
		}
		case 5: /* create with bad layout, devices, mode or size */
			bad_create(v, m, &x);
			use = &open_fd;
			break;
		case 6: { /* mkdir with a bad mode */
			char p[64];

			snprintf(p, sizeof(p), "/hostile/d%llu",
				 (unsigned long long)rnd_below(1000000));
			path_request(m, FAMRT_OP_MKDIR, (const uint8_t *)p,
				     strlen(p),
				     (uint32_t)(010000u << rnd_below(20)) |
					     0755);
			x.status = -EINVAL;
			x.close = STAYS_OPEN;
			use = &open_fd;
			break;
		}
		case 7: { /* the wrong kind of object, or none */
			static const uint64_t huge[] = { 0, 2000000,
							 UINT64_MAX,
							 1ull << 63,
							 (1ull << 32) + 2 };
			uint64_t r = rnd_below(5), id = rnd();
			ssize_t n;

			x.close = STAYS_OPEN;
			x.decoder = false;
			use = &open_fd;
			if (r == 0) { /* readdir of a file */
				n = famrt_proto_readdir_req_encode(
					m->b, sizeof(m->b), id,
					v->known[rnd_below(2)].a.ino, 0,
					(uint32_t)rnd());
				x.status = -ENOTDIR;
			} else if (r == 1) { /* GET_FMAP of a directory */
				n = famrt_proto_ino_req_encode(
					m->b, sizeof(m->b), FAMRT_OP_GET_FMAP,
					id, rnd_below(2) ? 1 :
					v->known[2 + rnd_below(2)].a.ino);
				x.status = -EISDIR;
			} else { /* an inode that does not exist */
				uint64_t ino = rnd_below(2) ?
						       huge[rnd_below(5)] :
						       1000 + rnd_below(1ull << 62);
				uint16_t op = r == 2 ? FAMRT_OP_GETATTR :
					      r == 3 ? FAMRT_OP_GET_FMAP :
						       FAMRT_OP_READDIR;

				n = op == FAMRT_OP_READDIR ?
					    famrt_proto_readdir_req_encode(
						    m->b, sizeof(m->b), id,
						    ino, rnd(), 0) :
					    famrt_proto_ino_req_encode(
						    m->b, sizeof(m->b), op, id,
						    ino);
				x.status = -ENOENT;
			}
			assert_true(n > 0);
			m->len = (size_t)n;
			break;
		}
		case 8: { /* hello for versions the service does not speak */
			uint16_t lo, hi;

			if (rnd_below(2)) {
				lo = (uint16_t)(2 + rnd_below(0xfffe));
				hi = (uint16_t)(lo + rnd_below(0xffff - lo + 1));
			} else {
				lo = 0;
				hi = 0;
			}
			famrt_le16_put(m->b + 32, lo);
			famrt_le16_put(m->b + 34, hi);
			famrt_le16_put(m->b + 6, FAMRT_OP_HELLO);
			m->len = FAMRT_PROTO_HDR_SIZE + 8;
			memset(m->b + 36, 0, 4);
			set_len(m);
			x.status = -EPROTONOSUPPORT;
			x.close = STAYS_OPEN;
			use = &open_fd;
			break;
		}
		}
		counts[kind]++;
		hostile_one(v, use, m, &x);
		if (use == &open_fd && rnd_below(100) == 0) {
			hello_ok(open_fd);
			close(open_fd);
			open_fd = -1;
		}
	}
	if (open_fd >= 0) {
		hello_ok(open_fd);
		close(open_fd);
	}
	if (fd >= 0)
		close(fd);
	free(m);
	fprintf(stderr,
		"# bodies: short %u, long %u, reserved %u, path length %u, "
		"bad path %u, bad create %u, bad mkdir %u, wrong object %u, "
		"hello versions %u\n",
		counts[0], counts[1], counts[2], counts[3], counts[4],
		counts[5], counts[6], counts[7], counts[8]);
	after_phase(v, "bad bodies");
}

/* ---- phase 4: connections opened and dropped ---- */

static void test_connection_churn(void **state)
{
	struct env *v = *state;
	int *fds = calloc(BURST_CONNS, sizeof(int));
	uint8_t req[64], *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	ssize_t rn;

	assert_non_null(fds);
	assert_non_null(buf);
	/* One by one: connect and drop, with or without a request. */
	for (unsigned i = 0; i < SEQ_CONNS; i++) {
		int fd = must_connect(v);

		switch (i % 4) {
		case 0: /* nothing at all */
			break;
		case 1:
			hello_ok(fd);
			break;
		case 2: /* device descriptors never picked up */
			rn = famrt_proto_simple_req_encode(req, sizeof(req),
							   FAMRT_OP_DEVICES,
							   i);
			assert_int_equal(raw_send(fd, req, (size_t)rn), 0);
			break;
		case 3: /* shut down both ways first */
			shutdown(fd, SHUT_RDWR);
			break;
		}
		close(fd);
	}
	/* Many at once, all served, then all dropped together. */
	for (unsigned b = 0; b < BURSTS; b++) {
		for (unsigned i = 0; i < BURST_CONNS; i++)
			fds[i] = must_connect(v);
		for (unsigned i = 0; i < BURST_CONNS; i++) {
			rn = famrt_proto_hello_req_encode(req, sizeof(req), i);
			assert_int_equal(raw_send(fds[i], req, (size_t)rn), 0);
		}
		for (unsigned i = 0; i < BURST_CONNS; i++) {
			rn = raw_recv(fds[i], buf, NULL);
			assert_true(rn > 0);
			famrt_proto_hello_req_encode(req, sizeof(req), i);
			assert_int_equal(check_reply(buf, rn, req, sizeof(req)),
					 0);
		}
		if (b == 0)
			rss_check(v, "200 connections open");
		for (unsigned i = 0; i < BURST_CONNS; i++)
			close(fds[i]);
	}
	free(fds);
	free(buf);
	after_phase(v, "connection churn");
}

/* ---- phase 5: a small connection cap ---- */

/*
 * A connection the service serves: connect and say hello, again while it
 * is refused (closed connections free their slot only once famrtd has
 * seen them go).
 */
static int connect_served(const char *sock)
{
	uint8_t req[64], *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	ssize_t rn;

	assert_non_null(buf);
	for (int tries = 0;; tries++) {
		int fd = raw_connect(sock), rc;

		assert_true(fd >= 0);
		rn = famrt_proto_hello_req_encode(req, sizeof(req), 1);
		rc = raw_send(fd, req, (size_t)rn);
		rn = rc ? 0 : raw_recv(fd, buf, NULL);
		if (rn > 0) {
			assert_int_equal(check_reply(buf, rn, req, sizeof(req)),
					 0);
			free(buf);
			return fd;
		}
		close(fd);
		assert_true(tries < 400);
		usleep(5000);
	}
}

static void test_max_clients(void **state)
{
	struct env *v = *state;
	static const char *const extra[] = { "--max-clients", "4", NULL };
	struct h_famrtd small;
	struct famrt_client *c;
	struct famrt_proto_attr a;
	struct famrt_err e;
	uint8_t req[64], *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	int held[4], refused = 0;
	ssize_t rn;
	char line[256];
	bool logged = false;
	FILE *f;

	assert_non_null(buf);
	assert_int_equal(h_famrtd_start(&small, &v->fs, "small", "host-a",
					extra),
			 0);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++)
			held[i] = connect_served(small.socket);
		/* Past the cap: accepted by the kernel, then closed. */
		for (int i = 0; i < 50; i++) {
			int fd = raw_connect(small.socket);
			int rc;

			assert_true(fd >= 0);
			rn = famrt_proto_hello_req_encode(req, sizeof(req), i);
			rc = raw_send(fd, req, (size_t)rn);
			if (rc == 0)
				rn = raw_recv(fd, buf, NULL);
			assert_true(rc == -EPIPE || rc == -ECONNRESET ||
				    rn == 0 || rn == -ECONNRESET);
			refused++;
			close(fd);
		}
		/* The ones held are still served. */
		for (int i = 0; i < 4; i++)
			hello_ok(held[i]);
		/* Free a slot: a new client gets in (once famrtd notices). */
		close(held[3]);
		held[3] = connect_served(small.socket);
		for (int i = 0; i < 4; i++)
			close(held[i]);
	}
	/* All gone: a full client (one connection) works. */
	for (int tries = 0;; tries++) {
		if (!famrt_client_connect(&c, small.socket, &e))
			break;
		assert_true(tries < 200);
		usleep(5000);
	}
	assert_int_equal(famrt_client_lookup(c, "/known/f1", &a, &e), 0);
	assert_memory_equal(&a, &v->known[0].a, sizeof(a));
	famrt_client_close(c);
	assert_int_equal(h_famrtd_stop(&small), 0);
	f = fopen(small.log, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "refusing client"))
			logged = true;
	fclose(f);
	assert_true(logged);
	fprintf(stderr, "# max-clients 4: %d connections refused\n", refused);
	free(buf);
	after_phase(v, "max clients");
}

/* ---- phase 6: clients that vanish mid-request ---- */

static void test_vanishing_clients(void **state)
{
	struct env *v = *state;
	struct msgbuf *m = malloc(sizeof(*m));
	uint8_t *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);

	assert_non_null(m);
	assert_non_null(buf);
	for (unsigned i = 0; i < 2000; i++) {
		uint16_t op = (uint16_t)(1 + rnd_below(KNOWN_OPS));
		int fd = must_connect(v);
		ssize_t n;
		int rc;

		valid_request(v, op, m);
		switch (i % 5) {
		case 0: /* send, close before the reply */
			assert_int_equal(raw_send(fd, m->b, m->len), 0);
			break;
		case 1: /* send, shut the write side: reply, then EOF */
			assert_int_equal(raw_send(fd, m->b, m->len), 0);
			shutdown(fd, SHUT_WR);
			n = raw_recv(fd, buf, NULL);
			if (n <= 0) {
				fprintf(stderr, "op %u: no reply after SHUT_WR\n",
					op);
				h_famrtd_dump_log(&v->d);
			}
			assert_true(n > 0);
			check_reply(buf, n, m->b, m->len);
			assert_true(closed_by_peer(fd));
			break;
		case 2: /* shut the read side, then send: the reply fails */
			shutdown(fd, SHUT_RD);
			rc = raw_send(fd, m->b, m->len);
			assert_int_equal(rc, 0);
			break;
		case 3: /* half a request, then gone */
			assert_int_equal(raw_send(fd, m->b, m->len / 2), 0);
			break;
		case 4: /* many requests queued, then gone */
			for (int k = 0; k < 20; k++)
				assert_int_equal(raw_send(fd, m->b, m->len), 0);
			if (i % 2)
				shutdown(fd, SHUT_WR);
			break;
		}
		close(fd);
	}
	free(m);
	free(buf);
	after_phase(v, "vanishing clients");
}

/* ---- phase 7: clients that never read their replies ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* n lookups through a good client; sorted latencies in us to lat. */
static void timed_lookups(struct famrt_client *c, const struct env *v,
			  uint64_t *lat, unsigned n)
{
	struct famrt_proto_attr a;
	struct famrt_err e;

	for (unsigned i = 0; i < n; i++) {
		uint64_t t = now_us();

		assert_int_equal(famrt_client_lookup(c, "/known/f2", &a, &e),
				 0);
		lat[i] = now_us() - t;
		assert_int_equal(a.ino, v->known[1].a.ino);
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
}

static void test_never_reading(void **state)
{
	struct env *v = *state;
	int fds[STALLED];
	unsigned sent[STALLED];
	uint64_t base[400], during[400];
	uint8_t req[FAMRT_PROTO_REQ_MAX], *buf = malloc(FAMRT_PROTO_MSG_MAX + 1);
	struct famrt_client *c;
	ssize_t rn;

	assert_non_null(buf);
	c = good_client(v);
	timed_lookups(c, v, base, 400);
	/* Each sends until its socket is full, and then reads nothing. */
	for (unsigned s = 0; s < STALLED; s++) {
		uint16_t op = s < 2 ? FAMRT_OP_DEVICES : FAMRT_OP_LOOKUP;
		uint64_t quiet_since = 0;

		fds[s] = must_connect(v);
		sent[s] = 0;
		for (;;) {
			if (op == FAMRT_OP_DEVICES)
				rn = famrt_proto_simple_req_encode(
					req, sizeof(req), op, sent[s] + 1);
			else
				rn = famrt_proto_path_req_encode(
					req, sizeof(req), op, sent[s] + 1,
					"/known/f1");
			if (send(fds[s], req, (size_t)rn,
				 MSG_DONTWAIT | MSG_NOSIGNAL) == rn) {
				sent[s]++;
				quiet_since = 0;
				continue;
			}
			assert_int_equal(errno, EAGAIN);
			/* Full for 50 ms running: famrtd stopped reading. */
			if (!quiet_since)
				quiet_since = now_us();
			else if (now_us() - quiet_since > 50000)
				break;
			usleep(1000);
			assert_true(sent[s] < 1000000);
		}
	}
	/* The others are served as before. */
	timed_lookups(c, v, during, 400);
	fprintf(stderr,
		"# never-reading: %u clients stalled (%u..%u requests each); "
		"lookup latency before p50 %llu us p99 %llu us max %llu us, "
		"during p50 %llu us p99 %llu us max %llu us\n",
		STALLED, sent[0], sent[STALLED - 1],
		(unsigned long long)base[200], (unsigned long long)base[396],
		(unsigned long long)base[399], (unsigned long long)during[200],
		(unsigned long long)during[396],
		(unsigned long long)during[399]);
	/* Normal latency: the median within 5x (or 2 ms), nothing slow. */
	assert_true(during[200] <= 5 * base[200] || during[200] <= 2000);
	assert_true(during[399] <= 500000);
	famrt_client_close(c);
	rss_check(v, "stalled clients");
	/* At last they read: every reply, in order, correct. */
	for (unsigned s = 0; s < STALLED; s++) {
		for (unsigned i = 1; i <= sent[s]; i++) {
			struct famrt_proto_hdr h;
			int nfds;

			rn = raw_recv(fds[s], buf, &nfds);
			assert_true(rn > 0);
			assert_int_equal(famrt_proto_hdr_decode(buf, (size_t)rn,
								&h, NULL),
					 0);
			assert_int_equal(h.req_id, i);
			assert_int_equal(h.status, 0);
			if (s < 2) {
				assert_int_equal(h.op, FAMRT_OP_DEVICES);
				assert_int_equal(nfds, 2);
			} else {
				struct famrt_proto_attr a;

				const uint8_t *body = buf + FAMRT_PROTO_HDR_SIZE;
				size_t blen = (size_t)rn - FAMRT_PROTO_HDR_SIZE;

				assert_int_equal(h.op, FAMRT_OP_LOOKUP);
				assert_int_equal(famrt_proto_attr_get(body, blen,
								      &a, NULL),
						 0);
				assert_memory_equal(&a, &v->known[0].a,
						    sizeof(a));
			}
		}
		hello_ok(fds[s]);
		close(fds[s]);
	}
	free(buf);
	after_phase(v, "never-reading clients");
}

/* ---- a client in many groups ---- */

/*
 * In a child, as nobody with ngroups supplementary groups from gid 5000:
 * connect, and get read-write device descriptors as a member of the
 * service's --group 5000. Exit status 0 when it did.
 */
static int many_groups_child(const char *sock, int ngroups)
{
	gid_t g[100];
	struct famrt_client *c;
	struct famrt_err e;
	int fds[32];
	uint32_t acc[32];
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (int i = 0; i < ngroups; i++)
			g[i] = (gid_t)(5000 + i);
		if (setgroups((size_t)ngroups, g) || setgid(65534) ||
		    setuid(65534))
			_exit(10);
		/* The service runs as root: trusted. */
		if (famrt_client_connect(&c, sock, &e)) {
			fprintf(stderr, "many groups: %s\n", e.msg);
			_exit(11);
		}
		if (famrt_client_device_fds(c, fds, acc, &e)) {
			fprintf(stderr, "many groups (%d): %s\n", ngroups,
				e.msg);
			_exit(12);
		}
		for (int i = 0; i < 2; i++) {
			if (acc[i] != FAMRT_DEV_ACCESS_RW || fds[i] < 0)
				_exit(13);
			close(fds[i]);
		}
		famrt_client_close(c);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static void test_many_groups(void **state)
{
	struct env *v = *state;
	static const char *const extra[] = { "--group", "5000", NULL };
	struct h_famrtd grp;

	if (getuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(h_famrtd_start(&grp, &v->fs, "groups", "host-a",
					extra),
			 0);
	/* SO_PEERGROUPS fails (ERANGE) past the 64 groups famrtd keeps. */
	assert_int_equal(many_groups_child(grp.socket, 64), 0);
	assert_int_equal(many_groups_child(grp.socket, 65), 0);
	assert_int_equal(many_groups_child(grp.socket, 100), 0);
	assert_int_equal(h_famrtd_stop(&grp), 0);
}

/* ---- last: the totals, and a clean stop ---- */

static void test_totals_and_stop(void **state)
{
	struct env *v = *state;
	char line[512];
	unsigned long long reqs = 0, refused = 0, bad = 0;
	bool found = false;
	FILE *f;

	fprintf(stderr, "# %lu malformed messages in all\n", v->malformed);
	assert_true(v->malformed >= MALFORMED_MIN);
	/* A clean stop (under ASan, also: no leak at exit). */
	assert_int_equal(h_famrtd_stop(&v->d), 0);
	f = fopen(v->d.log, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "stopped after ");

		if (p && sscanf(p,
				"stopped after %llu requests (%llu refused, "
				"%llu malformed)",
				&reqs, &refused, &bad) == 3)
			found = true;
	}
	fclose(f);
	assert_true(found);
	fprintf(stderr,
		"# famrtd counted %llu requests, %llu refused, %llu "
		"malformed\n",
		reqs, refused, bad);
	/* Every message the decoder must refuse was seen as one message. */
	assert_true(bad >= v->rejected);
	/* Restart: it serves the same namespace. */
	assert_int_equal(h_famrtd_start(&v->d, &v->fs, "master", "host-a",
					NULL),
			 0);
	after_phase(v, "restart");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_connection_churn),
		cmocka_unit_test(test_max_clients),
		cmocka_unit_test(test_vanishing_clients),
		cmocka_unit_test(test_never_reading),
		cmocka_unit_test(test_many_groups),
		cmocka_unit_test(test_totals_and_stop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
