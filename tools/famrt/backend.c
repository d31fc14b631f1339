/* SPDX-License-Identifier: Apache-2.0 */
/* The commands' way to a file system; the direct backend. See backend.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "dax/dax.h"

/* ---- naming a file system ---- */

int famrt_fs_spec_parse(struct famrt_fs_spec *s, const char *spec,
			struct famrt_err *e)
{
	char *p;

	memset(s, 0, sizeof(*s));
	if (!spec || !*spec)
		return famrt_err_set(e, EINVAL,
				     "no devices: name the file system by its "
				     "devices, device 0 first "
				     "(DEV0[,DEV1...])");
	s->buf_ = strdup(spec);
	if (!s->buf_)
		return famrt_err_set(e, ENOMEM, "out of memory");
	p = s->buf_;
	for (;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (!*p)
			return famrt_err_set(e, EINVAL,
					     "'%s': device %u has an empty path",
					     spec, s->n);
		if (s->n == FAMRT_MAX_DEVS)
			return famrt_err_set(e, E2BIG,
					     "'%s': a file system has at most "
					     "%u devices",
					     spec, FAMRT_MAX_DEVS);
		s->paths[s->n++] = p;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

void famrt_fs_spec_free(struct famrt_fs_spec *s)
{
	free(s->buf_);
	memset(s, 0, sizeof(*s));
}

uint32_t famrt_backend_default_mode(bool dir)
{
	mode_t mask = umask(0);

	umask(mask);
	return (dir ? 0755u : 0644u) & ~(uint32_t)mask;
}

void famrt_backend_fmap_limits(const struct famrt_backend *be,
			       struct famrt_fmap_limits *lim,
			       uint64_t *sizes, uint64_t *aligns)
{
	for (uint32_t i = 0; i < be->info.ndevs; i++) {
		sizes[i] = be->info.dev[i].size;
		aligns[i] = be->info.dev[i].align;
	}
	memset(lim, 0, sizeof(*lim));
	lim->size = sizeof(*lim);
	lim->align = 4096;
	lim->ndevices = be->info.ndevs;
	lim->dev_size = sizes;
	lim->dev_align = aligns;
}

/* ---- the direct backend ---- */

struct direct {
	struct famrt_backend be;
	struct famrt_fs *fs;
	struct famrt_fs_spec spec;
};

static struct direct *to_direct(struct famrt_backend *be)
{
	return (struct direct *)be;
}

static void direct_info(struct direct *d)
{
	struct famrt_backend_info *in = &d->be.info;
	const struct famrt_fs *fs = d->fs;

	in->kind = "direct";
	memcpy(in->fs_uuid, fs->sb.uuid, 16);
	snprintf(in->fs_name, sizeof(in->fs_name), "%s", fs->sb.name);
	snprintf(in->host_id, sizeof(in->host_id), "%s", fs->host_id);
	snprintf(in->master, sizeof(in->master), "%s", fs->sb.master);
	in->is_master = fs->is_master;
	in->noncoherent = fs->sb.flags & FAMRT_SB_NONCOHERENT;
	in->readonly = fs->readonly;
	in->alloc_unit = fs->sb.alloc_unit;
	in->ndevs = fs->ndevs;
	for (uint32_t i = 0; i < fs->ndevs; i++) {
		struct famrt_backend_dev *bd = &in->dev[i];

		snprintf(bd->path, sizeof(bd->path), "%s",
			 i < fs->nopen ? fs->dev[i].path : "");
		bd->size = fs->devs[i].size;
		bd->align = fs->devs[i].align;
		memcpy(bd->uuid, fs->devs[i].uuid, 16);
	}
}

static uint64_t alloc_bytes(const struct famrt_node *n)
{
	uint32_t ne = n->fmap ? famrt_fmap_nextents(n->fmap) : 0;
	uint64_t total = 0;

	for (uint32_t i = 0; i < ne; i++) {
		struct famrt_fmap_extent x;

		if (famrt_fmap_get_extent(n->fmap, i, &x))
			break;
		for (uint32_t j = 0; j < x.nstrips; j++)
			total += x.strips[j].len;
	}
	return total;
}

static void node_attr(const struct famrt_node *n, struct famrt_proto_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = n->ino;
	a->parent = n->parent;
	a->mode = n->mode;
	a->uid = n->uid;
	a->gid = n->gid;
	a->nlink = n->nlink;
	a->size = n->size;
	a->alloc_bytes = alloc_bytes(n);
	a->mtime_ns = n->mtime_ns;
}

static int direct_follow(struct direct *d, struct famrt_err *e)
{
	int rc = famrt_fs_follow(d->fs, NULL, e);

	if (!rc)
		d->be.info.ndevs = d->fs->ndevs;
	return rc;
}

static void direct_close(struct famrt_backend *be)
{
	struct direct *d = to_direct(be);

	famrt_fs_close(d->fs);
	famrt_fs_spec_free(&d->spec);
	free(d);
}

static int direct_lookup(struct famrt_backend *be, const char *path,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	const struct famrt_node *n;
	int rc = direct_follow(d, e);

	if (rc)
		return rc;
	n = famrt_fs_lookup(d->fs, path, &rc, e);
	if (!n)
		return rc ? rc : -ENOENT;
	node_attr(n, a);
	return 0;
}

static const struct famrt_node *by_ino(struct direct *d, uint64_t ino,
				       struct famrt_err *e)
{
	const struct famrt_node *n = famrt_ns_by_ino(d->fs->ns, ino);

	if (!n)
		famrt_err_set(e, ENOENT, "no inode %llu in file system '%s'",
			      (unsigned long long)ino, d->fs->sb.name);
	return n;
}

static int direct_getattr(struct famrt_backend *be, uint64_t ino,
			  struct famrt_proto_attr *a, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	const struct famrt_node *n;
	int rc = direct_follow(d, e);

	if (rc)
		return rc;
	n = by_ino(d, ino, e);
	if (!n)
		return -ENOENT;
	node_attr(n, a);
	return 0;
}

struct readdir_ctx {
	famrt_backend_dirent_fn fn;
	void *arg;
};

static int readdir_one(const struct famrt_node *n, void *arg)
{
	struct readdir_ctx *c = arg;
	struct famrt_proto_dirent de = {
		.ino = n->ino,
		.mode = n->mode,
		.name_len = n->name_len,
		.name = n->name,
	};

	return c->fn(&de, c->arg);
}

static int direct_readdir(struct famrt_backend *be, uint64_t ino,
			  uint64_t cookie, uint32_t max,
			  famrt_backend_dirent_fn fn, void *arg,
			  uint64_t *next_cookie, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	struct readdir_ctx c = { fn, arg };
	const struct famrt_node *n;
	int rc = direct_follow(d, e);

	if (rc)
		return rc;
	n = by_ino(d, ino, e);
	if (!n)
		return -ENOENT;
	if (!S_ISDIR(n->mode))
		return famrt_err_set(e, ENOTDIR, "inode %llu is not a directory",
				     (unsigned long long)ino);
	*next_cookie = famrt_ns_readdir(d->fs->ns, n, cookie, max,
					readdir_one, &c);
	return 0;
}

static int direct_get_fmap(struct famrt_backend *be, uint64_t ino,
			   uint8_t *buf, size_t cap, size_t *len,
			   struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	const struct famrt_node *n = by_ino(d, ino, e);

	if (!n)
		return -ENOENT;
	if (!S_ISREG(n->mode) || !n->fmap_msg)
		return famrt_err_set(e, EISDIR,
				     "inode %llu is a directory: it has no map",
				     (unsigned long long)ino);
	if (n->fmap_len > cap)
		return famrt_err_set(e, ENOSPC,
				     "the map of inode %llu is %u bytes, more "
				     "than the %zu-byte buffer",
				     (unsigned long long)ino, n->fmap_len, cap);
	memcpy(buf, n->fmap_msg, n->fmap_len);
	*len = n->fmap_len;
	return 0;
}

static int direct_create(struct famrt_backend *be, const char *path,
			 uint32_t mode, uint64_t size,
			 const struct famrt_alloc_layout *lay,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	const struct famrt_node *n = NULL;
	int rc;

	rc = famrt_fs_create(d->fs, path, mode, (uint32_t)geteuid(),
			     (uint32_t)getegid(), size, lay, &n, e);
	if (rc)
		return rc;
	if (a && n)
		node_attr(n, a);
	return 0;
}

static int direct_mkdir(struct famrt_backend *be, const char *path,
			uint32_t mode, struct famrt_proto_attr *a,
			struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	const struct famrt_node *n = NULL;
	int rc;

	rc = famrt_fs_mkdir(d->fs, path, mode, (uint32_t)geteuid(),
			    (uint32_t)getegid(), &n, e);
	if (rc)
		return rc;
	if (a && n)
		node_attr(n, a);
	return 0;
}

static int direct_statfs(struct famrt_backend *be,
			 struct famrt_proto_statfs_rep *s, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	struct famrt_alloc_stats st;
	int rc = direct_follow(d, e);

	if (rc)
		return rc;
	famrt_alloc_get_stats(d->fs->alloc, &st);
	memset(s, 0, sizeof(*s));
	s->size = st.size;
	s->free = st.free;
	s->largest_free = st.largest_free;
	s->free_runs = st.free_runs;
	s->files = famrt_ns_nfiles(d->fs->ns);
	s->dirs = famrt_ns_ndirs(d->fs->ns);
	s->log_used = d->fs->pos;
	s->log_size = d->fs->sb.log_size;
	s->entries = d->fs->nentries;
	s->alloc_unit = d->fs->sb.alloc_unit;
	s->ndevs = d->fs->ndevs;
	return 0;
}

static int direct_alloc_stats(struct famrt_backend *be,
			      struct famrt_alloc_stats *s, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	int rc = direct_follow(d, e);

	if (!rc)
		famrt_alloc_get_stats(d->fs->alloc, s);
	return rc;
}

static int direct_device_map(struct famrt_backend *be, uint32_t index,
			     struct famrt_backend_map *m, struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	const struct famrt_dev *dev;

	if (index >= d->fs->ndevs)
		return famrt_err_set(e, ENODEV,
				     "file system '%s' has no device %u (it "
				     "has %u)",
				     d->fs->sb.name, index, d->fs->ndevs);
	if (index >= d->fs->nopen || !d->fs->dev[index].base)
		return famrt_err_set(e, ENODEV,
				     "device %u of file system '%s' was not "
				     "given: name all %u devices",
				     index, d->fs->sb.name, d->fs->ndevs);
	dev = &d->fs->dev[index];
	m->base = dev->base;
	m->size = dev->map_len;
	m->writable = dev->writable;
	return 0;
}

static int direct_log_next(struct famrt_backend *be,
			   struct famrt_log_cursor *c,
			   struct famrt_entry_hdr *h, const uint8_t **payload,
			   struct famrt_err *e)
{
	return famrt_fs_log_next(to_direct(be)->fs, c, h, payload, e);
}

static int direct_add_device(struct famrt_backend *be, const char *path,
			     struct famrt_err *e)
{
	struct direct *d = to_direct(be);
	int rc = famrt_fs_add_device(d->fs, path, e);

	direct_info(d);
	return rc;
}

static const struct famrt_backend_ops direct_ops = {
	.close = direct_close,
	.lookup = direct_lookup,
	.getattr = direct_getattr,
	.readdir = direct_readdir,
	.get_fmap = direct_get_fmap,
	.create = direct_create,
	.mkdir = direct_mkdir,
	.statfs = direct_statfs,
	.device_map = direct_device_map,
	.alloc_stats = direct_alloc_stats,
	.log_next = direct_log_next,
	.add_device = direct_add_device,
};

/*
 * famrt_fs_open() says only "no superblock" when device 0 is another
 * device of a file system: say which one it is.
 */
static void explain_no_superblock(const struct famrt_fs_spec *s,
				  struct famrt_err *e)
{
	struct famrt_dev dev;
	struct famrt_label l;
	char u[37];

	memset(&dev, 0, sizeof(dev));
	if (famrt_dev_open(&dev, s->paths[0], O_RDONLY, NULL) ||
	    famrt_dev_map(&dev, NULL) || dev.size < FAMRT_LABEL_SIZE) {
		famrt_dev_close(&dev);
		return;
	}
	famrt_invalidate_range(dev.base, FAMRT_LABEL_SIZE);
	if (!famrt_label_decode(dev.base, &l, NULL)) {
		famrt_uuid_format(l.fs_uuid, u);
		famrt_err_set(e, EINVAL,
			      "'%s' was given as device 0, but it is device %u "
			      "of famrt file system %s: list the devices in "
			      "their order, device 0 (the one with the "
			      "superblock) first",
			      s->paths[0], l.devindex, u);
	}
	famrt_dev_close(&dev);
}

int famrt_backend_open_direct(struct famrt_backend **out,
			      const struct famrt_backend_opts *o,
			      struct famrt_err *e)
{
	struct famrt_fs_opts fo = { .host_id = o->host_id,
				    .readonly = o->readonly };
	struct direct *d;
	int rc;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return famrt_err_set(e, ENOMEM, "out of memory");
	rc = famrt_fs_spec_parse(&d->spec, o->fs, e);
	if (!rc)
		rc = famrt_fs_open(&d->fs, d->spec.paths, d->spec.n, &fo, e);
	if (rc == -ENOENT && !access(d->spec.paths[0], F_OK))
		explain_no_superblock(&d->spec, e);
	if (rc) {
		famrt_fs_spec_free(&d->spec);
		free(d);
		return e && e->code ? -e->code : rc;
	}
	if (d->fs->nopen < d->fs->ndevs) {
		/* The log added devices that were not given: refuse, or a
		 * create could allocate on a device this process cannot
		 * write. */
		rc = famrt_err_set(e, EINVAL,
				   "file system '%s' has %u devices (the log "
				   "added device %u) but %u were given: name "
				   "them all, device 0 first",
				   d->fs->sb.name, d->fs->ndevs, d->fs->nopen,
				   d->fs->nopen);
		famrt_fs_close(d->fs);
		famrt_fs_spec_free(&d->spec);
		free(d);
		return rc;
	}
	d->be.ops = &direct_ops;
	direct_info(d);
	*out = &d->be;
	return 0;
}

/*
 * Which way to the file system: $FAMRT_CLI_BACKEND=direct or service
 * forces one. Otherwise read-only commands read the devices directly when
 * they may (no service needed, nothing changes), and every change goes
 * through famrtd when one serves the file system on this host: it is the
 * one appender of this host, and it holds the reservations of files being
 * written, which a direct appender would not see. With no service, changes
 * are appended directly, under the log's lock.
 */
int famrt_backend_open(struct famrt_backend **out,
		       const struct famrt_backend_opts *o, struct famrt_err *e)
{
	const char *force = getenv("FAMRT_CLI_BACKEND");
	struct famrt_err se;
	int rc;

	*out = NULL;
	if (force && !strcmp(force, "direct"))
		return famrt_backend_open_direct(out, o, e);
	if (force && !strcmp(force, "service"))
		return famrt_backend_open_service(out, o->fs, e);
	if (o->readonly) {
		rc = famrt_backend_open_direct(out, o, e);
		if (rc != -EACCES && rc != -EPERM)
			return rc;
		/* Not allowed to read the devices: famrtd may say more. */
		if (!famrt_backend_open_service(out, o->fs, &se))
			return 0;
		{
			char both[sizeof(e->msg)];

			/* Cut short if long: both reasons matter. */
			if (snprintf(both, sizeof(both), "%s; through famrtd: %s",
				     e->msg, se.msg) >= 0)
				memcpy(e->msg, both, sizeof(both));
		}
		return rc;
	}
	rc = famrt_backend_open_service(out, o->fs, &se);
	if (!rc)
		return 0;
	if (rc != -ENOENT && rc != -ECONNREFUSED && rc != -EACCES) {
		/* A service is there but unusable: do not go behind it. */
		*e = se;
		return rc;
	}
	return famrt_backend_open_direct(out, o, e);
}

/* ---- dispatch ---- */

void famrt_backend_close(struct famrt_backend *be)
{
	if (be)
		be->ops->close(be);
}

int famrt_backend_lookup(struct famrt_backend *be, const char *path,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	return be->ops->lookup(be, path, a, e);
}

int famrt_backend_getattr(struct famrt_backend *be, uint64_t ino,
			  struct famrt_proto_attr *a, struct famrt_err *e)
{
	return be->ops->getattr(be, ino, a, e);
}

int famrt_backend_readdir(struct famrt_backend *be, uint64_t ino,
			  uint64_t cookie, uint32_t max,
			  famrt_backend_dirent_fn fn, void *arg,
			  uint64_t *next_cookie, struct famrt_err *e)
{
	if (!max || max > FAMRT_PROTO_READDIR_MAX)
		return famrt_err_set(e, EINVAL,
				     "readdir of %u entries: 1 to %u at a time",
				     max, FAMRT_PROTO_READDIR_MAX);
	return be->ops->readdir(be, ino, cookie, max, fn, arg, next_cookie,
				e);
}

int famrt_backend_get_fmap(struct famrt_backend *be, uint64_t ino,
			   uint8_t *buf, size_t cap, size_t *len,
			   struct famrt_err *e)
{
	return be->ops->get_fmap(be, ino, buf, cap, len, e);
}

int famrt_backend_create(struct famrt_backend *be, const char *path,
			 uint32_t mode, uint64_t size,
			 const struct famrt_alloc_layout *lay,
			 struct famrt_proto_attr *a, struct famrt_err *e)
{
	return be->ops->create(be, path, mode, size, lay, a, e);
}

int famrt_backend_mkdir(struct famrt_backend *be, const char *path,
			uint32_t mode, struct famrt_proto_attr *a,
			struct famrt_err *e)
{
	return be->ops->mkdir(be, path, mode, a, e);
}

int famrt_backend_statfs(struct famrt_backend *be,
			 struct famrt_proto_statfs_rep *s, struct famrt_err *e)
{
	return be->ops->statfs(be, s, e);
}

int famrt_backend_device_map(struct famrt_backend *be, uint32_t index,
			     struct famrt_backend_map *m, struct famrt_err *e)
{
	return be->ops->device_map(be, index, m, e);
}

static int unsupported(struct famrt_backend *be, const char *what,
		       struct famrt_err *e)
{
	if (!strcmp(be->info.kind, "service"))
		return famrt_err_set(e, EOPNOTSUPP,
				     "famrtd serves this file system and "
				     "cannot %s through its protocol: stop "
				     "famrtd first (for reading, "
				     "FAMRT_CLI_BACKEND=direct also works)",
				     what);
	return famrt_err_set(e, EOPNOTSUPP,
			     "the %s backend cannot %s", be->info.kind, what);
}

int famrt_backend_alloc_stats(struct famrt_backend *be,
			      struct famrt_alloc_stats *s, struct famrt_err *e)
{
	if (!be->ops->alloc_stats)
		return unsupported(be, "report per-device free space", e);
	return be->ops->alloc_stats(be, s, e);
}

int famrt_backend_log_next(struct famrt_backend *be,
			   struct famrt_log_cursor *c,
			   struct famrt_entry_hdr *h, const uint8_t **payload,
			   struct famrt_err *e)
{
	if (!be->ops->log_next)
		return unsupported(be, "read the log", e);
	return be->ops->log_next(be, c, h, payload, e);
}

int famrt_backend_add_device(struct famrt_backend *be, const char *path,
			     struct famrt_err *e)
{
	if (!be->ops->add_device)
		return unsupported(be, "add a device", e);
	return be->ops->add_device(be, path, e);
}
