/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz famrtd's request handling: famrtd_handle_session() (what the event
 * loop calls for each message of a connection; famrtd_handle() is the same
 * without a connection) on a small real file system, without sockets.
 *
 * Once per process: two emulated devices (memfds, 16 MiB each, named by
 * /proc/self/fd paths), famrt_mkfs, famrtd_open, and a fixed namespace
 * with every kind of permission (fixture[] below; rw group 3000, ro group
 * 2000). Device 0's metadata (superblocks and log) is saved and restored
 * after any request that changed it, so every request meets the same
 * namespace; the connection's unfinished files are dropped after each
 * input, so every input meets the same free space.
 *
 * Input: one byte, then requests as they would come off the socket.
 *   bits 0-1  who asks: root; uid 1000 (owns /home); uid 1001 (in group
 *             2000); nobody
 *   bit 2     0: the rest is one request; 1: the rest is up to 8 requests,
 *             each preceded by its length (u16, little-endian), on one
 *             connection (BEGIN, ALLOC, COMMIT need that)
 *   bit 3     call famrtd_handle() (no connection state) instead: BEGIN,
 *             ALLOC, COMMIT, ABORT must then be refused
 *
 * Checks:
 *  - each reply is one well-formed message: header decodes, REPLY flag, its
 *    length, op and id echoed when the request header was readable, a
 *    status 0 or -errno with a message; a request the decoder refuses gets
 *    the decoder's error, and the connection is closed exactly when the
 *    header itself cannot be trusted (-EPROTO / -EMSGSIZE), always when it
 *    was unreadable;
 *  - descriptors go out only with a successful DEVICES reply: the service's
 *    own read-write descriptors for root (and its own uid), its read-only
 *    ones for the ro group, none for anyone else, in device order;
 *  - permissions, against a table written from the fixture's modes, not
 *    from famrtd's code: LOOKUP/GETATTR succeed exactly for objects the
 *    caller can reach, GET_FMAP exactly for files it may read (and the map
 *    is the logged one, valid against the devices), READDIR exactly for
 *    directories it may list (listing exactly their children), OPEN exactly
 *    when reach, read and write allow it (with the right map), CREATE/
 *    MKDIR/BEGIN only in a directory it may write;
 *  - a new object belongs to the caller (group from a setgid parent), has
 *    the mode and size asked, its map is valid; the log changes only by a
 *    successful CREATE, MKDIR or COMMIT, by exactly one entry, which
 *    replays cleanly (famrt_fs_open: no damage, nothing skipped);
 *  - ALLOC, COMMIT and ABORT work only on this connection's own BEGINs;
 *    space ALLOC reserves is inside the devices; once the connection's
 *    unfinished files are dropped, the free space is what it was;
 *  - nothing crashes or leaks (ASan/LSan).
 * Operations newer than this target are checked only for the reply rules,
 * and what they change is put back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <famrt/fmap.h>

#include "famrtd.h"
#include "fuzz.h"
#include "meta/fs.h"
#include "proto/proto.h"
#include "util/bytes.h"

#define DEV_SIZE (16u << 20)
#define UNIT (64u << 10)
#define LOG_SIZE (256u << 10)
#define HOST "fuzz-host"
#define RW_GROUP 3000u
#define RO_GROUP 2000u

/* Who asks: bit i of a mask is cred i. */
enum { C_ROOT, C_OWNER, C_GROUP, C_NOBODY, NCREDS };
#define ALL 0xfu
#define ROOT (1u << C_ROOT)
#define OWNER (1u << C_OWNER)
#define GROUP (1u << C_GROUP)

static const struct famrtd_cred creds[NCREDS] = {
	[C_ROOT] = { .pid = 100, .uid = 0, .gid = 0 },
	[C_OWNER] = { .pid = 101, .uid = 1000, .gid = 1000 },
	[C_GROUP] = { .pid = 102, .uid = 1001, .gid = 1001, .ngroups = 2,
		      .groups = { 1001, RO_GROUP } },
	[C_NOBODY] = { .pid = 103, .uid = 65534, .gid = 65534 },
};

/*
 * The namespace, in creation order. reach: who may look it up (every
 * directory above searchable); read: who may GET_FMAP a file or READDIR a
 * directory; write: who may create in a directory, or open a file for
 * writing. Written from the modes (root may do anything but search a
 * directory it cannot reach... which it always can here).
 */
static const struct fixture {
	const char *path;
	bool dir;
	uint32_t mode, uid, gid;
	uint64_t size;  /* files */
	bool interleave;
	unsigned reach, read, write;
} fixture[] = {
	{ "/", true, 0755, 0, 0, 0, false, ALL, ALL, ROOT },
	{ "/d", true, 0755, 0, 0, 0, false, ALL, ALL, ROOT },
	{ "/d/f", false, 0644, 0, 0, 1u << 20, false, ALL, ALL, ROOT },
	{ "/d/g", false, 0644, 0, 0, 3 * UNIT + 5, true, ALL, ALL, ROOT },
	{ "/d/sub", true, 0755, 0, 0, 0, false, ALL, ALL, ROOT },
	{ "/secret", true, 0700, 0, 0, 0, false, ALL, ROOT, ROOT },
	{ "/secret/f", false, 0644, 0, 0, 4096, false, ROOT, ROOT, ROOT },
	{ "/open", true, 0777, 0, 0, 0, false, ALL, ALL, ALL },
	{ "/open/private", false, 0600, 0, 0, 1, false, ALL, ROOT, ROOT },
	{ "/home", true, 0755, 1000, 1000, 0, false, ALL, ALL, ROOT | OWNER },
	{ "/home/mine", false, 0600, 1000, 1000, 0, false, ALL, ROOT | OWNER,
	  ROOT | OWNER },
	{ "/grp", true, 02770, 0, RO_GROUP, 0, false, ALL, ROOT | GROUP,
	  ROOT | GROUP },
	{ "/grp/f", false, 0640, 0, RO_GROUP, 2 * UNIT, false, ROOT | GROUP,
	  ROOT | GROUP, ROOT },
};
#define NFIX (sizeof(fixture) / sizeof(fixture[0]))

static struct {
	bool ready;
	int memfd[2];
	char spec[64];
	uint8_t *dev0;      /* device 0, mapped */
	size_t meta_len;    /* superblocks + log */
	uint8_t *saved;     /* their bytes with the fixture made */
	uint64_t next_seq;  /* the log's next entry then */
	uint64_t free;      /* free bytes then */
	struct famrtd d;
	struct famrtd_session sess;
	int devnull;
	uint64_t ino[NFIX];
	/* BEGINs of this input: handle, path, who, mode. */
	struct begun {
		uint64_t handle;
		char path[FAMRT_PATH_MAX + 1];
		int who;
		uint32_t mode;
	} begun[8];
	unsigned nbegun;
	uint8_t out[FAMRT_PROTO_MSG_MAX];
	uint8_t req2[64];
	uint8_t out2[FAMRT_PROTO_MSG_MAX];
} g;

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "fuzz_famrtd: %s: %s\n", what, msg);
	abort();
}

static void open_service(void)
{
	struct famrtd_config cfg = {
		.fs_spec = g.spec, .host_id = HOST, .rw_group = RW_GROUP,
		.ro_group = RO_GROUP, .have_rw_group = true,
		.have_ro_group = true, .poll_us = 1000, .max_clients = 16,
	};
	struct famrt_err e;

	if (famrtd_open(&g.d, &cfg, &e))
		die("famrtd_open", e.msg);
}

static void make_fixture(void)
{
	struct famrt_err e;

	for (size_t i = 1; i < NFIX; i++) {
		const struct fixture *f = &fixture[i];
		struct famrt_alloc_layout lay = { 0 };
		int rc;

		lay.kind = f->interleave ? FAMRT_LAYOUT_INTERLEAVE :
					   FAMRT_LAYOUT_SIMPLE;
		if (f->dir)
			rc = famrt_fs_mkdir(g.d.fs, f->path, f->mode, f->uid,
					    f->gid, NULL, &e);
		else
			rc = famrt_fs_create(g.d.fs, f->path, f->mode, f->uid,
					     f->gid, f->size, &lay, NULL, &e);
		if (rc)
			die(f->path, e.msg);
	}
	for (size_t i = 0; i < NFIX; i++) {
		int rc;
		const struct famrt_node *n = famrt_fs_lookup(g.d.fs,
							     fixture[i].path,
							     &rc, &e);

		if (!n)
			die(fixture[i].path, e.msg);
		g.ino[i] = n->ino;
	}
}

static uint64_t free_bytes(void)
{
	struct famrt_alloc_stats st;

	famrt_alloc_get_stats(g.d.fs->alloc, &st);
	return st.free;
}

static void init(void)
{
	struct famrt_mkfs_opts mo = { .name = "fuzz", .alloc_unit = UNIT,
				      .log_size = LOG_SIZE, .master = HOST };
	char paths[2][32];
	const char *pp[2];
	struct famrt_sb sb;
	struct famrt_err e;

	for (int i = 0; i < 2; i++) {
		g.memfd[i] = memfd_create("famrtd-fuzz-dev", MFD_CLOEXEC);
		if (g.memfd[i] < 0 || ftruncate(g.memfd[i], DEV_SIZE))
			die("memfd", strerror(errno));
		snprintf(paths[i], sizeof(paths[i]), "/proc/self/fd/%d",
			 g.memfd[i]);
		pp[i] = paths[i];
	}
	g.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (g.devnull < 0)
		die("/dev/null", strerror(errno));
	snprintf(g.spec, sizeof(g.spec), "%s,%s", paths[0], paths[1]);
	if (famrt_mkfs(pp, 2, &mo, NULL, &e))
		die("mkfs", e.msg);
	g.dev0 = mmap(NULL, DEV_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g.memfd[0], 0);
	if (g.dev0 == MAP_FAILED)
		die("mmap", strerror(errno));
	if (famrt_sb_decode(g.dev0, &sb, &e))
		die("superblock", e.msg);
	g.meta_len = sb.log_offset + sb.log_size;
	g.saved = malloc(g.meta_len);
	if (!g.saved)
		die("malloc", "out of memory");
	open_service();
	make_fixture();
	memcpy(g.saved, g.dev0, g.meta_len);
	g.next_seq = g.d.fs->next_seq;
	g.free = free_bytes();
	g.ready = true;
}

/* The connection goes away: its unfinished files are dropped (quietly). */
static void end_session(void)
{
	if (g.sess.ngrows) {
		int saved;

		fflush(stderr);
		saved = dup(2);
		dup2(g.devnull, 2);
		famrtd_session_end(&g.d, &g.sess);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
	}
	FUZZ_CHECK(g.sess.ngrows == 0 && g.d.grows == NULL);
	g.nbegun = 0;
	g.d.next_handle = 0; /* the same handles for the same inputs */
}

/* Put the file system back as the fixture made it. */
static void restore(void)
{
	end_session();
	famrtd_close(&g.d);
	memcpy(g.dev0, g.saved, g.meta_len);
	open_service();
	FUZZ_CHECK(g.d.fs->next_seq == g.next_seq);
	FUZZ_CHECK(free_bytes() == g.free);
}

static int fixture_by_ino(uint64_t ino)
{
	for (size_t i = 0; i < NFIX; i++)
		if (g.ino[i] == ino)
			return (int)i;
	return -1;
}

static int fixture_by_path(const char *p, size_t n)
{
	for (size_t i = 0; i < NFIX; i++)
		if (strlen(fixture[i].path) == n &&
		    !memcmp(fixture[i].path, p, n))
			return (int)i;
	return -1;
}

static bool may(unsigned mask, int who)
{
	return mask & (1u << who);
}

/* The attributes in a reply are those of the node they name. */
static const struct famrt_node *check_attr(const uint8_t *body, size_t blen,
					   struct famrt_proto_attr *a)
{
	const struct famrt_node *n;

	FUZZ_CHECK(famrt_proto_attr_get(body, blen, a, NULL) == 0);
	n = famrt_ns_by_ino(g.d.fs->ns, a->ino);
	FUZZ_CHECK(n != NULL);
	FUZZ_CHECK(a->mode == n->mode && a->uid == n->uid &&
		   a->gid == n->gid && a->size == n->size &&
		   a->parent == n->parent);
	return n;
}

static void check_fmap(const uint8_t *msg, size_t len, uint64_t size)
{
	uint64_t sizes[FAMRT_MAX_DEVS], aligns[FAMRT_MAX_DEVS];
	struct famrt_fmap_limits lim;
	struct famrt_fmap *map;

	famrt_fs_fmap_limits(g.d.fs, &lim, sizes, aligns);
	FUZZ_CHECK(famrt_fmap_decode(msg, len, &lim, &map, NULL) == 0);
	FUZZ_CHECK(famrt_fmap_file_size(map) == size);
	famrt_fmap_free(map);
}

struct listing {
	uint64_t dir;
	uint32_t count;
	uint64_t seen; /* fixture indexes seen */
};

static int list_one(const struct famrt_proto_dirent *de, void *arg)
{
	struct listing *l = arg;
	int i = fixture_by_ino(de->ino);

	/* Only fixture objects exist; each child of the directory once. */
	FUZZ_CHECK(i > 0);
	FUZZ_CHECK(famrt_ns_by_ino(g.d.fs->ns, de->ino)->parent == l->dir);
	FUZZ_CHECK(!(l->seen & (1ull << i)));
	l->seen |= 1ull << i;
	l->count++;
	return 0;
}

static uint32_t children_of(int dir)
{
	uint32_t n = 0;

	for (size_t i = 1; i < NFIX; i++) {
		const char *p = fixture[i].path, *slash = strrchr(p, '/');
		size_t plen = (size_t)(slash - p);

		if (dir == 0 ? plen == 0 :
			       plen == strlen(fixture[dir].path) &&
				       !memcmp(p, fixture[dir].path, plen))
			n++;
	}
	return n;
}

/* The directory a new path goes in: a fixture directory `who` may write. */
static int check_parent(int who, const char *path, size_t plen)
{
	const char *slash = memrchr(path, '/', plen);
	int parent = fixture_by_path(path, slash == path ? 1 :
					   (size_t)(slash - path));

	FUZZ_CHECK(fixture_by_path(path, plen) < 0);
	FUZZ_CHECK(parent >= 0 && fixture[parent].dir);
	FUZZ_CHECK(may(fixture[parent].write, who));
	FUZZ_CHECK(may(fixture[parent].reach, who));
	return parent;
}

/*
 * A successful CREATE, MKDIR or COMMIT made n: in the right place, whose,
 * as asked, with a valid map, by one log entry that replays cleanly.
 */
static void check_new(int who, const char *path, size_t plen, bool file,
		      uint32_t mode, uint64_t size, const struct famrt_node *n)
{
	int parent = check_parent(who, path, plen);
	const char *paths[2] = { g.d.paths[0], g.d.paths[1] };
	struct famrt_fs_opts o = { .host_id = HOST, .readonly = true };
	struct famrt_fs *fs;
	int rc;

	FUZZ_CHECK(famrt_ns_lookup(g.d.fs->ns, path, plen, &rc, NULL) == n);
	FUZZ_CHECK(n->parent == g.ino[parent]);
	FUZZ_CHECK(n->uid == creds[who].uid);
	FUZZ_CHECK(n->gid == ((fixture[parent].mode & S_ISGID) ?
				      fixture[parent].gid :
				      creds[who].gid));
	FUZZ_CHECK(n->mode == ((file ? S_IFREG : S_IFDIR) | mode));
	FUZZ_CHECK(g.d.fs->next_seq == g.next_seq + 1);
	if (file) {
		struct famrt_proto_hdr h;
		bool close_after;
		int fds[FAMRT_MAX_DEVS], nfds;
		ssize_t k = famrt_proto_ino_req_encode(g.req2, sizeof(g.req2),
						       FAMRT_OP_GET_FMAP, 9,
						       n->ino);
		size_t r;

		FUZZ_CHECK(n->size == size);
		/* Its map, as root: valid, of the size asked. */
		FUZZ_CHECK(k > 0);
		r = famrtd_handle(&g.d, &creds[C_ROOT], g.req2, (size_t)k,
				  g.out2, sizeof(g.out2), fds, &nfds,
				  &close_after);
		FUZZ_CHECK(famrt_proto_hdr_decode(g.out2, r, &h, NULL) == 0);
		FUZZ_CHECK(h.status == 0 && nfds == 0 && !close_after);
		check_fmap(g.out2 + FAMRT_PROTO_HDR_SIZE,
			   r - FAMRT_PROTO_HDR_SIZE, size);
	}
	/* The log replays cleanly with the new entry. */
	FUZZ_CHECK(famrt_fs_open(&fs, paths, 2, &o, NULL) == 0);
	FUZZ_CHECK(fs->damage == 0 && fs->nskipped == 0);
	FUZZ_CHECK(fs->next_seq == g.next_seq + 1);
	famrt_fs_close(fs);
}

static struct begun *find_begun(uint64_t handle)
{
	for (unsigned i = 0; i < g.nbegun; i++)
		if (g.begun[i].handle == handle)
			return &g.begun[i];
	return NULL;
}

static void check_devices(int who, const uint8_t *body, size_t blen,
			  const int *fds, int nfds)
{
	struct famrt_proto_devices_rep rep;
	uint32_t want;
	int k = 0;

	FUZZ_CHECK(famrt_proto_devices_get(body, blen, &rep, NULL) == 0);
	FUZZ_CHECK(rep.ndevs == 2);
	if (creds[who].uid == 0 || creds[who].uid == geteuid())
		want = FAMRT_DEV_ACCESS_RW;
	else if (who == C_GROUP)
		want = FAMRT_DEV_ACCESS_RO;
	else
		want = FAMRT_DEV_ACCESS_NONE;
	for (uint32_t i = 0; i < rep.ndevs; i++) {
		FUZZ_CHECK(rep.dev[i].access == want);
		FUZZ_CHECK(rep.dev[i].size == DEV_SIZE);
		if (want == FAMRT_DEV_ACCESS_NONE)
			continue;
		FUZZ_CHECK(k < nfds);
		FUZZ_CHECK(fds[k++] == (want == FAMRT_DEV_ACCESS_RW ?
						g.d.fs->dev[i].fd :
						g.d.ro_fd[i]));
	}
	FUZZ_CHECK(k == nfds);
}

/* The rules of the operations this target knows, for a decoded request. */
static void check_op(int who, const struct famrt_proto_req *q,
		     const struct famrt_proto_hdr *h, const uint8_t *body,
		     size_t blen, const int *fds, int nfds)
{
	const struct famrt_node *nd;
	struct famrt_proto_attr a;
	struct begun *b;
	uint64_t next;
	int fi;

	switch (q->hdr.op) {
	case FAMRT_OP_HELLO:
		if (!h->status) {
			struct famrt_proto_hello_rep hr;

			FUZZ_CHECK(famrt_proto_hello_get(body, blen, &hr,
							 NULL) == 0);
			FUZZ_CHECK(hr.ndevs == 2);
		}
		break;
	case FAMRT_OP_DEVICES:
		FUZZ_CHECK(h->status == 0);
		check_devices(who, body, blen, fds, nfds);
		break;
	case FAMRT_OP_STATFS: {
		struct famrt_proto_statfs_rep st;

		FUZZ_CHECK(h->status == 0);
		FUZZ_CHECK(famrt_proto_statfs_get(body, blen, &st, NULL) == 0);
		FUZZ_CHECK(st.ndevs == 2 && st.free < st.size);
		break;
	}
	case FAMRT_OP_LOOKUP:
		fi = fixture_by_path(q->u.path.path, q->u.path.path_len);
		FUZZ_CHECK(!h->status ==
			   (fi >= 0 && may(fixture[fi].reach, who)));
		if (!h->status) {
			check_attr(body, blen, &a);
			FUZZ_CHECK(a.ino == g.ino[fi]);
		}
		break;
	case FAMRT_OP_OPEN: {
		uint32_t acc = q->u.path.access;
		const uint8_t *fm;
		size_t fmlen;

		fi = fixture_by_path(q->u.path.path, q->u.path.path_len);
		FUZZ_CHECK(!h->status ==
			   (fi >= 0 && may(fixture[fi].reach, who) &&
			    (!(acc & FAMRT_OPEN_READ) ||
			     may(fixture[fi].read, who)) &&
			    (!(acc & FAMRT_OPEN_WRITE) ||
			     (!fixture[fi].dir && may(fixture[fi].write, who)))));
		if (h->status)
			break;
		FUZZ_CHECK(famrt_proto_open_get(body, blen, &a, &fm, &fmlen,
						NULL) == 0);
		FUZZ_CHECK(a.ino == g.ino[fi]);
		nd = famrt_ns_by_ino(g.d.fs->ns, a.ino);
		FUZZ_CHECK(fmlen == nd->fmap_len);
		if (fmlen) {
			FUZZ_CHECK(!memcmp(fm, nd->fmap_msg, fmlen));
			check_fmap(fm, fmlen, fixture[fi].size);
		}
		break;
	}
	case FAMRT_OP_GETATTR:
		fi = fixture_by_ino(q->u.ino.ino);
		FUZZ_CHECK(!h->status ==
			   (fi >= 0 && may(fixture[fi].reach, who)));
		if (!h->status)
			check_attr(body, blen, &a);
		break;
	case FAMRT_OP_GET_FMAP:
		fi = fixture_by_ino(q->u.ino.ino);
		FUZZ_CHECK(!h->status ==
			   (fi >= 0 && !fixture[fi].dir &&
			    may(fixture[fi].reach, who) &&
			    may(fixture[fi].read, who)));
		if (!h->status) {
			nd = famrt_ns_by_ino(g.d.fs->ns, q->u.ino.ino);
			FUZZ_CHECK(blen == nd->fmap_len &&
				   !memcmp(body, nd->fmap_msg, blen));
			check_fmap(body, blen, fixture[fi].size);
		}
		break;
	case FAMRT_OP_READDIR:
		fi = fixture_by_ino(q->u.readdir.ino);
		FUZZ_CHECK(!h->status ==
			   (fi >= 0 && fixture[fi].dir &&
			    may(fixture[fi].reach, who) &&
			    may(fixture[fi].read, who)));
		if (!h->status) {
			struct listing l = { .dir = q->u.readdir.ino };

			FUZZ_CHECK(famrt_proto_readdir_get(body, blen, &next,
							   list_one, &l,
							   NULL) == 0);
			/* From the start, room for all: all. */
			if (q->u.readdir.cookie == 0 &&
			    (q->u.readdir.max == 0 ||
			     q->u.readdir.max > children_of(fi)))
				FUZZ_CHECK(l.count == children_of(fi) &&
					   next == UINT64_MAX);
			if (q->u.readdir.max)
				FUZZ_CHECK(l.count <= q->u.readdir.max);
		}
		break;
	case FAMRT_OP_CREATE:
		if (!h->status) {
			nd = check_attr(body, blen, &a);
			check_new(who, q->u.create.path, q->u.create.path_len,
				  true, q->u.create.mode, q->u.create.size, nd);
		}
		break;
	case FAMRT_OP_MKDIR:
		if (!h->status) {
			nd = check_attr(body, blen, &a);
			check_new(who, q->u.mkdir.path, q->u.mkdir.path_len,
				  false, q->u.mkdir.mode, 0, nd);
		}
		break;
	case FAMRT_OP_BEGIN:
		if (h->status)
			break;
		check_parent(who, q->u.mkdir.path, q->u.mkdir.path_len);
		FUZZ_CHECK(blen == 8);
		FUZZ_CHECK(!find_begun(famrt_le64_get(body)));
		FUZZ_CHECK(g.nbegun < sizeof(g.begun) / sizeof(g.begun[0]));
		b = &g.begun[g.nbegun++];
		b->handle = famrt_le64_get(body);
		memcpy(b->path, q->u.mkdir.path, q->u.mkdir.path_len);
		b->path[q->u.mkdir.path_len] = '\0';
		b->who = who;
		b->mode = q->u.mkdir.mode;
		break;
	case FAMRT_OP_ALLOC:
		b = find_begun(q->u.alloc.handle);
		if (!b)
			FUZZ_CHECK(h->status == -EBADF);
		if (!h->status) {
			struct famrt_fmap_strip x[FAMRT_PROTO_ALLOC_MAX_EXT];
			uint64_t got = 0;
			uint32_t nx;

			FUZZ_CHECK(famrt_proto_extents_get(body, blen, x, &nx,
							   NULL) == 0);
			for (uint32_t i = 0; i < nx; i++) {
				FUZZ_CHECK(x[i].devindex < 2);
				FUZZ_CHECK(x[i].offset % UNIT == 0 &&
					   x[i].len % UNIT == 0);
				FUZZ_CHECK(x[i].offset + x[i].len <= DEV_SIZE &&
					   x[i].offset < x[i].offset + x[i].len);
				got += x[i].len;
			}
			FUZZ_CHECK(got >= q->u.alloc.bytes);
		}
		break;
	case FAMRT_OP_COMMIT:
		b = find_begun(q->u.commit.handle);
		if (!b) {
			FUZZ_CHECK(h->status == -EBADF);
			break;
		}
		if (!h->status) {
			nd = check_attr(body, blen, &a);
			check_new(b->who, b->path, strlen(b->path), true,
				  q->u.commit.mode == FAMRT_COMMIT_KEEP_MODE ?
					  b->mode :
					  q->u.commit.mode,
				  q->u.commit.size, nd);
			*b = g.begun[--g.nbegun];
		}
		break;
	case FAMRT_OP_ABORT:
		b = find_begun(q->u.ino.ino);
		FUZZ_CHECK(!h->status == (b != NULL));
		if (b)
			*b = g.begun[--g.nbegun];
		break;
	}
}

/* One request on the connection, and every check of its reply. */
static void one_request(int who, bool nosess, const uint8_t *req, size_t len)
{
	struct famrt_proto_req q;
	struct famrt_proto_hdr h;
	struct famrt_err e;
	int fds[FAMRT_MAX_DEVS + 1], nfds = -1, drc;
	bool close_after = false, readable, mutating;
	const uint8_t *body;
	size_t n, blen;

	readable = len >= FAMRT_PROTO_HDR_SIZE &&
		   famrt_le32_get(req) == FAMRT_PROTO_MAGIC;
	drc = famrt_proto_req_decode(req, len, &q, &e);

	if (nosess)
		n = famrtd_handle(&g.d, &creds[who], req, len, g.out,
				  sizeof(g.out), fds, &nfds, &close_after);
	else
		n = famrtd_handle_session(&g.d, &g.sess, &creds[who], req, len,
					  g.out, sizeof(g.out), fds, &nfds,
					  &close_after);

	/* One well-formed reply. */
	FUZZ_CHECK(n >= FAMRT_PROTO_HDR_SIZE && n <= FAMRT_PROTO_MSG_MAX);
	FUZZ_CHECK(famrt_proto_hdr_decode(g.out, n, &h, NULL) == 0);
	FUZZ_CHECK(h.flags == FAMRT_PROTO_FLAG_REPLY && h.length == n);
	FUZZ_CHECK(h.status <= 0 && h.status >= -4095);
	FUZZ_CHECK(nfds >= 0 && nfds <= (int)FAMRT_MAX_DEVS);
	if (readable) {
		FUZZ_CHECK(h.op == famrt_le16_get(req + 6));
		FUZZ_CHECK(h.req_id == famrt_le64_get(req + 16));
	}
	body = g.out + FAMRT_PROTO_HDR_SIZE;
	blen = n - FAMRT_PROTO_HDR_SIZE;
	if (h.status < 0) {
		char msg[FAMRT_PROTO_ERRMSG_MAX];

		FUZZ_CHECK(famrt_proto_error_get(body, blen, msg,
						 sizeof(msg)) == 0);
		FUZZ_CHECK(msg[0] != '\0');
		FUZZ_CHECK(nfds == 0);
	}
	/* Refused by the decoder: its error; closed iff untrustworthy. */
	if (drc) {
		FUZZ_CHECK(h.status == drc);
		FUZZ_CHECK(close_after == (drc == -EPROTO || drc == -EMSGSIZE));
	} else {
		FUZZ_CHECK(!close_after);
	}
	if (!readable)
		FUZZ_CHECK(close_after);
	if (nfds)
		FUZZ_CHECK(!drc && q.hdr.op == FAMRT_OP_DEVICES &&
			   h.status == 0);

	if (!drc && nosess && q.hdr.op >= FAMRT_OP_BEGIN &&
	    q.hdr.op <= FAMRT_OP_ABORT)
		FUZZ_CHECK(h.status == -EOPNOTSUPP);
	else if (!drc && q.hdr.op <= FAMRT_OP_ABORT)
		check_op(who, &q, &h, body, blen, fds, nfds);

	/* Only a good CREATE, MKDIR, COMMIT (or newer op) changes the log. */
	mutating = !drc && !h.status &&
		   (q.hdr.op == FAMRT_OP_CREATE || q.hdr.op == FAMRT_OP_MKDIR ||
		    q.hdr.op == FAMRT_OP_COMMIT);
	if (g.d.fs->next_seq != g.next_seq) {
		FUZZ_CHECK(mutating || (!drc && !h.status &&
					q.hdr.op > FAMRT_OP_ABORT));
		restore();
	} else {
		FUZZ_CHECK(!mutating);
		if (!drc && !h.status && q.hdr.op > FAMRT_OP_ABORT)
			restore(); /* it may hold state of its own */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool nosess;
	int who;

	if (!g.ready)
		init();
	if (size < 1)
		return 0;
	who = data[0] % NCREDS;
	nosess = data[0] & 8;
	if (!(data[0] & 4)) {
		one_request(who, nosess, data + 1, size - 1);
	} else {
		size_t off = 1;

		for (int i = 0; i < 8 && off < size; i++) {
			size_t len = size - off;
			uint8_t *req;

			if (len >= 2) {
				size_t want = famrt_le16_get(data + off);

				off += 2;
				len = want < size - off ? want : size - off;
			} else {
				off = size;
				len = 0;
			}
			/* Exactly its size, so ASan sees a read past it. */
			req = malloc(len ? len : 1);
			FUZZ_CHECK(req != NULL);
			memcpy(req, data + off, len);
			one_request(who, nosess, req, len);
			free(req);
			off += len;
		}
	}
	/* The connection goes: unfinished files drop, space comes back. */
	end_session();
	FUZZ_CHECK(free_bytes() == g.free);
	return 0;
}
