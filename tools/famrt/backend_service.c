/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service backend: the commands talk to the famrtd that serves the
 * file system on this host. famrt_backend_open() chooses it whenever a
 * service answers on the file system's socket, so that changes are made
 * by the one process that appends for this host (and that holds the
 * reservations of files being written), never behind its back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "dax/dax.h"
#include "meta/probe.h"
#include "proto/client.h"

struct service {
	struct famrt_backend be;
	struct famrt_client *c;
	struct famrt_dev dev[FAMRT_MAX_DEVS];
	bool fds_taken;
	int fds[FAMRT_MAX_DEVS];
	uint32_t access[FAMRT_MAX_DEVS];
};

static struct service *to_svc(struct famrt_backend *be)
{
	return (struct service *)be;
}

static void svc_close(struct famrt_backend *be)
{
	struct service *s = to_svc(be);

	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++) {
		if (s->dev[i].fd >= 0 && s->dev[i].kind)
			famrt_dev_close(&s->dev[i]);
		else if (s->fds_taken && s->fds[i] >= 0)
			close(s->fds[i]);
	}
	famrt_client_close(s->c);
	free(s);
}

static int svc_lookup(struct famrt_backend *be, const char *path,
		      struct famrt_proto_attr *a, struct famrt_err *e)
{
	return famrt_client_lookup(to_svc(be)->c, path, a, e);
}

static int svc_getattr(struct famrt_backend *be, uint64_t ino,
		       struct famrt_proto_attr *a, struct famrt_err *e)
{
	return famrt_client_getattr(to_svc(be)->c, ino, a, e);
}

static int svc_readdir(struct famrt_backend *be, uint64_t ino,
		       uint64_t cookie, uint32_t max,
		       famrt_backend_dirent_fn fn, void *arg,
		       uint64_t *next_cookie, struct famrt_err *e)
{
	return famrt_client_readdir(to_svc(be)->c, ino, cookie, max, fn, arg,
				    next_cookie, e);
}

static int svc_get_fmap(struct famrt_backend *be, uint64_t ino, uint8_t *buf,
			size_t cap, size_t *len, struct famrt_err *e)
{
	struct famrt_fmap *map = NULL;
	int rc;

	if (cap < FAMRT_FMAP_MSG_MAX)
		return famrt_err_set(e, EINVAL, "fmap buffer too small");
	rc = famrt_client_get_fmap(to_svc(be)->c, ino, &map, buf, len, e);
	famrt_fmap_free(map);
	return rc;
}

static int svc_create(struct famrt_backend *be, const char *path,
		      uint32_t mode, uint64_t size,
		      const struct famrt_alloc_layout *lay,
		      struct famrt_proto_attr *a, struct famrt_err *e)
{
	struct famrt_proto_create_req r = { .mode = mode, .size = size };
	struct famrt_proto_attr local;

	if (!a)
		a = &local;
	if (lay) {
		if (lay->chunk > UINT32_MAX)
			return famrt_err_set(e, EINVAL,
					     "chunk size %llu is over 4 GiB",
					     (unsigned long long)lay->chunk);
		r.layout = lay->kind == FAMRT_LAYOUT_INTERLEAVE ? 1 : 0;
		r.nstrips = lay->nstrips;
		r.chunk = (uint32_t)lay->chunk;
		r.ndevs = lay->ndevs;
		memcpy(r.devs, lay->devs, sizeof(r.devs));
	}
	return famrt_client_create(to_svc(be)->c, path, &r, a, e);
}

static int svc_mkdir(struct famrt_backend *be, const char *path,
		     uint32_t mode, struct famrt_proto_attr *a,
		     struct famrt_err *e)
{
	struct famrt_proto_attr local;

	return famrt_client_mkdir(to_svc(be)->c, path, mode, a ? a : &local, e);
}

static int svc_statfs(struct famrt_backend *be,
		      struct famrt_proto_statfs_rep *st, struct famrt_err *e)
{
	return famrt_client_statfs(to_svc(be)->c, st, e);
}

/* Map device index from the descriptor famrtd passed (once). */
static int svc_device_map(struct famrt_backend *be, uint32_t index,
			  struct famrt_backend_map *m, struct famrt_err *e)
{
	struct service *s = to_svc(be);
	struct famrt_dev *d;
	char name[32];
	int rc;

	if (index >= be->info.ndevs)
		return famrt_err_set(e, EINVAL, "no device %u", index);
	d = &s->dev[index];
	if (!d->base) {
		if (!s->fds_taken) {
			rc = famrt_client_device_fds(s->c, s->fds, s->access,
						     e);
			if (rc)
				return rc;
			s->fds_taken = true;
		}
		if (s->fds[index] < 0)
			return famrt_err_set(e, EACCES,
					     "famrtd gives this user no access "
					     "to device %u",
					     index);
		snprintf(name, sizeof(name), "device %u", index);
		rc = famrt_dev_open_fd(d, s->fds[index], name,
				       s->access[index] == FAMRT_DEV_ACCESS_RW,
				       e);
		s->fds[index] = -1; /* owned by d now, even on failure */
		if (!rc) {
			if (be->info.dev[index].align > d->align)
				d->align = be->info.dev[index].align;
			rc = famrt_dev_map(d, e);
		}
		if (rc) {
			famrt_dev_close(d);
			return rc;
		}
	}
	m->base = d->base;
	m->size = be->info.dev[index].size;
	m->writable = d->writable;
	return 0;
}

static const struct famrt_backend_ops service_ops = {
	.close = svc_close,
	.lookup = svc_lookup,
	.getattr = svc_getattr,
	.readdir = svc_readdir,
	.get_fmap = svc_get_fmap,
	.create = svc_create,
	.mkdir = svc_mkdir,
	.statfs = svc_statfs,
	.device_map = svc_device_map,
	/* Per-device statistics, the raw log and adding devices are done on
	 * the devices themselves (famrt_backend_open picks direct for them). */
};

/*
 * The socket of the service for file system spec, from $FAMRT_SOCKET or
 * the uuid in device 0's superblock. -ENOENT when there is none to try.
 */
static int socket_for(const char *spec, char *out, size_t len,
		      struct famrt_err *e)
{
	const char *env = getenv("FAMRT_SOCKET");
	char first[PATH_MAX];
	struct famrt_sb sb;
	size_t n = strcspn(spec, ",");
	int rc;

	if (env && *env) {
		if ((size_t)snprintf(out, len, "%s", env) >= len)
			return famrt_err_set(e, ENAMETOOLONG,
					     "FAMRT_SOCKET is too long");
		return 0;
	}
	if (n >= sizeof(first))
		return famrt_err_set(e, ENAMETOOLONG, "device path too long");
	memcpy(first, spec, n);
	first[n] = '\0';
	rc = famrt_fs_probe(first, &sb, e);
	if (rc == -EACCES || rc == -EPERM) {
		/* Device 0 is not ours to read: famrtd's name for it. */
		rc = famrt_client_socket_alias(first, NULL, out, len);
		return rc ? famrt_err_set(e, -rc, "cannot stat '%s'", first) :
			    0;
	}
	if (rc)
		return rc;
	if (famrt_client_socket_path(sb.uuid, out, len))
		return famrt_err_set(e, ENAMETOOLONG, "socket path too long");
	return 0;
}

int famrt_backend_open_service(struct famrt_backend **out, const char *spec,
			       struct famrt_err *e)
{
	const struct famrt_proto_hello_rep *h;
	const struct famrt_proto_devices_rep *t;
	struct famrt_backend_info *info;
	struct famrt_fs_spec fsp;
	struct service *s;
	char sock[PATH_MAX];
	int rc;

	*out = NULL;
	rc = socket_for(spec, sock, sizeof(sock), e);
	if (rc)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return famrt_err_set(e, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < FAMRT_MAX_DEVS; i++) {
		s->dev[i].fd = -1;
		s->fds[i] = -1;
	}
	rc = famrt_client_connect(&s->c, sock, e);
	if (rc) {
		free(s);
		return rc;
	}
	h = famrt_client_hello(s->c);
	t = famrt_client_devtable(s->c);
	info = &s->be.info;
	info->kind = "service";
	memcpy(info->fs_uuid, h->fs_uuid, 16);
	snprintf(info->fs_name, sizeof(info->fs_name), "%s", h->fs_name);
	snprintf(info->host_id, sizeof(info->host_id), "%s", h->host_id);
	snprintf(info->master, sizeof(info->master), "%s", h->master);
	info->is_master = h->flags & FAMRT_HELLO_MASTER;
	info->noncoherent = h->flags & FAMRT_HELLO_NONCOHERENT;
	info->alloc_unit = h->alloc_unit;
	info->ndevs = t->ndevs;
	memset(&fsp, 0, sizeof(fsp));
	famrt_fs_spec_parse(&fsp, spec, NULL);
	for (uint32_t i = 0; i < t->ndevs; i++) {
		info->dev[i].size = t->dev[i].size;
		info->dev[i].align = t->dev[i].align;
		memcpy(info->dev[i].uuid, t->dev[i].uuid, 16);
		snprintf(info->dev[i].path, sizeof(info->dev[i].path), "%s",
			 i < fsp.n ? fsp.paths[i] : "(via famrtd)");
	}
	famrt_fs_spec_free(&fsp);
	s->be.ops = &service_ops;
	*out = &s->be;
	return 0;
}

int famrt_backend_service_pid(const char *spec)
{
	struct famrt_client *c;
	struct famrt_err e;
	char sock[PATH_MAX];
	int pid;

	if (socket_for(spec, sock, sizeof(sock), &e) ||
	    famrt_client_connect(&c, sock, &e))
		return 0;
	pid = (int)famrt_client_hello(c)->server_pid;
	famrt_client_close(c);
	return pid > 0 ? pid : 1;
}
