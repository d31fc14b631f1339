/* SPDX-License-Identifier: Apache-2.0 */
/*
 * famrtd request handling: decode, check permissions, act, reply. No
 * sockets here, so tests and the fuzzer drive it directly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "famrtd.h"
#include "proto/client.h"

void famrtd_log(const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ famrtd[%d]: %s\n",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(),
		line);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int split_spec(struct famrtd *d, const char *spec, struct famrt_err *e)
{
	char *copy = strdup(spec), *save = NULL, *tok;

	if (!copy)
		return famrt_err_set(e, ENOMEM, "out of memory");
	d->paths = calloc(FAMRT_MAX_DEVS, sizeof(*d->paths));
	if (!d->paths) {
		free(copy);
		return famrt_err_set(e, ENOMEM, "out of memory");
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (d->npaths == FAMRT_MAX_DEVS) {
			free(copy);
			return famrt_err_set(e, EINVAL,
					     "more than %u devices in '%s'",
					     FAMRT_MAX_DEVS, spec);
		}
		d->paths[d->npaths] = strdup(tok);
		if (!d->paths[d->npaths++]) {
			free(copy);
			return famrt_err_set(e, ENOMEM, "out of memory");
		}
	}
	free(copy);
	if (!d->npaths)
		return famrt_err_set(e, EINVAL,
				     "no devices in file system spec '%s'",
				     spec);
	return 0;
}

int famrtd_open(struct famrtd *d, const struct famrtd_config *cfg,
		struct famrt_err *e)
{
	struct famrt_fs_opts o = { .host_id = cfg->host_id };
	int rc;

	memset(d, 0, sizeof(*d));
	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++)
		d->ro_fd[i] = -1;
	d->cfg = *cfg;
	d->self_uid = geteuid();
	rc = split_spec(d, cfg->fs_spec, e);
	if (rc)
		return rc;
	rc = famrt_fs_open(&d->fs, (const char *const *)d->paths, d->npaths,
			   &o, e);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < d->npaths; i++) {
		d->ro_fd[i] = open(d->paths[i], O_RDONLY | O_CLOEXEC);
		if (d->ro_fd[i] < 0)
			return famrt_err_set(e, errno,
					     "cannot open '%s' read-only: %s",
					     d->paths[i], strerror(errno));
	}
	return 0;
}

void famrtd_close(struct famrtd *d)
{
	famrt_fs_close(d->fs);
	d->fs = NULL;
	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++)
		if (d->ro_fd[i] >= 0)
			close(d->ro_fd[i]);
	for (uint32_t i = 0; i < d->npaths; i++)
		free(d->paths[i]);
	free(d->paths);
	d->paths = NULL;
}

int famrtd_follow(struct famrtd *d)
{
	struct famrt_err e;
	uint64_t n = 0, now;
	int rc = famrt_fs_follow(d->fs, &n, &e);

	if (rc) {
		static uint64_t last_err_ns;

		now = mono_ns();
		if (now - last_err_ns > 1000000000ull) {
			famrtd_log("follow: %s", e.msg);
			last_err_ns = now;
		}
		return rc;
	}
	if (n) {
		d->followed += n;
		d->pending_followed += n;
	}
	now = mono_ns();
	if (d->pending_followed && now - d->last_follow_log_ns > 1000000000ull) {
		famrtd_log("followed %llu new log entries (now at entry %llu, "
			   "%llu files, %llu directories)",
			   (unsigned long long)d->pending_followed,
			   (unsigned long long)(d->fs->next_seq - 1),
			   (unsigned long long)famrt_ns_nfiles(d->fs->ns),
			   (unsigned long long)famrt_ns_ndirs(d->fs->ns));
		d->pending_followed = 0;
		d->last_follow_log_ns = now;
	}
	return 0;
}

/* ---- permissions ---- */

static bool in_group(const struct famrtd_cred *c, gid_t g)
{
	if (c->gid == g)
		return true;
	for (uint32_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return true;
	return false;
}

/* mask: 4 read, 2 write, 1 search/execute, as in access(2). */
static bool may(const struct famrt_node *n, const struct famrtd_cred *c,
		unsigned mask)
{
	unsigned bits;

	if (c->uid == 0)
		return !(mask & 1) || S_ISDIR(n->mode) || (n->mode & 0111);
	if (c->uid == n->uid)
		bits = (n->mode >> 6) & 7;
	else if (in_group(c, n->gid))
		bits = (n->mode >> 3) & 7;
	else
		bits = n->mode & 7;
	return (bits & mask) == mask;
}

static int deny(struct famrt_err *e, const struct famrtd *d,
		const struct famrt_node *n, const char *what)
{
	char path[FAMRT_PATH_MAX + 1];

	if (famrt_ns_path(d->fs->ns, n, path, sizeof(path)) < 0)
		snprintf(path, sizeof(path), "inode %llu",
			 (unsigned long long)n->ino);
	return famrt_err_set(e, EACCES,
			     "%s '%s': permission denied (mode 0%o, owner "
			     "%u:%u)",
			     what, path, n->mode & 07777, n->uid, n->gid);
}

/* Every directory above n must be searchable. */
static int check_ancestors(const struct famrtd *d, const struct famrt_node *n,
			   const struct famrtd_cred *c, struct famrt_err *e)
{
	const struct famrt_node *p = n;

	for (uint32_t depth = 0; p->ino != FAMRT_ROOT_INO; depth++) {
		p = famrt_ns_by_ino(d->fs->ns, p->parent);
		if (!p || depth > FAMRT_PATH_MAX)
			return famrt_err_set(e, EIO,
					     "inode %llu has no path to the root",
					     (unsigned long long)n->ino);
		if (!may(p, c, 1))
			return deny(e, d, p, "search");
	}
	return 0;
}

/*
 * Walk path as cred, checking search permission on every directory.
 * With parent_only, stop at the parent of the last component.
 */
static int walk(const struct famrtd *d, const char *path, size_t len,
		const struct famrtd_cred *c, bool parent_only,
		const struct famrt_node **out, struct famrt_err *e)
{
	const struct famrt_ns *ns = d->fs->ns;
	const struct famrt_node *cur = famrt_ns_root(ns);
	size_t i = 1;
	int rc = famrt_path_check(path, len, e);

	if (rc)
		return rc;
	while (i < len) {
		size_t s = i;
		const struct famrt_node *next;

		while (i < len && path[i] != '/')
			i++;
		if (parent_only && i == len)
			break;
		if (!S_ISDIR(cur->mode))
			return famrt_err_set(e, ENOTDIR,
					     "'%.*s' is not a directory",
					     (int)(s - 1), path);
		if (!may(cur, c, 1))
			return deny(e, d, cur, "search");
		next = famrt_ns_child(ns, cur->ino, path + s, i - s);
		if (!next)
			return famrt_err_set(e, ENOENT, "'%.*s' does not exist",
					     (int)i, path);
		cur = next;
		i++;
	}
	*out = cur;
	return 0;
}

static void attr_of(const struct famrt_node *n, struct famrt_proto_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = n->ino;
	a->parent = n->parent;
	a->mode = n->mode;
	a->uid = n->uid;
	a->gid = n->gid;
	a->nlink = n->nlink;
	a->size = n->size;
	a->mtime_ns = n->mtime_ns;
	if (n->fmap) {
		uint32_t ne = famrt_fmap_nextents(n->fmap);
		struct famrt_fmap_extent x;

		for (uint32_t i = 0; i < ne; i++) {
			if (famrt_fmap_get_extent(n->fmap, i, &x))
				continue;
			for (uint32_t j = 0; j < x.nstrips; j++)
				a->alloc_bytes += x.strips[j].len;
		}
	}
}

/* ---- replies ---- */

struct reply {
	struct famrt_msg m;
	struct famrt_proto_hdr h;
};

static void reply_start(struct reply *r, uint8_t *out, size_t cap,
			const struct famrt_proto_hdr *req)
{
	famrt_msg_init(&r->m, out, cap);
	r->h = (struct famrt_proto_hdr){ .version = FAMRT_PROTO_VERSION,
					 .op = req->op,
					 .flags = FAMRT_PROTO_FLAG_REPLY,
					 .req_id = req->req_id };
}

static size_t error_reply(uint8_t *out, size_t cap,
			  const struct famrt_proto_hdr *req, int status,
			  const char *msg)
{
	ssize_t n = famrt_proto_error_encode(out, cap, req->op, req->req_id,
					     status, msg);

	return n > 0 ? (size_t)n : 0;
}

static int op_hello(struct famrtd *d, struct reply *r)
{
	struct famrt_proto_hello_rep h;
	const struct famrt_fs *fs = d->fs;

	memset(&h, 0, sizeof(h));
	h.version = FAMRT_PROTO_VERSION;
	h.flags = (fs->is_master ? FAMRT_HELLO_MASTER : 0) |
		  (fs->sb.flags & FAMRT_SB_NONCOHERENT ?
			   FAMRT_HELLO_NONCOHERENT :
			   0);
	h.server_pid = (uint32_t)getpid();
	h.ndevs = fs->ndevs;
	h.alloc_unit = fs->sb.alloc_unit;
	memcpy(h.fs_uuid, fs->sb.uuid, 16);
	snprintf(h.fs_name, sizeof(h.fs_name), "%s", fs->sb.name);
	snprintf(h.host_id, sizeof(h.host_id), "%s", fs->host_id);
	snprintf(h.master, sizeof(h.master), "%s", fs->sb.master);
	famrt_proto_hello_put(&r->m, &h);
	return 0;
}

static uint32_t access_of(const struct famrtd *d, const struct famrtd_cred *c)
{
	if (c->uid == 0 || c->uid == d->self_uid ||
	    (d->cfg.have_rw_group && in_group(c, d->cfg.rw_group)))
		return FAMRT_DEV_ACCESS_RW;
	if (d->cfg.have_ro_group && in_group(c, d->cfg.ro_group))
		return FAMRT_DEV_ACCESS_RO;
	return FAMRT_DEV_ACCESS_NONE;
}

static int op_devices(struct famrtd *d, const struct famrtd_cred *c,
		      struct reply *r, int *fds, int *nfds)
{
	struct famrt_proto_devices_rep rep;
	const struct famrt_fs *fs = d->fs;
	uint32_t acc = access_of(d, c);

	memset(&rep, 0, sizeof(rep));
	rep.ndevs = fs->ndevs;
	*nfds = 0;
	for (uint32_t i = 0; i < fs->ndevs; i++) {
		struct famrt_proto_dev *v = &rep.dev[i];
		const struct famrt_dev *dv = &fs->dev[i];
		uint32_t a = acc;

		v->index = i;
		v->size = fs->devs[i].size;
		v->align = fs->devs[i].align;
		v->numa_node = i < fs->nopen ? dv->numa_node : -1;
		memcpy(v->uuid, fs->devs[i].uuid, 16);
		/* A device the log added but this host lacks: none. */
		if (i >= fs->nopen || dv->fd < 0)
			a = FAMRT_DEV_ACCESS_NONE;
		if (a == FAMRT_DEV_ACCESS_RW && !dv->writable)
			a = FAMRT_DEV_ACCESS_RO;
		if (a == FAMRT_DEV_ACCESS_RO && d->ro_fd[i] < 0)
			a = FAMRT_DEV_ACCESS_NONE;
		v->access = a;
		if (a == FAMRT_DEV_ACCESS_RW)
			fds[(*nfds)++] = dv->fd;
		else if (a == FAMRT_DEV_ACCESS_RO)
			fds[(*nfds)++] = d->ro_fd[i];
	}
	famrt_proto_devices_put(&r->m, &rep);
	return 0;
}

static int op_lookup(struct famrtd *d, const struct famrtd_cred *c,
		     const struct famrt_proto_req *q, struct reply *r,
		     struct famrt_err *e)
{
	const struct famrt_node *n;
	struct famrt_proto_attr a;
	int rc = walk(d, q->u.path.path, q->u.path.path_len, c, false, &n, e);

	if (rc)
		return rc;
	attr_of(n, &a);
	famrt_proto_attr_put(&r->m, &a);
	return 0;
}

static int op_open(struct famrtd *d, const struct famrtd_cred *c,
		   const struct famrt_proto_req *q, struct reply *r,
		   struct famrt_err *e)
{
	const struct famrt_proto_path_req *rq = &q->u.path;
	const struct famrt_node *n;
	struct famrt_proto_attr a;
	int rc = walk(d, rq->path, rq->path_len, c, false, &n, e);

	if (rc)
		return rc;
	if ((rq->access & FAMRT_OPEN_READ) && !may(n, c, 4))
		return deny(e, d, n, "read");
	if (rq->access & FAMRT_OPEN_WRITE) {
		if (!n->fmap)
			return famrt_err_set(e, EISDIR,
					     "'%.*s' is a directory",
					     (int)rq->path_len, rq->path);
		if (!may(n, c, 2))
			return deny(e, d, n, "write");
	}
	attr_of(n, &a);
	famrt_proto_attr_put(&r->m, &a);
	if (n->fmap)
		famrt_msg_bytes(&r->m, n->fmap_msg, n->fmap_len);
	return 0;
}

static int node_for(struct famrtd *d, uint64_t ino,
		    const struct famrtd_cred *c, const struct famrt_node **out,
		    struct famrt_err *e)
{
	const struct famrt_node *n = famrt_ns_by_ino(d->fs->ns, ino);

	if (!n)
		return famrt_err_set(e, ENOENT, "no inode %llu",
				     (unsigned long long)ino);
	*out = n;
	return check_ancestors(d, n, c, e);
}

static int op_getattr(struct famrtd *d, const struct famrtd_cred *c,
		      const struct famrt_proto_req *q, struct reply *r,
		      struct famrt_err *e)
{
	const struct famrt_node *n;
	struct famrt_proto_attr a;
	int rc = node_for(d, q->u.ino.ino, c, &n, e);

	if (rc)
		return rc;
	attr_of(n, &a);
	famrt_proto_attr_put(&r->m, &a);
	return 0;
}

struct rd_state {
	struct famrt_msg *m;
	uint32_t count;
};

static int rd_one(const struct famrt_node *n, void *arg)
{
	struct rd_state *s = arg;
	struct famrt_proto_dirent de = { .ino = n->ino, .mode = n->mode,
					 .name_len = n->name_len,
					 .name = n->name };

	famrt_proto_dirent_put(s->m, &de);
	s->count++;
	return 0;
}

static int op_readdir(struct famrtd *d, const struct famrtd_cred *c,
		      const struct famrt_proto_req *q, struct reply *r,
		      struct famrt_err *e)
{
	const struct famrt_proto_readdir_req *rq = &q->u.readdir;
	const struct famrt_node *n;
	struct rd_state s = { .m = &r->m };
	uint32_t max = rq->max;
	uint64_t next;
	size_t head;
	int rc = node_for(d, rq->ino, c, &n, e);

	if (rc)
		return rc;
	if (!S_ISDIR(n->mode))
		return famrt_err_set(e, ENOTDIR, "inode %llu is not a directory",
				     (unsigned long long)rq->ino);
	if (!may(n, c, 4))
		return deny(e, d, n, "list");
	/* READDIR_MAX entries of the longest name always fit a reply. */
	if (!max || max > FAMRT_PROTO_READDIR_MAX)
		max = FAMRT_PROTO_READDIR_MAX;
	head = r->m.len;
	famrt_msg_u64(&r->m, 0); /* next cookie, filled below */
	famrt_msg_u32(&r->m, 0); /* count */
	famrt_msg_u32(&r->m, 0);
	next = famrt_ns_readdir(d->fs->ns, n, rq->cookie, max, rd_one, &s);
	{
		uint8_t *p = r->m.buf + head;

		for (int i = 0; i < 8; i++)
			p[i] = (uint8_t)(next >> (8 * i));
		for (int i = 0; i < 4; i++)
			p[8 + i] = (uint8_t)(s.count >> (8 * i));
	}
	return 0;
}

static int op_get_fmap(struct famrtd *d, const struct famrtd_cred *c,
		       const struct famrt_proto_req *q, struct reply *r,
		       struct famrt_err *e)
{
	const struct famrt_node *n;
	int rc = node_for(d, q->u.ino.ino, c, &n, e);

	if (rc)
		return rc;
	if (!n->fmap)
		return famrt_err_set(e, EISDIR, "inode %llu is a directory",
				     (unsigned long long)q->u.ino.ino);
	if (!may(n, c, 4))
		return deny(e, d, n, "read");
	famrt_msg_bytes(&r->m, n->fmap_msg, n->fmap_len);
	return 0;
}

/* Parent checks shared by create and mkdir; *gid gets the owner group. */
static int prepare_new(struct famrtd *d, const struct famrtd_cred *c,
		       const char *path, size_t len, gid_t *gid,
		       struct famrt_err *e)
{
	const struct famrt_node *p;
	int rc = walk(d, path, len, c, true, &p, e);

	if (rc)
		return rc;
	if (!S_ISDIR(p->mode))
		return famrt_err_set(e, ENOTDIR,
				     "the parent of '%.*s' is not a directory",
				     (int)len, path);
	if (!may(p, c, 3))
		return deny(e, d, p, "create in");
	*gid = (p->mode & S_ISGID) ? p->gid : c->gid;
	return 0;
}

static int reply_node(struct famrtd *d, const char *path, size_t len,
		      struct reply *r, struct famrt_err *e)
{
	const struct famrt_node *n;
	struct famrt_proto_attr a;
	int rc;

	n = famrt_ns_lookup(d->fs->ns, path, len, &rc, e);
	if (!n)
		return rc;
	attr_of(n, &a);
	famrt_proto_attr_put(&r->m, &a);
	return 0;
}

static int op_create(struct famrtd *d, const struct famrtd_cred *c,
		     const struct famrt_proto_req *q, struct reply *r,
		     struct famrt_err *e)
{
	const struct famrt_proto_create_req *rq = &q->u.create;
	struct famrt_alloc_layout lay;
	char path[FAMRT_PATH_MAX + 1];
	gid_t gid;
	int rc = prepare_new(d, c, rq->path, rq->path_len, &gid, e);

	if (rc)
		return rc;
	memset(&lay, 0, sizeof(lay));
	lay.kind = rq->layout ? FAMRT_LAYOUT_INTERLEAVE : FAMRT_LAYOUT_SIMPLE;
	lay.nstrips = rq->nstrips;
	lay.chunk = rq->chunk;
	lay.ndevs = rq->ndevs;
	memcpy(lay.devs, rq->devs, sizeof(lay.devs));
	memcpy(path, rq->path, rq->path_len);
	path[rq->path_len] = '\0';
	rc = famrt_fs_create(d->fs, path, rq->mode, c->uid, gid, rq->size, &lay,
			     NULL, e);
	if (rc)
		return rc;
	return reply_node(d, path, rq->path_len, r, e);
}

static int op_mkdir(struct famrtd *d, const struct famrtd_cred *c,
		    const struct famrt_proto_req *q, struct reply *r,
		    struct famrt_err *e)
{
	const struct famrt_proto_mkdir_req *rq = &q->u.mkdir;
	char path[FAMRT_PATH_MAX + 1];
	gid_t gid;
	int rc = prepare_new(d, c, rq->path, rq->path_len, &gid, e);

	if (rc)
		return rc;
	memcpy(path, rq->path, rq->path_len);
	path[rq->path_len] = '\0';
	rc = famrt_fs_mkdir(d->fs, path, rq->mode, c->uid, gid, NULL, e);
	if (rc)
		return rc;
	return reply_node(d, path, rq->path_len, r, e);
}

/*
 * chmod: the owner or root. chown: root; the owner may only change the
 * group, to one of their own groups (as chown(2) allows).
 */
static int op_setattr(struct famrtd *d, const struct famrtd_cred *c,
		      const struct famrt_proto_req *q, struct reply *r,
		      struct famrt_err *e)
{
	const struct famrt_proto_setattr_req *rq = &q->u.setattr;
	const uint32_t keep = FAMRT_SETATTR_KEEP;
	const struct famrt_node *n;
	char path[FAMRT_PATH_MAX + 1];
	struct famrt_proto_attr a;
	int rc = walk(d, rq->path, rq->path_len, c, false, &n, e);

	if (rc)
		return rc;
	if (c->uid != 0) {
		if (c->uid != n->uid)
			return famrt_err_set(e, EPERM,
					     "'%.*s' belongs to uid %u: only "
					     "its owner or root may change it",
					     (int)rq->path_len, rq->path,
					     n->uid);
		if (rq->uid != keep && rq->uid != n->uid)
			return famrt_err_set(e, EPERM,
					     "only root may give '%.*s' away",
					     (int)rq->path_len, rq->path);
		if (rq->gid != keep && rq->gid != n->gid &&
		    !in_group(c, rq->gid))
			return famrt_err_set(e, EPERM,
					     "you are not in group %u",
					     rq->gid);
	}
	memcpy(path, rq->path, rq->path_len);
	path[rq->path_len] = '\0';
	rc = famrt_fs_setattr(d->fs, path, rq->mode, rq->uid, rq->gid, &n, e);
	if (rc)
		return rc;
	attr_of(n, &a);
	famrt_proto_attr_put(&r->m, &a);
	return 0;
}

static int op_statfs(struct famrtd *d, struct reply *r)
{
	struct famrt_proto_statfs_rep s;
	struct famrt_alloc_stats st;
	const struct famrt_fs *fs = d->fs;

	famrt_alloc_get_stats(fs->alloc, &st);
	memset(&s, 0, sizeof(s));
	s.size = st.size;
	s.free = st.free;
	s.largest_free = st.largest_free;
	s.free_runs = st.free_runs;
	s.files = famrt_ns_nfiles(fs->ns);
	s.dirs = famrt_ns_ndirs(fs->ns);
	s.log_used = fs->pos;
	s.log_size = fs->sb.log_size;
	s.entries = fs->next_seq - 1;
	s.alloc_unit = fs->sb.alloc_unit;
	s.ndevs = fs->ndevs;
	famrt_proto_statfs_put(&r->m, &s);
	return 0;
}

/* ---- files created by writing ---- */

static struct famrtd_grow *grow_find(struct famrtd *d,
				     const struct famrtd_session *s,
				     uint64_t handle)
{
	for (struct famrtd_grow *g = d->grows; g; g = g->next)
		if (g->handle == handle && g->owner == s)
			return g;
	return NULL;
}

static void grow_drop(struct famrtd *d, struct famrtd_grow *g)
{
	struct famrtd_grow **pp;

	for (pp = &d->grows; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	famrt_fs_unreserve(d->fs, &g->r);
	g->owner->ngrows--;
	free(g);
}

void famrtd_session_end(struct famrtd *d, struct famrtd_session *s)
{
	struct famrtd_grow *g = d->grows, *next;

	for (; g; g = next) {
		next = g->next;
		if (g->owner == s) {
			famrtd_log("client went away: dropping unfinished file "
				   "'%s' (%llu bytes reserved)",
				   g->path, (unsigned long long)g->r.bytes);
			grow_drop(d, g);
		}
	}
}

static int op_begin(struct famrtd *d, struct famrtd_session *s,
		    const struct famrtd_cred *c, const struct famrt_proto_req *q,
		    struct reply *r, struct famrt_err *e)
{
	const struct famrt_proto_mkdir_req *rq = &q->u.mkdir;
	const struct famrt_node *x;
	struct famrtd_grow *g;
	gid_t gid;
	int rc;

	if (!d->fs->is_master)
		return famrt_err_set(e, EROFS,
				     "file system '%s' is changed only by its "
				     "master host '%s'; this host is '%s'",
				     d->fs->sb.name, d->fs->sb.master,
				     d->fs->host_id);
	if (s->ngrows >= FAMRTD_MAX_GROWS_PER_CLIENT)
		return famrt_err_set(e, EMFILE,
				     "this client already writes %u new files",
				     s->ngrows);
	rc = prepare_new(d, c, rq->path, rq->path_len, &gid, e);
	if (rc)
		return rc;
	x = famrt_ns_lookup(d->fs->ns, rq->path, rq->path_len, &rc, NULL);
	if (x)
		return famrt_err_set(e, EEXIST, "'%.*s' already exists",
				     (int)rq->path_len, rq->path);
	for (g = d->grows; g; g = g->next)
		if (strlen(g->path) == rq->path_len &&
		    !memcmp(g->path, rq->path, rq->path_len))
			return famrt_err_set(e, EEXIST,
					     "'%.*s' is being written by another "
					     "client",
					     (int)rq->path_len, rq->path);
	g = calloc(1, sizeof(*g));
	if (!g)
		return famrt_err_set(e, ENOMEM, "out of memory");
	g->handle = ++d->next_handle;
	g->owner = s;
	g->mode = rq->mode;
	g->uid = c->uid;
	g->gid = gid;
	memcpy(g->path, rq->path, rq->path_len);
	g->path[rq->path_len] = '\0';
	g->next = d->grows;
	d->grows = g;
	s->ngrows++;
	famrt_msg_u64(&r->m, g->handle);
	return 0;
}

static int op_alloc(struct famrtd *d, struct famrtd_session *s,
		    const struct famrt_proto_req *q, struct reply *r,
		    struct famrt_err *e)
{
	struct famrtd_grow *g = grow_find(d, s, q->u.alloc.handle);
	uint32_t added;
	int rc;

	if (!g)
		return famrt_err_set(e, EBADF, "no file being written with "
					       "handle %llu",
				     (unsigned long long)q->u.alloc.handle);
	rc = famrt_fs_reserve(d->fs, &g->r, q->u.alloc.bytes, &added, e);
	if (rc)
		return rc;
	famrt_proto_extents_put(&r->m, &g->r.ext[g->r.n - added], added);
	return 0;
}

static int op_commit(struct famrtd *d, struct famrtd_session *s,
		     const struct famrt_proto_req *q, struct reply *r,
		     struct famrt_err *e)
{
	const struct famrt_proto_commit_req *rq = &q->u.commit;
	struct famrtd_grow *g = grow_find(d, s, rq->handle);
	const struct famrt_node *n = NULL;
	struct famrt_proto_attr a;
	uint32_t mode;
	int rc;

	if (!g)
		return famrt_err_set(e, EBADF, "no file being written with "
					       "handle %llu",
				     (unsigned long long)rq->handle);
	mode = rq->mode == FAMRT_COMMIT_KEEP_MODE ? g->mode : rq->mode;
	if (!g->r.n) {
		/* Nothing written: still one unit, a map needs an extent. */
		uint32_t added;

		rc = famrt_fs_reserve(d->fs, &g->r, 1, &added, e);
		if (rc)
			return rc;
	}
	rc = famrt_fs_commit(d->fs, g->path, mode, g->uid, g->gid, rq->size,
			     &g->r, &n, e);
	if (rc)
		return rc;
	attr_of(n, &a);
	famrt_proto_attr_put(&r->m, &a);
	grow_drop(d, g);
	return 0;
}

static int op_abort(struct famrtd *d, struct famrtd_session *s,
		    const struct famrt_proto_req *q, struct famrt_err *e)
{
	struct famrtd_grow *g = grow_find(d, s, q->u.ino.ino);

	if (!g)
		return famrt_err_set(e, EBADF, "no file being written with "
					       "handle %llu",
				     (unsigned long long)q->u.ino.ino);
	grow_drop(d, g);
	return 0;
}

size_t famrtd_handle(struct famrtd *d, const struct famrtd_cred *cred,
		     const uint8_t *req, size_t len, uint8_t *out, size_t cap,
		     int *fds, int *nfds, bool *close_after)
{
	return famrtd_handle_session(d, NULL, cred, req, len, out, cap, fds,
				     nfds, close_after);
}

size_t famrtd_handle_session(struct famrtd *d, struct famrtd_session *s,
			     const struct famrtd_cred *cred, const uint8_t *req,
			     size_t len, uint8_t *out, size_t cap, int *fds,
			     int *nfds, bool *close_after)
{
	struct famrt_proto_req q;
	struct famrt_err e;
	struct reply r;
	ssize_t n;
	int rc;

	*nfds = 0;
	*close_after = false;
	d->requests++;
	famrt_err_clear(&e);
	rc = famrt_proto_req_decode(req, len, &q, &e);
	if (rc) {
		d->bad_messages++;
		/* Without a readable header there is no conversation. */
		if (rc == -EPROTO || rc == -EMSGSIZE)
			*close_after = true;
		if (d->cfg.verbose)
			famrtd_log("client pid %d: bad request: %s",
				   (int)cred->pid, e.msg);
		return error_reply(out, cap, &q.hdr, rc, e.msg);
	}
	/* Catch up first, so an answer is never older than the request. */
	famrtd_follow(d);
	reply_start(&r, out, cap, &q.hdr);
	switch (q.hdr.op) {
	case FAMRT_OP_HELLO:
		rc = op_hello(d, &r);
		break;
	case FAMRT_OP_DEVICES:
		rc = op_devices(d, cred, &r, fds, nfds);
		break;
	case FAMRT_OP_LOOKUP:
		rc = op_lookup(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_GETATTR:
		rc = op_getattr(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_READDIR:
		rc = op_readdir(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_GET_FMAP:
		rc = op_get_fmap(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_CREATE:
		rc = op_create(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_MKDIR:
		rc = op_mkdir(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_STATFS:
		rc = op_statfs(d, &r);
		break;
	case FAMRT_OP_OPEN:
		rc = op_open(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_SETATTR:
		rc = op_setattr(d, cred, &q, &r, &e);
		break;
	case FAMRT_OP_BEGIN:
	case FAMRT_OP_ALLOC:
	case FAMRT_OP_COMMIT:
	case FAMRT_OP_ABORT:
		if (!s) {
			rc = famrt_err_set(&e, EOPNOTSUPP,
					   "%s needs a connection",
					   famrt_op_name(q.hdr.op));
			break;
		}
		if (q.hdr.op == FAMRT_OP_BEGIN)
			rc = op_begin(d, s, cred, &q, &r, &e);
		else if (q.hdr.op == FAMRT_OP_ALLOC)
			rc = op_alloc(d, s, &q, &r, &e);
		else if (q.hdr.op == FAMRT_OP_COMMIT)
			rc = op_commit(d, s, &q, &r, &e);
		else
			rc = op_abort(d, s, &q, &e);
		break;
	default:
		rc = famrt_err_set(&e, EOPNOTSUPP, "unknown operation %u",
				   q.hdr.op);
	}
	if (!rc) {
		n = famrt_msg_finish(&r.m, &r.h);
		if (n > 0)
			return (size_t)n;
		rc = famrt_err_set(&e, EMSGSIZE, "reply does not fit a message");
	}
	*nfds = 0;
	d->errors++;
	if (rc != -ENOENT && rc != -EEXIST && d->cfg.verbose)
		famrtd_log("client pid %d uid %u: %s: %s", (int)cred->pid,
			   (unsigned)cred->uid, famrt_op_name(q.hdr.op), e.msg);
	return error_reply(out, cap, &q.hdr, rc,
			   e.msg[0] ? e.msg : strerror(-rc));
}
